"""`interp circuit-bench`: rows scored against the minimal truth of the compile each model
comes from, JSON last, resumable."""

from __future__ import annotations

import json

import torch

from interp.analysis.ablate import ablate
from interp.analysis.circuit_bench import node_auc
from interp.circuit import Circuit, Edge
from interp.cli import main
from interp.subjects.text import input_lengths
from rasp.compiler import compile_program
from rasp.compiler.batches import program_batches
from rasp.lib import PROGRAMS


def test_node_auc_by_hand() -> None:
    a, b, c = Edge("embed", "L0H0", "v"), Edge("L0H0", "logits", "in"), Edge("embed", "L0MLP", "in")
    truth = Circuit(["embed", "L0H0", "logits"], [a, b])
    # L0H0 scores max(|0.1|, |-0.9|) = 0.9 > L0MLP's 0.5: the one positive outranks the one
    # negative, AUC 1; swapped scores give 0.
    assert node_auc({a: 0.1, b: -0.9, c: 0.5}, truth, [a, b, c]) == 1.0
    assert node_auc({a: 0.1, b: 0.2, c: 0.5}, truth, [a, b, c]) == 0.0
    assert node_auc({a: 1.0, b: 1.0}, truth, [a, b]) is None  # no negative component


def test_circuit_bench_json_rows_and_resume(tmp_path, capsys) -> None:
    args = ["circuit-bench", "--programs", "reverse", "--kinds", "compiled,one_per_op",
            "--methods", "eap,acdc", "--max-len", "4", "--out", str(tmp_path), "--json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    rows = data["rows"]
    assert [(r["kind"], r["method"]) for r in rows] == [
        ("compiled", "eap"), ("compiled", "acdc"), ("one_per_op", "eap"), ("one_per_op", "acdc")]
    entry = PROGRAMS["reverse"]
    for row in rows:
        truth = compile_program(entry.build(), entry.vocab, 4,
                                one_per_op=row["kind"] == "one_per_op").circuit()
        assert row["truth"] == len(truth.edges)
        assert 0.0 <= row["auc"] <= 1.0 and 0.0 <= row["faithfulness"] <= 1.0
        if row["method"] == "acdc":  # ACDC recovers reverse's circuit exactly
            assert row["precision"] == row["recall"] == 1.0
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert len(lines) == 4
    # Rerun: every row is read back, nothing recomputed or appended.
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.count("(cached)") == 4
    assert json.loads(out.strip().splitlines()[-1])["rows"] == rows
    assert (tmp_path / "results.jsonl").read_text().splitlines() == lines


def test_circuit_bench_refuses_unknown_names(tmp_path, capsys) -> None:
    for bad in (["--programs", "nope"], ["--kinds", "siit2"], ["--methods", "magic"]):
        assert main(["circuit-bench", *bad, "--out", str(tmp_path)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error:")


def test_circuit_bench_scores_against_the_minimal_truth(tmp_path, capsys) -> None:
    """sort's BOS-fallback key read `embed->L2H0.k` changes no output (its selector always
    selects something), so the truth has one edge fewer than `circuit()`: checked here by
    ablating that edge on the bench's own inputs."""
    args = ["circuit-bench", "--programs", "sort", "--kinds", "compiled,one_per_op",
            "--methods", "eap", "--max-len", "4", "--out", str(tmp_path), "--json"]
    assert main(args) == 0
    rows = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["rows"]
    entry = PROGRAMS["sort"]
    inert = Edge.parse("embed->L2H0.k")
    for row in rows:
        compiled = compile_program(entry.build(), entry.vocab, 4, one_per_op=row["kind"] == "one_per_op")
        structural = compiled.circuit().edges
        assert inert in structural and row["truth"] == len(structural) - 1
        for batch in program_batches(compiled, entry.sample, input_lengths(4), 8):
            with torch.no_grad():
                clean = compiled.model(batch)
                with ablate(compiled.model, edges=[inert], kind="zero"):
                    assert float((compiled.model(batch) - clean)[:, 1:].abs().max()) < 1e-3

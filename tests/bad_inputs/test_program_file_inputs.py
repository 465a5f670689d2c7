"""Corrupt Transformer Program files (simplified.json / program.json): each is one
CheckpointError naming the file and the offending field, on load and in `interp decompile`,
before anything is built (under an address-space cap of the current size + 512 MB). Before,
several decompiled into a program that crashed when run, or an IndexError."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest
from bounded import bounded_memory

from interp.cli import build_parser
from interp.errors import CheckpointError
from interp.limits import set_limits
from interp.programs.pipeline import load_discrete_program
from interp.programs.program import BOS, EOS, DiscreteProgram, ProgramShape
from tests.programs.helpers import random_program

SHAPE = ProgramShape(tokens=[BOS, "0", "1", "2", EOS], labels=["0", "1", "2"], n_ctx=6, n_layers=2,
                     n_cat_heads=2, n_num_heads=1, n_cat_mlps=1, n_num_mlps=1)


@pytest.fixture(scope="module")
def good() -> dict:
    return random_program(SHAPE, 0).to_json()


def _set(path: str, value) -> Callable[[dict], None]:
    """An edit setting a dotted path (list indices as numbers) of the JSON."""
    def edit(data: dict) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target = data
        for part in parents:
            target = target[part]
        target[last] = value
    return edit


def _drop_last(path: str) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        target = data
        for part in [int(p) if p.isdigit() else p for p in path.split(".")]:
            target = target[part]
        target.pop()
    return edit


# name, edit, what the message must name
CASES = [
    ("head_q_negative", _set("layers.0.cat_heads.0.q", -1), "cat_heads[0].q"),
    ("head_q_out_of_range", _set("layers.0.cat_heads.0.q", 99), "cat_heads[0].q"),
    ("head_v_reads_a_later_variable", _set("layers.0.cat_heads.1.v", 2), "cat_heads[1].v"),
    ("head_q_string", _set("layers.1.cat_heads.0.q", "tokens"), "cat_heads[0].q"),
    ("num_head_k_out_of_range", _set("layers.0.num_heads.0.k", 50), "num_heads[0].k"),
    ("short_predicate", _drop_last("layers.0.cat_heads.0.predicate"), "predicate"),
    ("predicate_value_unknown", _set("layers.0.cat_heads.0.predicate.0", 99), "predicate"),
    ("predicate_value_string", _set("layers.0.num_heads.0.predicate.1", "x"), "predicate"),
    ("mlp_reads_out_of_range", _set("layers.0.cat_mlps.0.a", 40), "cat_mlps[0].a"),
    ("short_table_row", _drop_last("layers.0.cat_mlps.0.table.0"), "table"),
    ("table_value_unknown", _set("layers.1.num_mlps.0.table.0.0", -3), "table"),
    ("short_readout", _drop_last("readout_cat"), "readout_cat"),
    ("short_readout_row", _drop_last("readout_cat.0.0"), "readout_cat"),
    ("nan_readout", _set("readout_cat.2.1.0", math.nan), "readout_cat"),
    ("inf_bias", _set("readout_bias.0", math.inf), "readout_bias"),
    ("readout_string", _set("readout_num.0.0", "1.0"), "readout_num"),
    ("labels_3_for_8_classes", _set("shape.labels", ["a", "b"]), "readout"),
    ("labels_repeated", _set("shape.labels", ["0", "0", "1"]), "shape.labels"),
    ("n_ctx_a_million", _set("shape.n_ctx", 10**6), "shape.n_ctx"),
    ("n_ctx_zero", _set("shape.n_ctx", 0), "shape.n_ctx"),
    ("n_layers_mismatch", _set("shape.n_layers", 3), "layers"),
    ("n_layers_huge", _set("shape.n_layers", 10**6), "shape.n_layers"),
    ("heads_count_mismatch", _set("shape.n_cat_heads", 3), "cat_heads"),
    ("causal_string", _set("shape.causal", "no"), "shape.causal"),
    ("tokens_without_bos", _set("shape.tokens", ["0", "1", "2", "3", "4"]), "shape.tokens"),
    ("tokens_not_strings", _set("shape.tokens", [BOS, 1, 2]), "shape.tokens"),
    ("unknown_shape_field", _set("shape.d_model", 4), "d_model"),
    ("unknown_top_field", _set("weights", []), "weights"),
    ("missing_readout", lambda d: d.pop("readout_bias"), "readout_bias"),
    ("layer_not_an_object", _set("layers.0", [1, 2]), "layers[0]"),
    ("removed_unknown_name", _set("removed", {"attn_9_9": 0}), "attn_9_9"),
    ("removed_value_out_of_range", _set("removed", {"attn_0_0": 99}), "removed['attn_0_0']"),
    ("checked_not_text", _set("checked", 1), "checked"),
    ("not_an_object", lambda d: d.clear() or d.update({"0": 1}), "lacks"),
]


def _write(directory: Path, data) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else json.dumps(data)
    for name in ("simplified.json", "program.json"):
        (directory / name).write_text(text)


def _expect_both(directory: Path, fragment: str) -> None:
    with bounded_memory(), pytest.raises(CheckpointError) as info:
        load_discrete_program(directory)
    assert type(info.value) is CheckpointError
    assert "simplified.json" in str(info.value) and fragment in str(info.value), str(info.value)
    args = build_parser().parse_args(["decompile", str(directory)])
    with bounded_memory(), pytest.raises(CheckpointError, match="simplified.json"):
        args.handler(args)


@pytest.mark.parametrize("name,edit,fragment", CASES, ids=[c[0] for c in CASES])
def test_a_corrupt_program_file_is_one_error_naming_the_field(tmp_path: Path, good: dict, name, edit,
                                                              fragment):
    data = copy.deepcopy(good)
    edit(data)
    _write(tmp_path / "run", data)
    _expect_both(tmp_path / "run", fragment)


@pytest.mark.parametrize("text,fragment", [
    ("{", "not valid JSON"), ("[" * 100_000 + "]" * 100_000, "not valid JSON"), ("[1, 2]", "JSON object"),
    ("\xff\xfe", "not valid JSON"),
])
def test_unreadable_program_files(tmp_path: Path, text: str, fragment: str):
    _write(tmp_path / "run", text)
    _expect_both(tmp_path / "run", fragment)


def test_a_program_file_over_the_size_cap_is_refused_unread(tmp_path: Path, good: dict):
    _write(tmp_path / "run", good)
    previous = set_limits()
    try:
        set_limits(program_file_bytes=100)
        _expect_both(tmp_path / "run", "program_file_bytes")
    finally:
        set_limits(**previous.__dict__)


def test_a_valid_file_still_loads_and_runs(tmp_path: Path, good: dict):
    _write(tmp_path / "run", good)
    program = load_discrete_program(tmp_path / "run")
    assert program.to_json() == DiscreteProgram.from_json(good).to_json()

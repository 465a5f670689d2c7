"""SIIT (interp.training.siit): the interchange-intervention loss against a hand-computed
two-input example, the compiled high-level counterfactual against the interpreter, and a
tiny program trained to IIA 1.0."""

import math
from types import SimpleNamespace

import torch

from interp.model import HookedTransformer, ModelConfig
from interp.tasks.siit_task import SiitTask
from interp.training.siit import SiitConfig, siit_losses, train_siit
from rasp.evaluate import evaluate
from rasp.lib import PROGRAMS


def _averaging_model() -> HookedTransformer:
    """1 layer, 1 uniform head: logits(p) = onehot(base_p) + mean_q onehot(x_q), x the head's input."""
    cfg = ModelConfig(n_layers=1, d_model=2, n_ctx=2, d_vocab=2, n_heads=1, d_head=2, d_mlp=None,
                      d_vocab_out=2, normalization_type=None)
    model = HookedTransformer(cfg)
    eye = torch.eye(2)
    with torch.no_grad():
        for param in model.parameters():
            param.zero_()  # W_Q = W_K = 0: uniform attention; no positional embedding, no biases
        model.embed.W_E.copy_(eye)
        model.blocks[0].attn.W_V.copy_(eye[None])  # [head, d_model, d_head]
        model.blocks[0].attn.W_O.copy_(eye[None])  # [head, d_head, d_model]
        model.unembed.W_U.copy_(eye)
    return model


def test_interchange_loss_equals_the_hand_computed_value():
    model = _averaging_model()
    base, source = torch.tensor([[0, 1]]), torch.tensor([[1, 1]])
    targets = torch.tensor([[0, 1]])
    # The task's high level is stubbed: its counterfactual output is `targets` whatever is patched.
    task = SimpleNamespace(targets=lambda tokens, hooks=None: targets.expand(tokens.shape[0], -1),
                           compiled=SimpleNamespace(model=model),
                           unaligned=())
    losses = siit_losses(model, task, base, source, aligned=["L0H0"], unaligned=[])
    # Head output swapped from source: z = mean(onehot(1), onehot(1)) = [0, 1] at both positions.
    # Position 0 (token 0): logits [1, 0] + [0, 1] = [1, 1], target 0 -> log 2.
    # Position 1 (token 1): logits [0, 1] + [0, 1] = [0, 2], target 1 -> log(1 + e^2) - 2.
    expected = (math.log(2) + math.log(1 + math.e**2) - 2) / 2
    assert math.isclose(losses["iit"].item(), expected, rel_tol=1e-6)
    # Unpatched: z = mean(onehot(0), onehot(1)) = [.5, .5]; logits [1.5, .5] and [.5, 1.5].
    plain = math.log(1 + math.e**-1)  # the same at both positions
    assert math.isclose(losses["behaviour"].item(), plain, rel_tol=1e-6)
    assert losses["strict"].item() == 0.0


def test_swapping_the_output_aggregate_gives_the_sources_program_output():
    task = SiitTask("sort_unique", 4)
    generator = torch.Generator().manual_seed(3)
    base, source = task.draw_inputs(6, generator), task.draw_inputs(6, generator)
    from interp.evaluation.siit import counterfactual_targets

    (last,) = [c for c in task.aligned if c.startswith("L1H")]  # the `sort` Aggregate's head
    got = counterfactual_targets(task, base, source, last)
    vocab = task.compiled.vocab
    for row in range(6):
        tokens = [vocab[i - 1] for i in source[row, 1:].tolist()]
        want = [str(v) for v in evaluate(PROGRAMS["sort_unique"].build(), tokens)]
        assert [task.vocab_out[i] for i in got[row, 1:].tolist()] == want


def test_siit_trains_a_tiny_program_to_iia_one():
    config = SiitConfig(program="shift_by", seq_len=3, d_model=32, d_head=16, d_mlp=64, steps=400,
                        batch_size=32, eval_every=50, eval_pairs=100)
    result = train_siit(config)
    assert result.task.aligned == ("L0H0",)  # the one Aggregate: its head alone carries the output
    assert result.held_out["accuracy"] == 1.0
    assert result.held_out["iia"] == 1.0
    # Fresh pairs, checked against the interpreter: the swapped head moves the source's shifted
    # tokens into the base run.
    generator = torch.Generator().manual_seed(11)
    base, source = result.task.draw_inputs(50, generator), result.task.draw_inputs(50, generator)
    from interp.evaluation.siit import patched_logits

    with torch.no_grad():
        got = patched_logits(result.model, base, source, "L0H0").argmax(-1)
    vocab, program = result.task.compiled.vocab, PROGRAMS["shift_by"].build()
    for row in range(50):
        want = evaluate(program, [vocab[i - 1] for i in source[row, 1:].tolist()])
        names = [result.task.vocab_out[i] for i in got[row, 1:].tolist()]
        assert names == [str(v) for v in want]


def test_train_siit_cli_writes_a_card_and_eval_reads_it(tmp_path, capsys):
    import json

    from interp.cli import main
    from interp.shipped.card import read_card

    out = tmp_path / "run"
    argv = ["train-siit", "shift_by", "--steps", "100", "--seq-len", "3", "--extra-heads", "1",
            "--out", str(out), "--json"]
    assert main(argv) == 0
    card = read_card(out / "card.json")
    assert card["recipe"] == "siit" and card["config"]["task"]["extra_heads"] == 1
    assert card["report"]["unaligned_components"] == ["L0H1"]
    capsys.readouterr()
    assert main(["eval", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"accuracy", "iia", "strict_iia"} <= set(report)
    assert report["iia"] == card["report"]["iia"]  # the same held-out pairs (REPORT_SEED)


def test_train_siit_refuses_a_numerical_program(tmp_path, capsys):
    from interp.cli import main

    assert main(["train-siit", "frac_prevs", "--out", str(tmp_path / "x"), "--json"]) == 2
    assert "numerical output" in capsys.readouterr().err

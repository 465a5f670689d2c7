"""Which component matters: head effects against one-head-at-a-time ablation (interp.analysis.ablate),
and the picks on a model whose circuit is known."""

import pytest
import torch
from conftest import random_model

from interp.analysis import ablation_effect, kl_divergence
from interp.analysis.salience import head_effects, most_varied, top_head

TOKENS = torch.randint(0, 7, (3, 6), generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("positions", [None, [2, 5]])
def test_batched_effects_equal_one_ablation_at_a_time(positions):
    model = random_model(n_layers=3, n_heads=3, d_head=5)
    effects = head_effects(model, TOKENS, positions)
    assert list(effects) == [f"L{la}H{h}" for la in range(3) for h in range(3)]
    for name, value in effects.items():
        layer, head = (int(x) for x in name[1:].split("H"))
        metric = kl_divergence(model(TOKENS).detach(), positions)
        expected = ablation_effect(model, TOKENS, metric, heads=[(layer, head)], kind="zero")
        assert value == pytest.approx(max(0.0, expected), rel=1e-4, abs=1e-6), name


def test_the_head_that_carries_the_answer_is_picked(handbuilt, tokens):
    # handbuilt: L1H0 copies `prev` to the output, L0H0 feeds it; L0H1 and L1H1 write junk.
    effects = head_effects(handbuilt, tokens, positions=[1, 2, 3, 4])
    assert effects["L0H1"] == effects["L1H1"] == 0.0
    pick = top_head(effects)
    assert pick.name in {"L0H0", "L1H0"} and pick.score > 0 and pick.name in pick.reason
    assert top_head(effects, allowed=["L0H1", "L1H1"]).score == 0.0
    assert top_head({}) is None


def test_most_varied_prefers_a_varying_output_and_never_a_blank_variable():
    values = {"tokens": ["a", "b", "c"], "out": [1, 1, 1], "empty": [], "nones": [None, None, None],
              "mid": [1, 2, None]}
    assert most_varied(values).name == "tokens"
    assert most_varied(values, prefer="mid").name == "mid"
    # A constant output loses to a varying variable, and the reason says so.
    pick = most_varied(values, prefer="out")
    assert pick.name == "tokens" and "constant" in pick.reason
    assert most_varied(values, prefer="empty").name == "tokens"
    assert most_varied({"empty": [], "nones": [None]}) is None

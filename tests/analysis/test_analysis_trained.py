"""The same analysis API on a trained (not compiled) model: reversal with one layer."""

import pytest
import torch

from interp.analysis import (
    ablate,
    acdc,
    attention_patterns,
    direct_logit_attribution,
    eap,
    faithfulness,
    path_patch,
    residual_components,
)
from interp.circuit import Circuit
from interp.errors import InputError
from interp.tasks import Reverse, make_task
from interp.training import per_position_accuracy, train
from interp.training.recipes import Recipe


def train_reverse(task: Reverse, steps: int):
    """A 1-layer attention-only model trained on `task` at a constant rate (seeded)."""
    recipe = Recipe("reverse", "reverse", "test", model={"n_layers": 1, "d_model": 32, "n_heads": 2},
                    train=dict(steps=steps, batch_size=64, lr=1e-2, min_lr_ratio=1.0, grad_clip=None,
                               eval_every=0, eval_size=64, eval_batch_size=64),
                    init_std=0.2)
    return train(recipe.build_model(task), task.sample, recipe.train_config(), progress=False).model


def accuracy(model, inputs, targets) -> float:
    return per_position_accuracy(model, (inputs, targets))["accuracy"]


@pytest.fixture(scope="module")
def trained():
    task = Reverse(d_vocab=5, seq_len=6)
    return task, train_reverse(task, steps=300)


def test_training_is_seeded_and_accurate(trained):
    task, model = trained
    inputs, targets = task.batch(256, seed=1)
    assert accuracy(model, inputs, targets) > 0.98
    again, same = train_reverse(task, steps=5), train_reverse(task, steps=5)
    torch.testing.assert_close(again.W_Q, same.W_Q)


def test_analysis_api_on_trained_model(trained):
    task, model = trained
    inputs, targets = task.batch(64, seed=2)
    logits, cache = model.run_with_cache(inputs)
    stack, _ = residual_components(cache)
    torch.testing.assert_close(stack.sum(0), cache["blocks.0.hook_resid_post"], atol=1e-5, rtol=0)
    attrs, labels = direct_logit_attribution(cache, targets)
    assert attrs.shape == (len(labels), 64, 6)
    # Reversal means attending to the mirrored position: some head does that sharply.
    patterns = attention_patterns(model, cache, inputs)
    mirrored = [p.weights.flip(1).diagonal().mean().item() for p in patterns]
    assert max(mirrored) > 0.5
    # The output needs the token embeddings: zeroing them destroys accuracy.
    with ablate(model, nodes=["embed"]):
        assert accuracy(model, inputs, targets) < 0.5
    found = acdc(model, inputs, threshold=1e-3, ablation="resample", progress=False)
    assert len(found.edges) < len(Circuit.full(model.cfg).edges)
    assert faithfulness(model, found, inputs, kind="resample") > 0.9
    ranked = eap(model, inputs, ablation="resample", top_k=5)
    assert len(ranked.edges) == 5
    effect = path_patch(model, inputs, inputs.flip(0), "embed", ["logits"], lambda lg: lg.sum())
    assert isinstance(effect, float)


def test_make_task_errors():
    with pytest.raises(InputError, match="unknown task"):
        make_task("parity")
    inputs, targets = make_task("sort", d_vocab=4, seq_len=5).batch(3)
    assert (targets == inputs.sort(1).values).all()

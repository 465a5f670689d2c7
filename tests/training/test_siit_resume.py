"""SIIT checkpoints (interp.training.siit): a run stopped and resumed ends with the same
weights as the uninterrupted run, the batched losses equal the per-component ones, and a
checkpoint of another run is refused."""

import pytest
import torch

from interp.errors import InputError
from interp.evaluation.siit import counterfactual_targets, patched_logits
from interp.tasks.siit_task import SiitTask
from interp.training.siit import SiitConfig, build_student, ce, siit_losses, train_siit

TINY = dict(program="shift_by", seq_len=3, extra_heads=1, d_model=16, d_head=8, d_mlp=16,
            batch_size=8, eval_every=5, eval_pairs=20, target=2.0)  # target 2: never stops early


def test_resumed_run_equals_the_uninterrupted_one(tmp_path):
    whole = train_siit(SiitConfig(steps=10, **TINY))
    ckpt = tmp_path / "checkpoint.pt"
    train_siit(SiitConfig(steps=5, **TINY), checkpoint=ckpt)
    resumed = train_siit(SiitConfig(steps=10, **TINY), checkpoint=ckpt)
    assert resumed.steps == 10 and [h["step"] for h in resumed.history] == [5, 10]
    for (name, a), b in zip(whole.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    with pytest.raises(InputError, match="lr"):
        train_siit(SiitConfig(steps=10, **{**TINY, "lr": 0.5}), checkpoint=ckpt)


def test_batched_losses_equal_one_run_per_component():
    task = SiitTask("sort_unique", 4, extra_heads=1)
    model = build_student(task, SiitConfig(program="sort_unique", extra_heads=1, init_std=0.3))
    generator = torch.Generator().manual_seed(1)
    base, source = task.draw_inputs(12, generator), task.draw_inputs(12, generator)
    got = siit_losses(model, task, base, source, task.aligned, task.unaligned)
    # The reference: one patched run of the student and one of the compiled model per component.
    iit = torch.stack([ce(patched_logits(model, base, source, c),
                          counterfactual_targets(task, base, source, c)) for c in task.aligned]).mean()
    strict = torch.stack([ce(patched_logits(model, base, source, c), task.targets(base))
                          for c in task.unaligned]).mean()
    assert torch.allclose(got["iit"], iit, atol=1e-5) and torch.allclose(got["strict"], strict, atol=1e-5)
    assert torch.allclose(got["behaviour"], ce(model(base), task.targets(base)), atol=1e-5)

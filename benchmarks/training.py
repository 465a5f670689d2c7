"""Training throughput: examples/s per task (each recipe's model, one training step = sample +
forward + backward + AdamW), and our GPT-style model's training step against Hugging Face
transformers' GPT2Model at the same size and batch (Garg et al.'s in-context regression
shape: 3 layers, d_model 64, 2 heads, 41 vector positions), timed interleaved so machine load
hits both alike.

Times are CPU seconds per step (process time), so other jobs on a shared machine do not
inflate them; examples per CPU-second is what one core sustains.

Run: PYTHONPATH=. .venv/bin/python benchmarks/training.py [--repeats N] [--threads T]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn
from transformers import GPT2Config, GPT2Model

from interp.model import HookedTransformer, ModelConfig
from interp.training import loss_by_name
from interp.training.recipes import recipe_by_name

TASKS = ("addition-1l", "addition-2l", "markov-switching", "reverse", "ngrams")
# Hook points whose fused fast path (F.layer_norm, SDPA) is skipped while a hook watches them.
SLOW_PATH_HOOKS = ("hook_scale", "hook_normalized", "hook_attn_scores", "hook_pattern")
D_INPUT, N_POS, D_MODEL, N_LAYERS, N_HEADS, BATCH = 5, 41, 64, 3, 2, 64


def task_step(name: str) -> tuple[Callable[[], None], int]:
    """One training step of recipe `name` and its batch size."""
    recipe = recipe_by_name(name)
    task = recipe.build_task()
    model = recipe.build_model(task).train()
    loss = loss_by_name(task.loss)
    batch_size = recipe.train_config().batch_size
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)

    def step() -> None:
        value = loss(model, task.sample(batch_size, generator))
        optimizer.zero_grad()
        value.backward()
        optimizer.step()

    return step, batch_size


class HFRegressor(nn.Module):
    """Garg et al.'s model: linear read-in, GPT2Model on input embeddings, linear read-out."""

    def __init__(self):
        super().__init__()
        # vocab_size=1: the token embedding is unused (inputs_embeds); keep it from inflating the count.
        config = GPT2Config(vocab_size=1, bos_token_id=0, eos_token_id=0, n_positions=N_POS,
                            n_embd=D_MODEL, n_layer=N_LAYERS, n_head=N_HEADS,
                            resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, use_cache=False)
        self.read_in = nn.Linear(D_INPUT, D_MODEL)
        self.backbone = GPT2Model(config)
        self.read_out = nn.Linear(D_MODEL, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = self.backbone(inputs_embeds=self.read_in(x)).last_hidden_state
        return self.read_out(hidden)


def ours() -> nn.Module:
    """The same shape as one HookedTransformer: vector read-in, learned positions, pre-LN, GELU."""
    cfg = ModelConfig(n_layers=N_LAYERS, d_model=D_MODEL, n_ctx=N_POS, d_vocab=1, d_vocab_out=1,
                      d_input=D_INPUT, n_heads=N_HEADS, d_mlp=4 * D_MODEL, act_fn="gelu_new",
                      normalization_type="LN", causal=True)
    return HookedTransformer(cfg).init_weights(std=0.02, seed=0).train()


def regression_step(model: nn.Module) -> Callable[[], None]:
    """One MSE training step on fixed random data (the data is not what is measured)."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(BATCH, N_POS, D_INPUT, generator=generator)
    y = torch.randn(BATCH, N_POS, generator=generator)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step() -> None:
        loss = ((model(x)[..., 0] - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def median_seconds(steps: dict[str, Callable[[], None]], repeats: int) -> dict[str, float]:
    """Median CPU time per call (all threads; robust to other jobs on a shared machine),
    calls interleaved across the entries."""
    for step in steps.values():
        step()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.process_time()
            step()
            times[name].append(time.process_time() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.repeats} interleaved repeats\n")
    print(f"{'task':<18} {'batch':>5} {'CPU ms/step':>12} {'examples/CPU-s':>15}")
    for name in TASKS:
        step, batch = task_step(name)
        seconds = median_seconds({name: step}, args.repeats)[name]
        print(f"{name:<18} {batch:>5} {seconds * 1e3:>12.2f} {batch / seconds:>15.0f}")
    ours_model = ours()
    hf = HFRegressor()
    ours_model.cfg.use_attn_result = False
    fast = regression_step(ours_model)
    ours_hooked = ours()
    ours_slow = ours()
    ours_slow.cfg.use_attn_result = False
    for name in ours_slow.hook_dict:
        if name.endswith(SLOW_PATH_HOOKS):  # a no-op hook: what an analysis watching them pays
            ours_slow.hook_dict[name].add_perma_hook(lambda act, hook: None)
    timed = median_seconds({"ours": fast, "ours (use_attn_result)": regression_step(ours_hooked),
                            "ours (slow path)": regression_step(ours_slow),
                            "hf GPT2Model": regression_step(hf)}, args.repeats)
    print(f"\nGPT-style training step, {N_LAYERS} layers, d_model {D_MODEL}, {N_HEADS} heads, "
          f"{N_POS} positions, batch {BATCH}")
    print(f"{'model':<24} {'params':>8} {'CPU ms/step':>12} {'hf/model':>9}")
    params = {"ours": ours_model, "ours (use_attn_result)": ours_hooked, "ours (slow path)": ours_slow,
              "hf GPT2Model": hf}
    for name, seconds in timed.items():
        count = sum(p.numel() for p in params[name].parameters())
        print(f"{name:<24} {count:>8} {seconds * 1e3:>12.2f} {timed['hf GPT2Model'] / seconds:>9.2f}")


if __name__ == "__main__":
    main()

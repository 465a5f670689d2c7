"""Our Transformer Program trainer and the paper's code (princeton-nlp/TransformerPrograms) side by
side on the in-context task: the same initial weights, the same batches and the same Gumbel noise,
losses and gradients compared step by step.

    bash benchmarks/tp_side/setup.sh /path/to/TransformerPrograms /tmp/tp-paper   # once, fetches nothing
    python benchmarks/tp_side_by_side.py --paper /tmp/tp-paper --seed 3 --steps 320 \\
        --variants ours paper --out studies/results/25_transformer_programs/side_by_side/seed3.json

The paper side is its own code, unchanged: `src.run.run` with `scripts/induction.sh`'s arguments
(plus --device cpu, --n_epochs, --seed), its data, model, Adam, loop and temperature schedule.
Four names in `src.run` are wrapped, none changed in what they compute: `DataLoader` (records the
batches its shuffled loader yields), `gumbel_soft` (the Gumbel noise of a training step comes from
a shared stream instead of torch's global generator; `softmax((logits + noise) / tau)` is
F.gumbel_softmax's formula), `TransformerProgramModel` (keeps the initial weights and the logits
of each training forward pass) and `Adam` (records each step's gradients before stepping). The
paper's loss is recomputed from those logits by its formula (loss_agg "per_token": each
sequence's mean over its scored positions, then the batch mean) and checked against the epoch
loss its loop reports.

Our side is `interp.programs.train.train_program` on the same examples (the paper's token ids and
labels), started from the paper's initial weights, fed the recorded batches and the same noise
(the model's `_choose` draws from the shared stream). A variant names our conventions:
"ours" (the defaults) or "paper" (`conventions="paper"`), and "paper-but-X" keeps our
convention for one part X in readout_bias, position_bias, embedding, loss, tau. Each step
records both losses, both gradient norms and the largest difference between corresponding
gradients; the first step where the losses differ by more than --tolerance is where they part.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from interp.programs import model as model_module
from interp.programs import train as train_module
from interp.programs.data import Split, TaskData
from interp.programs.program import BOS, ProgramShape
from interp.programs.train import ProgramTrainConfig, accuracy, per_position_ce, train_program
from interp.training import Callback, TrainState
from interp.training.loop import eval_generator

PARTS = ("readout_bias", "position_bias", "embedding", "loss", "tau")
VARIANTS = ("ours", "paper", *(f"paper-but-{part}" for part in PARTS))


class StopComparison(Exception):
    """Raised on the paper side once the compared steps are done."""


class SharedNoise:
    """Gumbel noise per (step, site), the same for both sides: -log(Exp(1)) as torch's
    gumbel_softmax draws it, from a generator seeded by (seed, step, site)."""

    def __init__(self, seed: int):
        self.seed, self.step = seed, 0
        self._cache: dict[tuple[int, str], torch.Tensor] = {}

    def get(self, site: str, shape: tuple[int, ...]) -> torch.Tensor:
        key = (self.step, site)
        if key not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            digest = sum((i + 1) * ord(c) for i, c in enumerate(site))
            g = torch.Generator().manual_seed((self.seed * 1_000_003 + self.step) * 10_007 + digest)
            self._cache[key] = -torch.empty(shape).exponential_(generator=g).log()
        noise = self._cache[key]
        if tuple(noise.shape) != tuple(shape):
            raise AssertionError(f"noise {site} at step {self.step}: shape {tuple(shape)} != "
                                 f"{tuple(noise.shape)}")
        return noise


def paper_sites(n_layers: int) -> list[str]:
    """The order in which the paper's forward pass samples (CatEmbed, then per layer CatAttention's
    W_K, W_Q, W_pred, W_V and the attention pattern)."""
    return ["embed"] + [f"{layer}.{part}" for layer in range(n_layers) for part in "KQPVA"]


# ----------------------------------------------------------------------------- the paper's side
def run_paper(paper_dir: Path, seed: int, epochs: int, steps: int, noise: SharedNoise,
              init_seed: int | None = None) -> dict[str, Any]:
    """Train with the paper's own code for `steps` steps; return data, initial weights and a record.
    `init_seed`: the initial weights its code draws for that seed (data, batches: `seed`'s)."""
    sys.path.insert(0, str(paper_dir))
    sys.path.append(str(paper_dir / "stubs"))
    import src.run as prun  # noqa: PLC0415 (the paper's package, found through --paper)

    record: dict[str, Any] = {"loss": [], "grads": [], "batches": [], "tau": []}
    live: dict[str, Any] = {}
    sites: list[str] = []
    real_loader, real_model, real_adam, real_get_dataset = (
        prun.DataLoader, prun.TransformerProgramModel, prun.Adam, prun.data_utils.get_dataset)

    class RecordingLoader(real_loader):  # type: ignore[misc, valid-type]
        def __iter__(self):
            for batch in super().__iter__():
                if self._shuffle_flag:
                    record["batches"].append((batch[0].clone(), batch[1].clone()))
                yield batch

        def __init__(self, *args, shuffle=False, **kwargs):
            super().__init__(*args, shuffle=shuffle, **kwargs)
            self._shuffle_flag = shuffle

    def gumbel_soft(x, dim=-1, tau=1.0):
        if not torch.is_grad_enabled():  # the paper's per-epoch evaluation: its own noise
            return F.gumbel_softmax(x, tau=tau, dim=dim, hard=False)
        site = sites[live["site"]]
        live["site"] += 1
        return ((x + noise.get(site, tuple(x.shape))) / tau).softmax(dim)

    def make_model(*args, **kwargs):
        if init_seed is not None:  # run_program seeds just before building the model; reseed
            prun.set_seed(init_seed)
        model = real_model(*args, **kwargs)
        live["model"] = model
        live["initial"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        sites.extend(paper_sites(len(model.blocks)))

        def pre_hook(module, inputs):
            live["site"] = 0

        def hook(module, inputs, output):
            if torch.is_grad_enabled():
                live["logits"] = output

        model.register_forward_pre_hook(pre_hook)
        model.register_forward_hook(hook)
        return model

    class RecordingAdam(real_adam):  # type: ignore[misc, valid-type]
        def step(self, closure=None):
            model = live["model"]
            x, y = record["batches"][len(record["loss"])]
            record["loss"].append(paper_loss(live["logits"].detach(), y))
            record["grads"].append({name: p.grad.detach().clone() for name, p in model.named_parameters()
                                    if p.grad is not None})
            record["tau"].append(float(model.blocks[0].cat_attn.temp))
            out = super().step(closure)
            noise.step += 1
            if noise.step >= steps:
                raise StopComparison
            return out

    def get_dataset(*args, **kwargs):
        out = real_get_dataset(*args, **kwargs)
        live["data"] = out
        return out

    output_dir = tempfile.mkdtemp(prefix="tp-paper-run-")
    script = (paper_dir / "scripts" / "induction.sh").read_text()
    argv = ["run.py"] + _script_args(script) + ["--device", "cpu", "--n_epochs", str(epochs),
                                                "--seed", str(seed), "--output_dir", output_dir]
    saved_argv = sys.argv
    prun.DataLoader, prun.gumbel_soft, prun.TransformerProgramModel, prun.Adam = (
        RecordingLoader, gumbel_soft, make_model, RecordingAdam)
    prun.data_utils.get_dataset = get_dataset
    try:
        sys.argv = argv
        args = prun.parse_args()
        torch.set_num_threads(1)
        try:
            prun.run(args)
        except StopComparison:
            pass
    finally:
        sys.argv = saved_argv
        prun.DataLoader, prun.gumbel_soft, prun.TransformerProgramModel, prun.Adam = (
            real_loader, real_gumbel_soft(prun), real_model, real_adam)
        prun.data_utils.get_dataset = real_get_dataset
    record["argv"] = argv[1:]
    # The argmax model where the comparison stopped, scored by the paper's own run_test.
    from src.models.programs import argmax  # noqa: PLC0415

    model, data = live["model"], live["data"]
    w_idx, t_idx, x_test, y_test = data[4], data[6], data[9], data[10]
    model.set_temp(args.tau_end, argmax)
    _, paper_accuracy, _ = prun.run_test(model, x_test, y_test, x_pad_idx=w_idx["<pad>"],
                                         y_pad_idx=t_idx["<pad>"], autoregressive=args.autoregressive,
                                         loss_agg=args.loss_agg)
    record["hard_test_accuracy_at_stop"] = float(paper_accuracy)
    return {"record": record, "initial": live["initial"], "data": live["data"]}


def real_gumbel_soft(prun):
    """The paper's gumbel_soft, from its models module (restored after the run)."""
    from src.models.programs import gumbel_soft  # noqa: PLC0415

    return gumbel_soft


def _script_args(script: str) -> list[str]:
    """The `python src/run.py ...` arguments of a scripts/*.sh, its shell variables substituted."""
    variables: dict[str, str] = {}
    args: list[str] = []
    in_command = False
    for raw in script.splitlines():
        line = raw.strip().rstrip("\\").strip().rstrip(";")
        if "=" in line and not line.startswith(("python", "--", "echo")) and not in_command:
            name, value = line.split("=", 1)
            variables[name.strip()] = value.strip().strip('"')
        elif line.startswith("python"):
            in_command = True
        elif in_command and line.startswith("--"):
            for name, value in variables.items():
                line = line.replace("${" + name + "}", value)
            parts = line.split(None, 1)
            args.append(parts[0])
            if len(parts) > 1:
                args.append(parts[1].strip().strip('"'))
    drop = {"--save", "--save_code", "--output_dir", "--seed", "--n_epochs"}
    out: list[str] = []
    skip = False
    for i, token in enumerate(args):
        if skip:
            skip = False
            continue
        if token in drop:
            skip = i + 1 < len(args) and not args[i + 1].startswith("--")
            continue
        out.append(token)
    return out


def paper_loss(logits: torch.Tensor, y: torch.Tensor, pad: int = 0) -> float:
    """The paper's loss_agg="per_token" for one batch: per-sequence mean over non-pad targets,
    then the batch mean."""
    log_probs = logits.log_softmax(-1)
    losses = -log_probs.gather(2, y.unsqueeze(-1)).squeeze(-1)
    losses = losses.masked_fill(y == pad, 0.0)
    return float((losses.sum(-1) / (y != pad).sum(-1)).mean())


# ----------------------------------------------------------------------------- our side
class ReplayBatches(Callback):
    """Serves the paper's recorded batch for each step (as our Split tensors)."""

    def __init__(self, batches: list[tuple[torch.Tensor, torch.Tensor]], seed: int):
        self.batches = [to_split(x, y) for x, y in batches]
        self.next_step = 0
        self._eval_seed = eval_generator(seed).initial_seed()

    def __call__(self, n: int, generator: torch.Generator):
        if generator.initial_seed() == self._eval_seed:  # the loop's held-out loss: any rows
            split = self.batches[0]
            return split.tokens[:n], split.lengths[:n], split.targets[:n]
        split = self.batches[min(self.next_step, len(self.batches) - 1)]
        return split.tokens, split.lengths, split.targets

    def on_step(self, state: TrainState) -> None:
        self.next_step = state.step


def to_split(x, y, pad: int = 0) -> Split:
    """The paper's padded ids -> our Split (tokens keep the paper's ids; pad targets unscored)."""
    tokens = torch.as_tensor(np.asarray(x), dtype=torch.long)
    labels = torch.as_tensor(np.asarray(y), dtype=torch.long)
    targets = labels.masked_fill(labels == pad, -100)
    return Split(tokens=tokens, lengths=(tokens != pad).sum(-1), targets=targets)


class Recorder(Callback):
    """Each step's loss and gradients on our side; stops after `steps`."""

    def __init__(self, steps: int, noise: SharedNoise, test: Split):
        self.steps, self.noise, self.test = steps, noise, test
        self.hard_test_accuracy_at_stop = float("nan")
        self.loss: list[float] = []
        self.grads: list[dict[str, torch.Tensor]] = []
        self.tau: list[float] = []

    def on_step(self, state: TrainState) -> None:
        self.loss.append(state.loss)
        self.grads.append({name: p.grad.detach().clone() for name, p in state.model.named_parameters()
                           if p.grad is not None})
        self.noise.step = state.step
        if state.step >= self.steps:
            state.should_stop, state.stop_reason = True, "compared"
            self.hard_test_accuracy_at_stop = accuracy(state.model, self.test, hard=True)

    def on_eval(self, state: TrainState, metrics: dict[str, float]) -> None:
        pass


def our_sites(model: model_module.TransformerProgramModel) -> list[str]:
    """The order in which our forward pass samples: the embedding (paper conventions), then per
    layer the q/k/v reads together, the predicate, the attention pattern."""
    embed = ["embed"] if model.conventions == "paper" else []
    return embed + [f"{layer}.{part}" for layer in range(len(model.blocks)) for part in ("reads", "P", "A")]


def noisy_choose(noise: SharedNoise, live: dict[str, Any], original):
    """model._choose drawing a training step's noise from the shared stream, in the paper's layout."""

    def choose(logits, dim, tau, hard, straight_through=False):
        if hard or not torch.is_grad_enabled() or straight_through:
            return original(logits, dim, tau, hard, straight_through)
        site = live["sites"][live["site"]]
        live["site"] += 1
        layer, _, part = site.partition(".")
        if site == "embed":  # ours [n_tokens, d]; the paper's W_E is [d, n_tokens], sampled over d
            g = noise.get("embed", (1, logits.shape[1], logits.shape[0]))[0].T
        elif part == "reads":  # ours [3 (q, k, v), h, V]
            h, v = logits.shape[1:]
            g = torch.stack([noise.get(f"{layer}.{p}", (h, v)) for p in "QKV"])
        elif part == "P":
            g = noise.get(site, tuple(logits.shape))
        else:  # ours [h, b, q, k]; the paper's [b, h, q, k]
            h, b, q, k = logits.shape
            g = noise.get(site, (b, h, q, k)).permute(1, 0, 2, 3)
        return ((logits + g) / tau).softmax(dim)

    return choose


def paper_to_ours(initial: dict[str, torch.Tensor], shape: ProgramShape) -> dict[str, torch.Tensor]:
    """Our state dict holding the paper's initial weights (its W_U rows are [cat vars..., ones])."""
    reference = model_module.TransformerProgramModel(shape, seed=0).state_dict()
    state = {k: v.clone() for k, v in reference.items()}
    for layer in range(shape.n_layers):
        attn = f"blocks.{layer}.cat_attn."
        state[f"blocks.{layer}.cat_reads"] = torch.stack(
            [initial[attn + "W_Q.W"], initial[attn + "W_K.W"], initial[attn + "W_V.W"]])
        state[f"blocks.{layer}.cat_predicate"] = initial[attn + "W_pred.W"].clone()
    w_u = initial["unembed.W_U"]  # [V * d + U, n_out]
    n_cat, d = len(shape.cat_var_names()), shape.d_var
    state["readout_cat"] = w_u[: n_cat * d].reshape(n_cat, d, -1).clone()
    state["readout_num"] = w_u[n_cat * d :].clone()
    state["readout_bias"] = torch.zeros_like(state["readout_bias"])
    return state


def ours_grads_as_paper(grads: dict[str, torch.Tensor], shape: ProgramShape) -> dict[str, torch.Tensor]:
    """Our gradients under the paper's parameter names (read-out bias kept apart)."""
    out: dict[str, torch.Tensor] = {}
    for layer in range(shape.n_layers):
        attn = f"blocks.{layer}.cat_attn."
        reads = grads[f"blocks.{layer}.cat_reads"]
        out[attn + "W_Q.W"], out[attn + "W_K.W"], out[attn + "W_V.W"] = reads[0], reads[1], reads[2]
        out[attn + "W_pred.W"] = grads[f"blocks.{layer}.cat_predicate"]
    out["unembed.W_U"] = torch.cat([grads["readout_cat"].flatten(0, 1), grads["readout_num"]])
    return out


def run_ours(variant: str, data: TaskData, shape: ProgramShape, initial: dict[str, torch.Tensor],
             batches, seed: int, epochs: int, steps: int, noise: SharedNoise) -> Recorder:
    """Our trainer for `steps` steps in `variant`, on the recorded batches and the shared noise."""
    conventions = "ours" if variant == "ours" else "paper"
    keep_ours = variant.removeprefix("paper-but-") if variant.startswith("paper-but-") else ""
    config = ProgramTrainConfig(epochs=epochs, seed=seed, conventions=conventions, stop_when_perfect=False)
    live: dict[str, Any] = {"site": 0}
    recorder = Recorder(steps, noise, data.test)
    noise.step = 0
    original_choose, original_model = model_module._choose, train_module.TransformerProgramModel
    original_loss, original_tau = train_module.per_sequence_ce, train_module.AnnealTemperature._paper_tau

    def make_model(shape_, seed=0, conventions="ours"):
        model = original_model(shape_, seed=seed, conventions=conventions)
        if keep_ours == "readout_bias":
            model.readout_bias.requires_grad_(True)
        if keep_ours == "position_bias":
            model.position_bias = original_model(shape_, seed=seed).position_bias
        if keep_ours == "embedding":
            model.conventions = "ours-embedding"  # the forward samples no embedding
        live["sites"] = our_sites(model)

        def pre_hook(module, inputs):
            live["site"] = 0
            if torch.is_grad_enabled():
                recorder.tau.append(float(module.tau))

        model.register_forward_pre_hook(pre_hook)
        return model

    def our_tau(self, step: int) -> float:
        c = self.config
        return c.tau_init * (c.tau_end / c.tau_init) ** (min(step, self.steps - 1) / max(self.steps - 1, 1))

    model_module._choose = noisy_choose(noise, live, original_choose)
    train_module.TransformerProgramModel = make_model
    if keep_ours == "loss":
        train_module.per_sequence_ce = per_position_ce
    if keep_ours == "tau":
        train_module.AnnealTemperature._paper_tau = our_tau
    try:
        torch.set_num_threads(1)
        train_program(data, shape, config, progress=False, initial_state=initial,
                      sample=ReplayBatches(batches, seed), callbacks=[recorder])
    finally:
        model_module._choose, train_module.TransformerProgramModel = original_choose, original_model
        train_module.per_sequence_ce, train_module.AnnealTemperature._paper_tau = original_loss, original_tau
    return recorder


# ----------------------------------------------------------------------------- comparison
def compare(paper: dict[str, Any], ours: Recorder, shape: ProgramShape, tolerance: float) -> dict[str, Any]:
    """Per step: both losses, gradient norms, the largest gradient difference; where they part."""
    rows = []
    parted_at = None
    for step, (paper_loss_, our_loss) in enumerate(zip(paper["loss"], ours.loss)):
        ours_g = ours_grads_as_paper(ours.grads[step], shape)
        paper_g = paper["grads"][step]
        names = sorted(ours_g)
        diff = max(float((ours_g[n] - paper_g[n]).abs().max()) for n in names)
        norm_paper = math.sqrt(sum(float(paper_g[n].pow(2).sum()) for n in names))
        norm_ours = math.sqrt(sum(float(ours_g[n].pow(2).sum()) for n in names))
        bias_grad = ours.grads[step].get("readout_bias")
        rows.append({
            "step": step, "paper_loss": paper_loss_, "ours_loss": our_loss,
            "loss_diff": abs(paper_loss_ - our_loss), "paper_grad_norm": norm_paper,
            "ours_grad_norm": norm_ours,
            "max_grad_diff": diff,
            "ours_readout_bias_grad_norm": None if bias_grad is None else float(bias_grad.norm()),
            "paper_tau": paper["tau"][step], "ours_tau": ours.tau[step] if step < len(ours.tau) else None,
        })
        if parted_at is None and (abs(paper_loss_ - our_loss) > tolerance or diff > tolerance):
            parted_at = step
    return {"parted_at_step": parted_at, "steps": rows}


def _rounded(value: Any) -> Any:
    """Floats to 10 significant digits (differences are computed before, at full precision)."""
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paper", required=True, help="directory prepared by benchmarks/tp_side/setup.sh")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=500, help="the schedule's epochs (induction.sh: 500)")
    parser.add_argument("--steps", type=int, default=320, help="steps compared (32 per epoch)")
    parser.add_argument("--variants", nargs="+", default=["ours", "paper"], choices=VARIANTS)
    parser.add_argument("--tolerance", type=float, default=1e-4,
                        help="loss or gradient difference that counts as parted")
    parser.add_argument("--init-seed", type=int,
                        help="initial weights the paper's code draws for this seed (default: --seed)")
    parser.add_argument("--out", help="JSON file for the per-step record")
    args = parser.parse_args(argv)

    torch.set_flush_denormal(False)  # the paper's loop does not flush; neither side does here
    start = time.process_time()
    noise = SharedNoise(args.seed)
    paper_run = run_paper(Path(args.paper), args.seed, args.epochs, args.steps, noise, args.init_seed)
    record, data_out = paper_run["record"], paper_run["data"]
    idx_w, idx_t = data_out[3], data_out[5]
    x_train, y_train, x_test, y_test, x_val, y_val = data_out[7:13]
    n_ctx = x_train.shape[1]
    shape = ProgramShape(tokens=[BOS] + [f"id{i}" for i in range(1, len(idx_w))],
                         labels=[str(t) for t in idx_t], n_ctx=n_ctx, n_layers=2, n_cat_heads=1,
                         n_num_heads=0, n_cat_mlps=0, n_num_mlps=0, causal=True)
    if shape.d_var != max(len(idx_w), n_ctx):
        raise AssertionError("d_var differs from the paper's")
    data = TaskData(name="induction", tokens=shape.tokens, labels=shape.labels, n_ctx=n_ctx, causal=True,
                    train=to_split(x_train, y_train), val=to_split(x_val, y_val),
                    test=to_split(x_test, y_test))
    initial = paper_to_ours(paper_run["initial"], shape)
    paper_seconds = time.process_time() - start
    commit_file = Path(args.paper) / "COMMIT"
    commit = commit_file.read_text().strip() if commit_file.exists() else "unknown"
    result: dict[str, Any] = {
        "what": "our trainer vs the paper's code (princeton-nlp/TransformerPrograms) on the in-context task, "
                "same initial weights, batches and Gumbel noise",
        "paper_commit": commit,
        "paper_argv": record["argv"], "seed": args.seed,
        "init_seed": args.seed if args.init_seed is None else args.init_seed,
        "schedule_epochs": args.epochs, "steps": args.steps,
        "tolerance": args.tolerance, "torch": torch.__version__, "paper_cpu_seconds": round(paper_seconds, 1),
        "paper_idx_w": [str(w) for w in idx_w], "paper_idx_t": [str(t) for t in idx_t],
        "variants": {},
    }
    for variant in args.variants:
        t0 = time.process_time()
        ours = run_ours(variant, data, shape, initial, record["batches"], args.seed, args.epochs,
                        args.steps, noise)
        comparison = compare(record, ours, shape, args.tolerance)
        comparison["cpu_seconds"] = round(time.process_time() - t0, 1)
        comparison["hard_test_accuracy_at_stop"] = {"paper": record["hard_test_accuracy_at_stop"],
                                                     "ours": ours.hard_test_accuracy_at_stop}
        result["variants"][variant] = comparison
        first = comparison["steps"][0]
        print(f"{variant}: parted at step {comparison['parted_at_step']}; step 0 loss paper "
              f"{first['paper_loss']:.6f} ours {first['ours_loss']:.6f}; max grad diff "
              f"{first['max_grad_diff']:.2e}; hard test accuracy at the last step: paper "
              f"{record['hard_test_accuracy_at_stop']:.4f}, ours {ours.hard_test_accuracy_at_stop:.4f}",
              flush=True)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(_rounded(result)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

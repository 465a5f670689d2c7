"""The held-out report of a trained model on its own task (what `interp eval` prints and
`interp train` writes into the card), looked up by task type in REPORTS.

Every report draws fresh questions from the task with REPORT_SEED, a stream that training
never uses (training batches are seeded by seed * 1_000_003 + step).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from interp.errors import InputError
from interp.evaluation.icl import regression_report
from interp.evaluation.siit import siit_report
from interp.tasks import Addition, InContextNgrams, MarkovTask, Task, make_task
from interp.tasks.addition import CARRY_CLASSES, carry_class, cascade_length
from interp.tasks.base import IGNORE
from interp.tasks.ngrams import in_context_ngram_loss
from interp.tasks.regression import RegressionTask
from interp.tasks.siit_task import SiitTask

REPORT_SEED = 2**40 + 17
_CHUNK = 1000  # questions per forward pass (memory only; results do not depend on it)

ReportFn = Callable[..., dict[str, Any]]  # (model, task, seed=...) -> JSON-able report


@torch.no_grad()
def addition_report(model: nn.Module, task: Addition, seed: int = REPORT_SEED, n: int = 10_000
                    ) -> dict[str, Any]:
    """Exact match on n uniform questions (no enrichment), overall, per carry class and per
    cascade length; teacher-forced argmax, which equals greedy decoding for exact match."""
    uniform = Addition(task.n_digits, task.reverse_answer, enrich=0.0)
    a, b = uniform.sample_operands(n, torch.Generator().manual_seed(seed))
    tokens, targets = uniform.encode(a, b)
    positions = uniform.answer_positions
    correct = torch.cat([
        (model(tokens[i:i + _CHUNK])[:, positions].argmax(-1) == targets[i:i + _CHUNK, positions]).all(-1)
        for i in range(0, n, _CHUNK)
    ])  # [n] bool
    classes = carry_class(a, b)
    lengths = cascade_length(a, b)
    by_class = {}
    for name in CARRY_CLASSES:
        mask = torch.tensor([c == name for c in classes])
        by_class[name] = {"exact_match": _mean(correct[mask]), "count": int(mask.sum())}
    by_length = {
        str(k): {"exact_match": _mean(correct[lengths == k]), "count": int((lengths == k).sum())}
        for k in range(int(lengths.max()) + 1)
    }
    return {"task": uniform.name, "questions": n, "exact_match": _mean(correct),
            "exact_match_by_carry_class": by_class, "exact_match_by_cascade_length": by_length}


@torch.no_grad()
def markov_report(model: nn.Module, task: MarkovTask, seed: int = REPORT_SEED, n: int = 2000
                  ) -> dict[str, Any]:
    """Cross-entropy per character on positions with a full context (t >= order), next to the
    source's exact entropy rate, its unigram entropy and the true kernel's loss on the same text."""
    chain = task.chain
    tokens = task.sample(n, torch.Generator().manual_seed(seed))
    losses = []
    for i in range(0, n, _CHUNK):
        chunk = tokens[i:i + _CHUNK]
        log_probs = model(chunk)[:, :-1].log_softmax(-1)  # predictions of tokens 1..end
        picked = log_probs.gather(-1, chunk[:, 1:, None]).squeeze(-1)  # [b, len - 1]
        losses.append(-picked[:, chain.order - 1:])  # targets at positions >= order
    nats = torch.cat(losses).double().mean().item()
    optimal = -chain.log_probs(tokens).mean().item()
    return {"task": task.name, "sequences": n, "nats_per_char": nats, "entropy_rate": chain.entropy_rate(),
            "unigram_entropy": chain.unigram_entropy(), "kernel_nats_per_char_on_sample": optimal,
            "gap_to_entropy_rate": nats - chain.entropy_rate()}


@torch.no_grad()
def ngram_report(model: nn.Module, task: InContextNgrams, seed: int = REPORT_SEED, n: int = 1000
                 ) -> dict[str, Any]:
    """The model's loss on positions n-1.. next to the in-context n-gram estimator's."""
    tokens = task.sample(n, torch.Generator().manual_seed(seed))
    log_probs = model(tokens)[:, :-1].log_softmax(-1)
    picked = log_probs.gather(-1, tokens[:, 1:, None]).squeeze(-1)[:, task.n - 2:]
    return {"task": task.name, "sequences": n, "loss": -picked.mean().item(),
            "in_context_ngram_loss": in_context_ngram_loss(tokens, task.symbols, task.n, task.alpha)}


@torch.no_grad()
def token_report(model: nn.Module, task: Task, seed: int = REPORT_SEED, n: int = 2000) -> dict[str, Any]:
    """Held-out cross-entropy over every scored token; for per-position tasks also the token
    accuracy and the exact match of whole sequences."""
    if task.loss not in ("per_position_ce", "next_token_ce"):
        raise InputError(f"no report for task {task.name!r} with loss {task.loss!r}; register one in "
                         "interp.evaluation.task_reports.REPORTS.")
    batch = task.sample(n, torch.Generator().manual_seed(seed))
    inputs = batch[0] if isinstance(batch, (tuple, list)) else batch
    if task.loss == "next_token_ce":
        targets = torch.cat([inputs[:, 1:], torch.full_like(inputs[:, :1], IGNORE)], dim=1)  # [n, seq]
    else:
        targets = batch[1]
    nll_sum, right, scored_total, whole = 0.0, 0, 0, 0
    for i in range(0, n, _CHUNK):
        logits = model(inputs[i:i + _CHUNK])  # [b, seq, vocab_out]
        chunk_targets = targets[i:i + _CHUNK]
        scored = chunk_targets != IGNORE  # [b, seq]
        nll = F.cross_entropy(logits.flatten(0, 1), chunk_targets.flatten(), ignore_index=IGNORE,
                              reduction="sum")
        hit = (logits.argmax(-1) == chunk_targets) & scored
        nll_sum += nll.item()
        right += int(hit.sum())
        scored_total += int(scored.sum())
        whole += int((hit | ~scored).all(-1).sum())
    out = {"task": task.name, "examples": n, "loss": nll_sum / max(1, scored_total)}
    if task.loss == "per_position_ce":
        out |= {"accuracy": right / max(1, scored_total), "exact_match": whole / n}
    return out


# One line per task type: the report that fits it (the first match along the task's class
# hierarchy); any other token task gets token_report.
REPORTS: dict[type[Task], ReportFn] = {
    Addition: addition_report,
    MarkovTask: markov_report,
    InContextNgrams: ngram_report,
    RegressionTask: regression_report,
    SiitTask: siit_report,  # accuracy, IIA, strict IIA on held-out pairs
}


def report_for(task: Task) -> ReportFn:
    """The report function registered for `task`'s type (token_report when none is)."""
    for cls in type(task).__mro__:
        if cls in REPORTS:
            return REPORTS[cls]
    return token_report


def report(model: nn.Module, task: Task, seed: int = REPORT_SEED) -> dict[str, Any]:
    """The report that fits `task`, for `model` in eval mode."""
    model.eval()
    return report_for(task)(model, task, seed=seed)


def task_of(model: nn.Module) -> Task:
    """Rebuild the task a model was trained on from its metadata (task + task_options)."""
    metadata = getattr(model, "metadata", {}) or {}
    if "task" not in metadata:
        raise InputError("this model's metadata names no task; it was not trained by `interp train`, so "
                         "there is no task to evaluate it on.")
    return make_task(metadata["task"], **metadata.get("task_options", {}))


def evaluate(model: nn.Module, task: Task | None = None, seed: int = REPORT_SEED) -> dict[str, Any]:
    """The report of `model` on `task` (default: the task its metadata names)."""
    return report(model, task if task is not None else task_of(model), seed=seed)


def _mean(values: torch.Tensor) -> float | None:
    return values.float().mean().item() if values.numel() else None

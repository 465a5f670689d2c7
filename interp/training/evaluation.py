"""Task-specific held-out reports for trained models (what `interp eval` prints).

Every report draws fresh questions from the task with REPORT_SEED, a stream that training
never uses (training batches are seeded by seed * 1_000_003 + step).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from interp.errors import InputError
from interp.evaluation.icl import regression_report
from interp.tasks import Addition, InContextNgrams, MarkovTask, Task, make_task
from interp.tasks.addition import CARRY_CLASSES, carry_class, cascade_length
from interp.tasks.ngrams import in_context_ngram_loss
from interp.tasks.regression import RegressionTask
from interp.training.loop import evaluate
from interp.training.losses import next_token_ce, per_position_accuracy

REPORT_SEED = 2**40 + 17
_CHUNK = 1000


@torch.no_grad()
def addition_report(model: nn.Module, task: Addition, n: int = 10_000, seed: int = REPORT_SEED
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
def markov_report(model: nn.Module, task: MarkovTask, n: int = 2000, seed: int = REPORT_SEED
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
def ngram_report(model: nn.Module, task: InContextNgrams, n: int = 1000, seed: int = REPORT_SEED
                 ) -> dict[str, Any]:
    """The model's loss on positions n-1.. next to the in-context n-gram estimator's."""
    tokens = task.sample(n, torch.Generator().manual_seed(seed))
    log_probs = model(tokens)[:, :-1].log_softmax(-1)
    picked = log_probs.gather(-1, tokens[:, 1:, None]).squeeze(-1)[:, task.n - 2:]
    return {"task": task.name, "sequences": n, "loss": -picked.mean().item(),
            "in_context_ngram_loss": in_context_ngram_loss(tokens, task.symbols, task.n, task.alpha)}


def generic_report(model: nn.Module, task: Task, n: int = 2000, seed: int = REPORT_SEED) -> dict[str, Any]:
    """Held-out loss (and accuracy / exact match for per-position tasks)."""
    batch = task.sample(n, torch.Generator().manual_seed(seed))
    metrics = per_position_accuracy if task.loss == "per_position_ce" else (
        (lambda m, b: {"loss": next_token_ce(m, b).item()}) if task.loss == "next_token_ce" else None)
    if metrics is None:
        raise InputError(f"no report for task {task.name!r} with loss {task.loss!r}.")
    return {"task": task.name, "examples": n, **evaluate(model, batch, metrics, _CHUNK)}


def report(model: nn.Module, task: Task) -> dict[str, Any]:
    """The report that fits `task`."""
    model.eval()
    if isinstance(task, Addition):
        return addition_report(model, task)
    if isinstance(task, MarkovTask):
        return markov_report(model, task)
    if isinstance(task, InContextNgrams):
        return ngram_report(model, task)
    if isinstance(task, RegressionTask):
        return regression_report(model, task, seed=REPORT_SEED)
    return generic_report(model, task)


def task_of(model: nn.Module) -> Task:
    """Rebuild the task a model was trained on from its metadata (task + task_options)."""
    metadata = getattr(model, "metadata", {}) or {}
    if "task" not in metadata:
        raise InputError("this model's metadata names no task; it was not trained by `interp train`.")
    return make_task(metadata["task"], **metadata.get("task_options", {}))


def _mean(values: torch.Tensor) -> float | None:
    return values.float().mean().item() if values.numel() else None

"""Circuit discovery as a registry: every method takes the same arguments, and one
`score_circuit` scores any result against a ground truth.

    found = find_circuit("eap-ig", model, batches, ablation="mean", progress=True)
    default_threshold("sp")                     # each method's default, for CLI and app alike
    score = score_circuit(found, truth.edges)   # AUC, precision, recall, kept, seconds

Used by `interp discover`, `benchmarks/discovery.py` (and the dashboard's circuit panel).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from interp.analysis.discover import MetricFactory, _sum_metric, acdc, eap
from interp.analysis.metrics import Metric, cross_entropy_to_clean, distance_to
from interp.analysis.replace import check_kind
from interp.analysis.score import precision_recall, roc_auc
from interp.analysis.subnetwork_probing import SP_STEPS, SP_THRESHOLD, subnetwork_probing
from interp.circuit import METHODS, Ablation, Circuit, Edge, Method
from interp.errors import InputError
from interp.model import HookedTransformer

ACDC_THRESHOLD = 1e-4  # ACDC's default tau
EAP_THRESHOLD = 1e-6  # EAP / EAP-IG: kept edges score above this
IG_STEPS = 20  # EAP-IG's default number of interpolation steps
# Each method's default threshold, read by the CLI and the app alike (scores of different
# methods are on different scales, so one number cannot serve all four).
DEFAULT_THRESHOLDS: dict[str, float] = {
    "acdc": ACDC_THRESHOLD, "eap": EAP_THRESHOLD, "eap-ig": EAP_THRESHOLD, "sp": SP_THRESHOLD,
}


def default_threshold(method: str) -> float:
    """The threshold `find_circuit(method, ...)` uses when none is given."""
    if method not in DEFAULT_THRESHOLDS:
        raise InputError(f"discovery method {method!r} is not one of {list(METHODS)}.")
    return DEFAULT_THRESHOLDS[method]


@dataclass(frozen=True)
class Options:
    """The arguments every discovery method takes (None: the method's default)."""

    ablation: Ablation = "zero"
    threshold: float | None = None
    reference: Any = None
    corrupted: Any = None
    metric: MetricFactory | None = None
    seed: int = 0
    ig_steps: int = IG_STEPS
    progress: bool | Callable[[int, int], None] = False  # a bar, or callable(done, total)
    # The positions the default metrics read (None: all), e.g. a task's answer positions.
    positions: Sequence[int] | None = None
    # EAP / EAP-IG's metric, which needs a gradient at the clean run (default: cross-entropy
    # to the clean predictions at `positions`). `metric` is the distance ACDC and SP minimise
    # (default: KL to the clean outputs at `positions`); a distance is flat at the clean
    # run, so EAP never uses it: its scores would all be 0.
    eap_metric: MetricFactory | None = None
    steps: int = SP_STEPS  # subnetwork probing's optimisation steps
    level: str = "edge"  # subnetwork probing's masks: one per edge, or one per node


def _acdc(model: HookedTransformer, inputs: Any, o: Options) -> Circuit:
    threshold = ACDC_THRESHOLD if o.threshold is None else o.threshold
    return acdc(model, inputs, threshold=threshold, ablation=o.ablation, reference=o.reference,
                corrupted=o.corrupted, seed=o.seed, progress=o.progress, metric=_distance(o))


def _distance(o: Options) -> MetricFactory:
    """ACDC's and SP's metric: the caller's, or KL / squared error at `positions`."""
    if o.metric is not None:
        return o.metric
    return lambda clean: distance_to(clean, o.positions)


def _eap(model: HookedTransformer, inputs: Any, o: Options, ig_steps: int = 0) -> Circuit:
    threshold = EAP_THRESHOLD if o.threshold is None else o.threshold
    metric = o.eap_metric
    if metric is None and o.positions is not None:
        positions = o.positions

        def metric(clean: torch.Tensor) -> Metric:
            return _sum_metric if clean.shape[-1] == 1 else cross_entropy_to_clean(clean, positions)

    return eap(model, inputs, threshold=threshold, ablation=o.ablation, reference=o.reference,
               corrupted=o.corrupted, metric=metric, seed=o.seed, ig_steps=ig_steps,
               progress=o.progress)


def _eap_ig(model: HookedTransformer, inputs: Any, o: Options) -> Circuit:
    if o.ig_steps < 1:
        raise InputError(f"ig_steps={o.ig_steps}; EAP-IG needs at least one step.")
    return _eap(model, inputs, o, ig_steps=o.ig_steps)


def _sp(model: HookedTransformer, inputs: Any, o: Options) -> Circuit:
    threshold = SP_THRESHOLD if o.threshold is None else o.threshold
    return subnetwork_probing(model, inputs, threshold=threshold, ablation=o.ablation,
                              reference=o.reference, corrupted=o.corrupted, metric=_distance(o),
                              seed=o.seed, steps=o.steps, level=o.level, progress=o.progress)


REGISTRY: dict[str, Callable[[HookedTransformer, Any, Options], Circuit]] = {
    "acdc": _acdc,
    "eap": _eap,
    "eap-ig": _eap_ig,
    "sp": _sp,
}  # keys: interp.circuit.METHODS (a test checks they agree)


@dataclass(frozen=True)
class Discovery:
    """A discovered circuit with how it was found and how long it took."""

    method: str
    ablation: str
    circuit: Circuit
    candidates: list[Edge]
    seconds: float


def find_circuit(method: Method, model: HookedTransformer, inputs: Any, **options: Any) -> Discovery:
    """Run discovery method `method` (acdc, eap, eap-ig, sp) with `Options` fields as keywords."""
    if method not in REGISTRY:
        raise InputError(f"discovery method {method!r} is not one of {list(METHODS)}.")
    known = set(Options.__dataclass_fields__)
    unknown = sorted(set(options) - known)
    if unknown:
        raise InputError(f"unknown discovery options {unknown}; known: {sorted(known)}.")
    chosen = Options(**options)
    check_kind(chosen.ablation)
    start = time.perf_counter()
    circuit = REGISTRY[method](model, inputs, chosen)
    seconds = time.perf_counter() - start
    return Discovery(method, chosen.ablation, circuit, Circuit.full(model.cfg).edges, seconds)


@dataclass(frozen=True)
class CircuitScore:
    """A discovered circuit against the ground truth."""

    method: str
    ablation: str
    auc: float | None  # None when undefined (no true or no false candidate edge)
    precision: float
    recall: float
    kept_edges: int
    candidate_edges: int
    true_edges: int
    seconds: float


def score_circuit(
    found: Discovery, truth: Iterable[Edge], candidates: Iterable[Edge] | None = None
) -> CircuitScore:
    """ROC AUC of the edge scores, precision and recall of the kept edges, against `truth`
    over `candidates` (default: every edge of the model)."""
    truth = set(truth)
    candidates = found.candidates if candidates is None else list(candidates)
    try:
        auc: float | None = roc_auc(found.circuit.scores, truth, candidates)
    except InputError:
        auc = None
    precision, recall = precision_recall(found.circuit.edges, truth)
    return CircuitScore(found.method, found.ablation, auc, precision, recall,
                        len(found.circuit.edges), len(candidates), len(truth), found.seconds)

"""Looking inside any HookedTransformer: decomposition, ablation, patching, circuit
discovery, and scoring against a ground-truth circuit.

Modules: decompose (contributions, DLA, logit lens, patterns, residual readout) ·
ablate (zero/mean/resample of nodes, neurons, edges) · patch (activation and path
patching) · edges (edge-level interventions) · discover (ACDC, EAP) · subnetwork_probing
(SP) · silent (edges the weights cannot carry) · registry (one signature for every
discovery method, each method's default threshold, `score_circuit`) · score (AUC,
precision/recall, faithfulness, inert edges) · programs (inputs for compiled programs) ·
metrics · nodes · replace · batches.
"""

from interp.analysis.ablate import ablate, ablation_effect
from interp.analysis.decompose import (
    LabelledPattern,
    ResidualReadout,
    attention_patterns,
    direct_logit_attribution,
    logit_lens,
    residual_components,
    residual_readout,
)
from interp.analysis.discover import acdc, corrupted_outputs, eap
from interp.analysis.edges import edge_hooks, run_from_layer
from interp.analysis.metrics import (
    agreement,
    cross_entropy_to_clean,
    distance_to,
    kl_divergence,
    mean_squared_error,
)
from interp.analysis.patch import activation_patch, patch_nodes, path_patch
from interp.analysis.registry import (
    CircuitScore,
    Discovery,
    default_threshold,
    find_circuit,
    score_circuit,
)
from interp.analysis.score import (
    faithfulness,
    inert_edges,
    precision_recall,
    roc_auc,
    roc_points,
)
from interp.analysis.silent import silent_edges
from interp.analysis.subnetwork_probing import subnetwork_probing
from interp.circuit import ABLATION_KINDS, METHODS, Ablation, Method

__all__ = [
    "ABLATION_KINDS",
    "METHODS",
    "Ablation",
    "CircuitScore",
    "Discovery",
    "Method",
    "default_threshold",
    "find_circuit",
    "silent_edges",
    "subnetwork_probing",
    "score_circuit",
    "LabelledPattern",
    "ResidualReadout",
    "ablate",
    "ablation_effect",
    "acdc",
    "activation_patch",
    "agreement",
    "attention_patterns",
    "corrupted_outputs",
    "cross_entropy_to_clean",
    "direct_logit_attribution",
    "distance_to",
    "eap",
    "edge_hooks",
    "faithfulness",
    "inert_edges",
    "kl_divergence",
    "logit_lens",
    "mean_squared_error",
    "patch_nodes",
    "path_patch",
    "precision_recall",
    "residual_components",
    "residual_readout",
    "roc_auc",
    "roc_points",
    "run_from_layer",
]

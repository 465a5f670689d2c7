"""Measurements of trained models on their tasks: the per-task held-out report that
`interp eval` prints and `interp train` writes into a model's card (task_reports, one
registry REPORTS: task type -> report), the in-context-regression comparisons with the
baselines (icl, icl_prompt), addition scores by carry class (addition), linear probes
(probes) and the table every study notebook ends with (report). It reads models and task
data only; it never imports the training loop."""

# `report` is not re-exported: interp.evaluation.report is the study-table module.
from interp.evaluation.task_reports import REPORT_SEED, REPORTS, evaluate, report_for, task_of

__all__ = ["REPORTS", "REPORT_SEED", "evaluate", "report_for", "task_of"]

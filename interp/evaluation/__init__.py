"""Evaluations of trained models against their task's baselines (read by `interp eval`)."""

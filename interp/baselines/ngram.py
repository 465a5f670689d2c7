"""The in-context n-gram estimator (Edelman et al. 2024), the baseline of the in-context n-gram
task. One implementation, kept beside the task that defines its prior (interp.tasks.ngrams);
listed here so every baseline is found in one place."""

from interp.tasks.ngrams import in_context_ngram_loss, in_context_ngram_probs

__all__ = ["in_context_ngram_loss", "in_context_ngram_probs"]

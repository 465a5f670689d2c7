"""Imports that third-party code does lazily on first use, done in a background thread once
the first page has run, so the first Weights or Residual-stream view of a server does not
pay them (3-8 s on 2 busy cores, measured with benchmarks/app_browser_latency.py)."""

from __future__ import annotations

import importlib
import threading

LAZY_IMPORTS = (
    # torch.broadcast_shapes (TransformerLens' FactoredMatrix, the Weights view) imports sympy.
    "torch.fx.experimental.symbolic_shapes",
    # ActivationCache.logit_lens (the Residual-stream view) imports TL's analysis tools, whose
    # model bridge imports Hugging Face transformers.
    "transformer_lens.tools.analysis",
)
_STARTED = threading.Lock()


def start() -> None:
    """Start the background imports (once per process; later calls return at once)."""
    if _STARTED.acquire(blocking=False):
        threading.Thread(target=_import_all, name="interp-app-warmup", daemon=True).start()


def _import_all() -> None:
    for name in LAZY_IMPORTS:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - only a head start: the view's own import reports any failure
            pass

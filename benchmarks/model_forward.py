"""Forward vs run_with_cache on a 2-layer model, batch 256, length 32 (issue 2).

Prints a table; the overhead ratio target is <= 1.5x.
"""

from __future__ import annotations

import time

import torch

from interp.model import HookedTransformer, ModelConfig


def interleaved_medians(fns, repeats: int = 30) -> list[float]:
    """Median wall time of each function, calls interleaved so machine load hits all alike."""
    for fn in fns:
        fn()  # warm-up
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, times):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return [sorted(t)[len(t) // 2] for t in times]


def measure(d_model: int, n_heads: int, d_mlp: int) -> tuple:
    """One table row: forward, full cache, filtered cache and no-hook_result timings."""
    cfg = ModelConfig(n_layers=2, d_model=d_model, n_ctx=32, d_vocab=64, n_heads=n_heads,
                      d_mlp=d_mlp, normalization_type="LN", seed=0)
    model = HookedTransformer(cfg).init_weights()
    tokens = torch.randint(0, 64, (256, 32))
    with torch.no_grad():
        forward, cached, filtered = interleaved_medians([
            lambda: model(tokens),
            lambda: model.run_with_cache(tokens),
            # What most analyses need: the residual stream and the attention patterns.
            lambda: model.run_with_cache(
                tokens, names_filter=lambda n: "resid" in n or n.endswith("pattern")
            ),
        ])
        model.set_use_attn_result(False)
        (forward_no_result,) = interleaved_medians([lambda: model(tokens)])
    return (d_model, n_heads, d_mlp, forward, cached, cached / forward, filtered / forward,
            forward_no_result)


def main() -> None:
    torch.manual_seed(0)
    rows = [measure(d, h, m) for d, h, m in [(64, 4, 256), (128, 8, 512)]]
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, batch 256, length 32, 2 layers")
    print(f"{'d_model':>7} {'heads':>5} {'d_mlp':>5} {'forward ms':>10} {'cache ms':>9} "
          f"{'ratio':>6} {'filtered ratio':>14} {'fwd no hook_result ms':>21}")
    for d, h, m, f, c, r, rf, fn in rows:
        print(f"{d:>7} {h:>5} {m:>5} {f * 1e3:>10.2f} {c * 1e3:>9.2f} {r:>6.2f} {rf:>14.2f} "
              f"{fn * 1e3:>21.2f}")


if __name__ == "__main__":
    main()

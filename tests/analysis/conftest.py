"""Models with a known mechanism for the analysis tests.

`handbuilt`: a 2-layer, 2-head model with one-hot residual subspaces, written by hand:
L0H0 copies the previous token into `prev`, L1H0 copies `prev` (attending to itself)
into `out`, MLP1 copies `out` into `fin`, the logits read `fin`. L0H1, L1H1 and MLP0
write only into `junk`, which nothing reads. Position 0 has no previous token, so L0H0
spreads its attention evenly there.
"""

import pytest
import torch

from interp.circuit import Circuit, Edge
from interp.model import HookedTransformer, ModelConfig, ResidualLabels

# Tiny models: one thread is ~25x faster than several competing for the shared cores.
torch.set_num_threads(1)

V, N = 4, 5  # vocabulary size, context length
TOK, POS, PREV, OUT, FIN, JUNK = 0, V, V + N, 2 * V + N, 3 * V + N, 4 * V + N
D_MODEL = 4 * V + N + 2

TRUE_EDGES = {
    Edge("pos_embed", "L0H0", "q"),
    Edge("pos_embed", "L0H0", "k"),
    Edge("embed", "L0H0", "v"),
    Edge("pos_embed", "L1H0", "q"),
    Edge("pos_embed", "L1H0", "k"),
    Edge("L0H0", "L1H0", "v"),
    Edge("L1H0", "MLP1"),
    Edge("MLP1", "logits"),
}


def build_handbuilt(attention_kind: str = "hard") -> HookedTransformer:
    cfg = ModelConfig(
        n_layers=2, d_model=D_MODEL, n_ctx=N, d_vocab=V, n_heads=2, d_head=N, d_mlp=8,
        attention_kind=attention_kind, attn_scale=0.01 if attention_kind == "softmax" else None,
        vocab=list("abcd"),
    )
    names = (
        [f"tok:{c}" for c in "abcd"] + [f"pos:{i}" for i in range(N)]
        + [f"prev:{c}" for c in "abcd"] + [f"out:{c}" for c in "abcd"]
        + [f"fin:{c}" for c in "abcd"] + ["junk:0", "junk:1"]
    )
    model = HookedTransformer(cfg, labels=ResidualLabels.from_names(names))
    with torch.no_grad():
        for t in range(V):
            model.embed.W_E[t, TOK + t] = 1.0
        for i in range(N):
            model.pos_embed.W_pos[i, POS + i] = 1.0
        a0, a1 = model.blocks[0].attn, model.blocks[1].attn
        for i in range(N):
            a0.W_Q[0, POS + i, i] = 1.0
            a1.W_Q[0, POS + i, i] = 1.0
            a1.W_K[0, POS + i, i] = 1.0
            if i + 1 < N:
                a0.W_K[0, POS + i, i + 1] = 1.0  # key j answers query j+1: previous token
        for t in range(V):
            a0.W_V[0, TOK + t, t] = 1.0
            a0.W_O[0, t, PREV + t] = 1.0
            a1.W_V[0, PREV + t, t] = 1.0
            a1.W_O[0, t, OUT + t] = 1.0
            a0.W_V[1, TOK + t, 0] = 1.0  # junk heads: token mass into junk
            a1.W_V[1, TOK + t, 0] = 0.5
        a0.W_O[1, 0, JUNK] = 1.0
        a1.W_O[1, 0, JUNK] = 1.0
        m0, m1 = model.blocks[0].mlp, model.blocks[1].mlp
        m0.W_in[TOK, 0] = 1.0
        m0.W_out[0, JUNK + 1] = 1.0
        for t in range(V):
            m1.W_in[OUT + t, t] = 1.0
            m1.W_out[t, FIN + t] = 1.0
            model.unembed.W_U[FIN + t, t] = 1.0
    return model


def random_model(**overrides) -> HookedTransformer:
    """A random 2-layer model with non-zero biases, so bias bookkeeping is exercised."""
    settings = dict(n_layers=2, d_model=16, n_ctx=6, d_vocab=7, n_heads=2, d_mlp=20, seed=0)
    settings.update(overrides)
    model = HookedTransformer(ModelConfig(**settings)).init_weights(std=0.3)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.split(".")[-1].startswith("b_"):
                param.copy_(torch.randn(param.shape, generator=generator) * 0.1)
    return model


@pytest.fixture
def handbuilt() -> HookedTransformer:
    return build_handbuilt()


@pytest.fixture
def handbuilt_truth() -> Circuit:
    return Circuit(sorted({e.src for e in TRUE_EDGES} | {"logits"}), sorted(TRUE_EDGES))


@pytest.fixture
def tokens() -> torch.Tensor:
    return torch.randint(0, V, (24, N), generator=torch.Generator().manual_seed(0))

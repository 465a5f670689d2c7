"""QK/OV circuits in named bases, checked against the hand-built model's known weights."""

from __future__ import annotations

import pytest
import torch
from conftest import N, random_model

from interp.analysis.head_circuits import head_circuits, nonzero_part, residual_layout
from interp.errors import InputError


def test_ov_of_the_previous_token_head_copies_tokens_into_prev(handbuilt):
    _, ov = head_circuits(handbuilt, 0, 0)
    part = nonzero_part(ov)
    assert part.rows == [f"tok:{c}" for c in "abcd"]
    assert part.columns == [f"prev:{c}" for c in "abcd"]
    assert torch.equal(part.values, torch.eye(4))


def test_qk_of_the_previous_token_head_matches_query_i_with_key_i_minus_1(handbuilt):
    qk, _ = head_circuits(handbuilt, 0, 0)
    part = nonzero_part(qk)
    # Built so that query position i meets key position i-1 (see conftest).
    assert part.rows == [f"pos:{i}" for i in range(1, N)]
    assert part.columns == [f"pos:{i}" for i in range(N - 1)]
    assert torch.equal(part.values, torch.eye(N - 1))


def test_token_basis_is_the_embedded_full_circuit():
    model = random_model()
    qk, ov = head_circuits(model, 1, 1, basis="tokens")
    w_e, w_u = model.W_E.detach(), model.W_U.detach()
    w_q, w_k = model.blocks[1].attn.W_Q[1].detach(), model.blocks[1].attn.W_K[1].detach()
    w_v, w_o = model.blocks[1].attn.W_V[1].detach(), model.blocks[1].attn.W_O[1].detach()
    expected_qk = torch.einsum("ad,de,fe,bf->ab", w_e, w_q, w_k, w_e)
    expected_ov = torch.einsum("ad,de,ef,fo->ao", w_e, w_v, w_o, w_u)
    assert torch.allclose(qk.values, expected_qk, atol=1e-5)
    assert torch.allclose(ov.values, expected_ov, atol=1e-5)
    assert qk.rows == [str(i) for i in range(model.cfg.d_vocab)]


def test_residual_layout_counts_directions_per_variable(handbuilt):
    layout = residual_layout(handbuilt)
    counts = dict(zip(layout.variables, layout.directions[:, 0].tolist()))
    assert counts == {"tok": 4, "pos": N, "prev": 4, "out": 4, "fin": 4, "junk": 2}
    assert layout.stages == list(range(5))


def test_bad_requests_are_input_errors(handbuilt):
    with pytest.raises(InputError, match="L5H0"):
        head_circuits(handbuilt, 5, 0)
    with pytest.raises(InputError, match="basis"):
        head_circuits(handbuilt, 0, 0, basis="neurons")
    with pytest.raises(InputError, match="residual labels"):
        residual_layout(random_model())

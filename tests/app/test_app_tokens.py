"""Token attention view: the page carries the model's own attention weights, per head or layer."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from app_harness import assert_clean, choose_view, start_app

from interp.app.attention_lines import attention_lines_html
from interp.app.subject import DEFAULT_MAX_LEN, DEFAULT_PROGRAM, library_subject


def _page_data(at) -> dict:
    frames = at.get("iframe")
    assert len(frames) == 1
    page = frames[0].proto.srcdoc
    payload = re.search(r"id='attention-data'>(.*?)</script>", page, re.S).group(1)
    return json.loads(payload)


@pytest.fixture(scope="module")
def tokens_app():
    at = choose_view(start_app(), "Token attention")
    at.text_input(key="input_text").set_value("a b c d").run()
    assert_clean(at)
    return at


def _reference_pattern(layer: int) -> np.ndarray:
    """The compiled reverse program's attention [head, query, key] on BOS a b c d, run here."""
    subject = library_subject(DEFAULT_PROGRAM, max_seq_len=DEFAULT_MAX_LEN)
    ids = torch.tensor([subject.compiled.encode(list("abcd"))])
    with torch.no_grad():
        _, cache = subject.model.run_with_cache(ids)
    return cache[f"blocks.{layer}.attn.hook_pattern"][0].numpy()


def test_all_heads_of_a_layer_with_their_weights(tokens_app):
    at = tokens_app
    at.selectbox(key="tokens_layer").set_value(2).run()
    at.selectbox(key="tokens_head").set_value("all heads").run()
    data = _page_data(at)
    assert data["tokens"][1:] == ["a", "b", "c", "d"]
    reference = _reference_pattern(2)
    assert len(data["heads"]) == reference.shape[0]
    for head, expected in zip(data["heads"], reference):
        assert np.allclose(head["weights"], expected, atol=1e-4)


def test_one_head_is_named_with_its_operation(tokens_app):
    at = tokens_app
    at.selectbox(key="tokens_layer").set_value(2).run()
    at.selectbox(key="tokens_head").set_value("H0").run()
    data = _page_data(at)
    assert len(data["heads"]) == 1
    assert data["heads"][0]["name"].startswith("L2H0: ") and "reverse" in data["heads"][0]["name"]
    assert np.allclose(data["heads"][0]["weights"], _reference_pattern(2)[0], atol=1e-4)


def test_the_page_is_self_contained_and_escapes_token_text():
    page = attention_lines_html(["</script><b>", "x"], np.full((1, 2, 2), 0.5), ["<h1>"])
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")  # no CDN, no fetch
    assert "</script><b>" not in page and "<h1>" not in page
    with pytest.raises(ValueError, match="do not match"):
        attention_lines_html(["a"], np.ones((1, 2, 2)), ["h"])

"""Bad checkpoints: every one is a CheckpointError naming the offending field or file, raised
before anything large is allocated (each case runs under an address-space rlimit of the
current size + 512 MB, so an attempt to allocate a model from a hostile config fails the
test instead of succeeding slowly)."""

from __future__ import annotations

import json
import math
import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from bounded import HEADROOM, bounded_memory
from safetensors.torch import load_file, save_file

from interp.errors import CheckpointError
from interp.limits import Limits
from interp.model import HookedTransformer, ModelConfig, load_model, save_model
from interp.model.checkpoint import CONFIG_FILE, WEIGHTS_FILE


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    cfg = ModelConfig(n_layers=1, d_model=4, n_ctx=3, d_vocab=3, n_heads=1, d_mlp=4,
                      normalization_type="LN", vocab=["a", "b", "c"], seed=0)
    directory = tmp_path_factory.mktemp("good") / "model"
    save_model(HookedTransformer(cfg).init_weights(), directory)
    return directory


@pytest.fixture
def copy(saved, tmp_path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(saved, target)
    return target


def _edit_config(directory: Path, edit: Callable[[dict], None]) -> None:
    path = directory / CONFIG_FILE
    header = json.loads(path.read_text())
    edit(header)
    path.write_text(json.dumps(header))


def _expect(directory: object, fragment: str, limits: Limits | None = None) -> None:
    with bounded_memory(), pytest.raises(CheckpointError) as info:
        load_model(directory, limits=limits)
    assert fragment in str(info.value), str(info.value)


# field, bad value, what the message must name
CONFIG_CASES = [
    ("attn_scale", 0, "attn_scale"),
    ("attn_scale", -1.0, "attn_scale"),
    ("attn_scale", "1", "attn_scale"),
    ("attn_scale", math.nan, "attn_scale"),
    ("attn_scale", math.inf, "attn_scale"),
    ("causal", "yes", "causal"),
    ("causal", 1, "causal"),
    ("d_mlp", -3, "d_mlp"),
    ("d_mlp", 2.5, "d_mlp"),
    ("d_model", 1e9, "d_model"),
    ("d_model", 10**9, "model_parameters"),
    ("d_model", 0, "d_model"),
    ("d_model", True, "d_model"),
    ("n_layers", 1e7, "n_layers"),
    ("n_layers", 10**7, "model_layers"),
    ("n_layers", -1, "n_layers"),
    ("n_heads", 0, "n_heads"),
    ("n_heads", "2", "n_heads"),
    ("d_head", 0, "d_head"),
    ("d_head", 10**8, "model_parameters"),
    ("n_ctx", 0, "n_ctx"),
    ("n_ctx", 10**12, "model_parameters"),
    ("eps", 0, "eps"),
    ("eps", -1e-5, "eps"),
    ("eps", "small", "eps"),
    ("act_fn", "tanh", "act_fn"),
    ("normalization_type", "RMS", "normalization_type"),
    ("attention_kind", "sparse", "attention_kind"),
    ("positional_embedding", "rotary", "positional_embedding"),
    ("vocab", ["a"], "vocab"),
    ("vocab", [1, 2, 3], "vocab"),
    ("vocab", "abc", "vocab"),
    ("vocab_out", ["x"], "vocab_out"),
    ("seed", "zero", "seed"),
    ("use_attn_result", "no", "use_attn_result"),
    ("use_split_qkv_input", None, "use_split_qkv_input"),
    ("d_vocab_out", 0, "d_vocab_out"),
    ("d_input", -2, "d_input"),
    ("model_name", 5, "model_name"),
    ("n_key_value_heads", 0, "n_key_value_heads"),
    ("unknown_field", 1, "unknown_field"),
]


@pytest.mark.parametrize("field,value,fragment", CONFIG_CASES, ids=[f"{c[0]}={c[1]!r}" for c in CONFIG_CASES])
def test_bad_config_field(copy, field, value, fragment):
    _edit_config(copy, lambda h: h["config"].__setitem__(field, value))
    _expect(copy, fragment)


def test_huge_vocabulary_hits_the_parameter_cap(copy):
    _edit_config(copy, lambda h: h["config"].update(d_vocab=10**9, vocab=None))
    _expect(copy, "model_parameters")


def test_missing_config_field(copy):
    _edit_config(copy, lambda h: h["config"].pop("d_model"))
    _expect(copy, "d_model")


@pytest.mark.parametrize("key,value", [("config", [1, 2]), ("metadata", "compiled"), ("labels", {"a": 1})])
def test_header_sections_of_the_wrong_type(copy, key, value):
    _edit_config(copy, lambda h: h.__setitem__(key, value))
    _expect(copy, repr(key))


def test_label_index_not_an_integer(copy):
    label = {"index": "0", "variable": "tokens", "value": "a"}
    _edit_config(copy, lambda h: h.__setitem__("labels", [label]))
    _expect(copy, "index")


def test_label_outside_the_residual(copy):
    _edit_config(copy, lambda h: h.__setitem__("labels", [{"index": 999, "variable": "tokens"}]))
    _expect(copy, "999")


def test_label_with_unknown_key(copy):
    _edit_config(copy, lambda h: h.__setitem__("labels", [{"index": 0, "variable": "t", "colour": 1}]))
    _expect(copy, "colour")


def test_wrong_format_and_version(copy):
    _edit_config(copy, lambda h: h.__setitem__("format", "hf-transformers"))
    _expect(copy, "format")
    _edit_config(copy, lambda h: h.update(format="interp-model", format_version=2))
    _expect(copy, "format_version")


def test_deeply_nested_config_is_refused_without_recursion(copy):
    (copy / CONFIG_FILE).write_text("[" * 200_000 + "]" * 200_000)
    _expect(copy, "nested")


def test_nesting_over_the_cap(copy):
    deep: object = 1
    for _ in range(40):
        deep = [deep]
    _edit_config(copy, lambda h: h["metadata"].__setitem__("deep", deep))
    _expect(copy, "config_nesting")


def test_oversized_config_file(copy):
    _edit_config(copy, lambda h: h["metadata"].__setitem__("padding", "x" * 1_100_000))
    _expect(copy, "config_bytes")


def test_config_not_utf8(copy):
    (copy / CONFIG_FILE).write_bytes(b'{"format": "\xff\xfe"}')
    _expect(copy, "not valid JSON")


@pytest.mark.parametrize("path", [None, 123, ""])
def test_load_model_of_a_non_path(path):
    _expect(path, repr(path))


def test_a_file_instead_of_a_directory(copy):
    _expect(copy / CONFIG_FILE, "not a directory")


def test_parameter_cap_is_overridable_and_named(copy):
    _expect(copy, "model_parameters", limits=Limits(model_parameters=10))
    assert load_model(copy, limits=Limits(model_parameters=10_000)).cfg.d_model == 4


def _edit_weights(directory: Path, edit: Callable[[dict], None]) -> None:
    tensors = load_file(str(directory / WEIGHTS_FILE))
    edit(tensors)
    save_file(tensors, str(directory / WEIGHTS_FILE))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_weights(copy, bad):
    _edit_weights(copy, lambda t: t["blocks.0.attn.W_Q"].view(-1).__setitem__(0, bad))
    _expect(copy, "blocks.0.attn.W_Q")


def test_weight_of_the_wrong_shape(copy):
    _edit_weights(copy, lambda t: t.__setitem__("blocks.0.mlp.W_in", torch.zeros(4, 5)))
    _expect(copy, "blocks.0.mlp.W_in")


def test_missing_and_unexpected_weights(copy):
    _edit_weights(copy, lambda t: t.__setitem__("blocks.0.extra", t.pop("unembed.b_U")))
    _expect(copy, "unembed.b_U")


def test_integer_weights(copy):
    _edit_weights(copy, lambda t: t.__setitem__("embed.W_E", torch.zeros(3, 4, dtype=torch.int32)))
    _expect(copy, "dtype")


def test_weights_header_claiming_a_huge_tensor_is_refused_before_reading(copy):
    """A hand-made safetensors header says W_E is 10^6 x 10^6: the shape check fires before
    any tensor is read or allocated."""
    header = json.dumps({"embed.W_E": {"dtype": "F32", "shape": [10**6, 10**6],
                                       "data_offsets": [0, 4 * 10**12]}}).encode()
    (copy / WEIGHTS_FILE).write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 64)
    _expect(copy, WEIGHTS_FILE)


def test_the_memory_bound_is_real():
    """The rlimit above must actually stop a large allocation, or the cases prove nothing."""
    with bounded_memory(), pytest.raises((MemoryError, RuntimeError)):
        torch.zeros(2 * HEADROOM // 4, dtype=torch.float32)

"""Bad uploads to the dashboard's model picker: each gives the project's CheckpointError with a
message naming the offending file and the fix, in bounded memory, and the app shows that exact
message instead of a traceback."""

from __future__ import annotations

import io
import json
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from interp.app.subject import library_subject, random_subject
from interp.app.upload import CHUNK, load_uploaded_model
from interp.errors import CheckpointError
from interp.limits import Limits
from interp.model import save_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))
from app_harness import assert_clean, errors, start_app  # noqa: E402

SMALL = Limits(upload_bytes=4 * CHUNK)  # a cap the tests can exceed cheaply


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> dict[str, bytes]:
    """config.json and model.safetensors of a small saved model."""
    directory = tmp_path_factory.mktemp("saved")
    save_model(random_subject().model, directory)
    return {name: (directory / name).read_bytes() for name in ("config.json", "model.safetensors")}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> dict[str, bytes]:
    """A saved compiled program (its config carries the compiler's layout)."""
    directory = tmp_path_factory.mktemp("compiled")
    library_subject("reverse", max_seq_len=4).compiled.save(directory)
    return {name: (directory / name).read_bytes() for name in ("config.json", "model.safetensors")}


def _zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _patched(data: bytes, old: bytes, new: bytes, count: int = -1) -> bytes:
    assert old in data
    return data.replace(old, new, count)


def _bomb(size: int) -> bytes:
    """A zip whose weights entry inflates to `size` zero bytes (a few KB compressed)."""
    return _zip({"config.json": b"{}", "model.safetensors": bytes(size)})


def _lying_header(good: dict[str, bytes]) -> bytes:
    """A zip whose weights entry claims 10 bytes in its headers but inflates to more."""
    data = _zip(good)
    real = len(good["model.safetensors"]).to_bytes(4, "little")
    return _patched(data, real, (10).to_bytes(4, "little"))


def _patch_headers(data: bytes, offset_local: int, offset_central: int, value: bytes) -> bytes:
    """Overwrite one 2-byte field in every local (PK\\3\\4) and central (PK\\1\\2) header."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", offset_local), (b"PK\x01\x02", offset_central)):
        start = out.find(signature)
        while start >= 0:
            out[start + offset:start + offset + 2] = value
            start = out.find(signature, start + 4)
    return bytes(out)


def _encrypted(good: dict[str, bytes]) -> bytes:
    """A zip whose entries are flagged as encrypted (general-purpose flag bit 0)."""
    return _patch_headers(_zip(good, zipfile.ZIP_STORED), 6, 8, b"\x01\x00")


def _unknown_method(good: dict[str, bytes]) -> bytes:
    """A zip whose entries use compression method 99 (not one zipfile knows)."""
    return _patch_headers(_zip(good, zipfile.ZIP_STORED), 8, 10, b"\x63\x00")


def _bad_crc(good: dict[str, bytes]) -> bytes:
    """A stored zip with one weights byte flipped (its CRC no longer matches)."""
    data = bytearray(_zip(good, zipfile.ZIP_STORED))
    start = bytes(data).index(good["model.safetensors"][-16:])
    data[start] ^= 0xFF
    return bytes(data)


def _corrupt_layout(compiled: dict[str, bytes]) -> dict[str, bytes]:
    config = json.loads(compiled["config.json"])
    config["metadata"]["layout"] = {"nonsense": 1}
    return {**compiled, "config.json": json.dumps(config).encode()}


# (case id, uploads builder, limits, message fragments that must all appear)
CASES = [
    ("zip bomb over the cap", lambda g, c: [("m.zip", _bomb(64 * CHUNK))], SMALL,
     ["m.zip", "model.safetensors", "upload_bytes=4194304", "set_limits(upload_bytes="]),
    ("zip bomb in config.json", lambda g, c: [("m.zip", _zip({"config.json": bytes(64 * CHUNK),
                                                              "model.safetensors": b"x"}))],
     SMALL, ["config.json", "upload_bytes"]),
    ("entries together over the cap", lambda g, c: [("m.zip", _zip({"config.json": bytes(3 * CHUNK),
                                                                    "model.safetensors": bytes(3 * CHUNK)}))],
     SMALL, ["m.zip", "upload_bytes"]),
    ("header lies about the size", lambda g, c: [("m.zip", _lying_header(g))], None,
     ["m.zip", "model.safetensors", "cannot read"]),
    ("two files over the cap", lambda g, c: [("config.json", g["config.json"]),
                                             ("model.safetensors", bytes(5 * CHUNK))], SMALL,
     ["the upload", "upload_bytes"]),
    ("not a zip", lambda g, c: [("m.zip", b"this is not a zip archive")], None,
     ["m.zip", "not a readable zip"]),
    ("truncated zip", lambda g, c: [("m.zip", _zip(g)[:200])], None, ["m.zip", "zip"]),
    ("empty zip", lambda g, c: [("m.zip", _zip({}))], None, ["m.zip", "lacks", "config.json"]),
    ("zip without weights", lambda g, c: [("m.zip", _zip({"config.json": g["config.json"]}))], None,
     ["m.zip", "lacks", "model.safetensors"]),
    ("zip with two configs", lambda g, c: [("m.zip", _zip({"a/config.json": g["config.json"],
                                                           "b/config.json": g["config.json"],
                                                           "model.safetensors": g["model.safetensors"]}))],
     None, ["more than one config.json"]),
    ("directory named like the config", lambda g, c: [("m.zip", _zip({"config.json/": b"",
                                                                      "model.safetensors": b"x"}))],
     None, ["lacks", "config.json"]),
    ("encrypted entries", lambda g, c: [("m.zip", _encrypted(g))], None, ["cannot read", "encrypted"]),
    ("unknown compression method", lambda g, c: [("m.zip", _unknown_method(g))], None,
     ["cannot read", "compression"]),
    ("bad CRC", lambda g, c: [("m.zip", _bad_crc(g))], None, ["cannot read", "CRC"]),
    ("nothing uploaded", lambda g, c: [], None, ["nothing was uploaded"]),
    ("config only", lambda g, c: [("config.json", g["config.json"])], None,
     ["missing ['model.safetensors']"]),
    ("an extra file", lambda g, c: [*g.items(), ("notes.txt", b"hi")], None,
     ["not part of a model: ['notes.txt']"]),
    ("the same file twice", lambda g, c: [("config.json", g["config.json"]), ("config.json", b"{}")],
     None, ["the same file name twice"]),
    ("config not JSON", lambda g, c: [("config.json", b"\xff\xfe not json"),
                                      ("model.safetensors", g["model.safetensors"])], None,
     ["uploaded config.json", "not valid JSON"]),
    ("config of another tool", lambda g, c: [("config.json", b'{"format": "keras"}'),
                                             ("model.safetensors", g["model.safetensors"])], None,
     ["uploaded config.json", "keras"]),
    ("weights not safetensors", lambda g, c: [("config.json", g["config.json"]),
                                              ("model.safetensors", b"\x00" * 64)], None,
     ["uploaded model.safetensors", "corrupt or truncated"]),
    ("weights of another model", lambda g, c: [("config.json", g["config.json"]),
                                               ("model.safetensors", c["model.safetensors"])], None,
     ["uploaded model.safetensors"]),
    ("corrupt compiler layout", lambda g, c: list(_corrupt_layout(c).items()), None,
     ["corrupt compiler metadata"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_upload_is_a_checkpoint_error_naming_the_problem(good, compiled, case):
    _, build, limits, fragments = case
    with pytest.raises(CheckpointError) as caught:
        load_uploaded_model(build(good, compiled), limits)
    message = str(caught.value)
    assert all(f in message for f in fragments), message
    assert "/tmp" not in message  # the temporary directory means nothing to the user


def test_zip_bomb_costs_bounded_memory():
    bomb = _bomb(64 * CHUNK)  # inflates to 64 MiB; the cap is 4 MiB
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match="upload_bytes"):
            load_uploaded_model([("bomb.zip", bomb)], SMALL)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * CHUNK, f"peak {peak} bytes while refusing a zip bomb"


def test_bomb_whose_header_claims_a_small_size_is_still_bounded():
    """The central directory says 10 bytes; the read stops at the cap (or the CRC) anyway."""
    data = _bomb(64 * CHUNK)
    size = (64 * CHUNK).to_bytes(4, "little")
    lying = data.replace(size, (10).to_bytes(4, "little"))
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError):
            load_uploaded_model([("bomb.zip", lying)], SMALL)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * CHUNK


def test_zip_slip_names_are_read_by_basename_and_load(good):
    subject = load_uploaded_model(
        [("m.zip", _zip({"../../config.json": good["config.json"],
                         "/abs/model.safetensors": good["model.safetensors"]}))])
    assert subject.ground_truth() is None
    assert subject.model.cfg.n_layers == random_subject().model.cfg.n_layers


@pytest.mark.parametrize("case", [c for c in CASES if c[2] is None][:4], ids=lambda c: c[0])
def test_the_app_shows_the_exact_message(good, compiled, case):
    _, build, _, _ = case
    uploads = build(good, compiled)
    with pytest.raises(CheckpointError) as caught:
        load_uploaded_model(uploads)
    at = start_app()
    at.radio(key="source").set_value("Upload a saved model").run()
    at.file_uploader(key="upload").set_value(
        [(name, data, "application/octet-stream") for name, data in uploads]).run()
    assert_clean(at)
    assert str(caught.value) in errors(at), errors(at)
    # The page lives on with the default model.
    assert at.get("plotly_chart")

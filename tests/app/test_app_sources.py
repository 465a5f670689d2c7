"""Model picker: typed RASP (syntax errors with line/column), uploads (good and bad)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from app_harness import assert_clean, chart, errors, start_app

from interp.app.subject import random_subject
from interp.app.upload import checkpoint_files, load_uploaded_model
from interp.errors import CheckpointError
from interp.model import save_model


@pytest.fixture(scope="module")
def saved_files(tmp_path_factory) -> dict[str, bytes]:
    """config.json and model.safetensors of a small saved model."""
    directory = tmp_path_factory.mktemp("saved")
    save_model(random_subject().model, directory)
    return {name: (directory / name).read_bytes() for name in ("config.json", "model.safetensors")}


def _zip(files: dict[str, bytes], prefix: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(prefix + name, data)
    return buffer.getvalue()


def _upload(files: list[tuple[str, bytes]]):
    at = start_app()
    at.radio(key="source").set_value("Upload a saved model").run()
    assert_clean(at)
    at.file_uploader(key="upload").set_value(
        [(name, data, "application/octet-stream") for name, data in files]).run()
    assert_clean(at)
    return at


def test_rasp_syntax_error_shows_line_and_column():
    at = start_app()
    at.radio(key="source").set_value("RASP code").run()
    at.text_area(key="rasp_text").set_value("x = select(indices, indices, ==);\ny = aggregate(x, ;\n")
    submit = [b for b in at.button if b.label == "Compile"][0]
    submit.click().run()
    assert_clean(at)
    message = " ".join(errors(at))
    assert "line 2, column 18" in message, message
    # The offending line is echoed with a caret under the column.
    assert any("^" in c.value and "aggregate(x, ;" in c.value for c in at.code)


def test_rasp_program_that_parses_is_accepted():
    at = start_app()
    at.radio(key="source").set_value("RASP code").run()
    [b for b in at.button if b.label == "Compile"][0].click().run()
    assert_clean(at)
    assert not errors(at)


def test_uploaded_model_is_shown(saved_files):
    at = _upload(list(saved_files.items()))
    assert not errors(at)
    assert "uploaded" in at.caption[-1].value or any("uploaded" in c.value for c in at.caption)
    assert chart(at, "attention_grid")["data"]


def test_uploaded_zip_is_shown(saved_files):
    at = _upload([("model.zip", _zip(saved_files, prefix="my_model/"))])
    assert not errors(at)
    assert chart(at, "attention_grid")["data"]


@pytest.mark.parametrize(
    "files, expected",
    [
        ([("config.json", b'{"format": "something-else"}'), ("model.safetensors", b"junk")],
         "different tool"),
        ([("model.safetensors", b"junk")], "missing ['config.json']"),
        ([("weights.zip", b"not a zip at all")], "not a zip"),
        ([("notes.json", b"{}"), ("config.json", b"{}")], "not part of a model"),
    ],
)
def test_non_model_upload_is_rejected_with_a_clear_message(files, expected):
    at = _upload(files)
    message = " ".join(errors(at))
    assert expected in message, message
    # The app falls back to the default model rather than showing nothing.
    assert chart(at, "attention_grid")["data"]


def test_uploaded_compiled_program_keeps_its_captions(tmp_path):
    from rasp.compiler import compile_program
    from rasp.lib import PROGRAMS

    compile_program(PROGRAMS["reverse"].build(), ["a", "b", "c"], 5).save(tmp_path)
    files = [(n, (tmp_path / n).read_bytes()) for n in ("config.json", "model.safetensors")]
    at = _upload(files)
    assert not errors(at)
    titles = [a["text"] for a in chart(at, "attention_grid")["layout"]["annotations"]]
    assert any("Aggregate" in t for t in titles), titles
    at.text_input(key="input_text").set_value("a b c").run()
    assert [m.value for m in at.markdown if m.value.startswith("**Output**")] == [
        "**Output** `c` `b` `a`"]


def test_corrupt_weights_are_rejected(saved_files):
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_uploaded_model([("config.json", saved_files["config.json"]),
                             ("model.safetensors", saved_files["model.safetensors"][:40])])


def test_zip_members_are_read_by_basename_only(saved_files):
    # A zip-slip path is never written anywhere: only the two known basenames are read.
    files = checkpoint_files([("m.zip", _zip(saved_files, prefix="../../evil/"))])
    assert sorted(files) == ["config.json", "model.safetensors"]
    assert json.loads(files["config.json"])["format"] == "interp-model"

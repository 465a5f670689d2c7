"""Turn files a user uploaded into a checkpoint directory for `interp.model.load_model`.

Only the project's format is accepted: `config.json` + `model.safetensors`, as two files
or one zip holding them. Every check of the contents is `load_model`'s; this module only
puts the bytes where `load_model` can read them.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from interp.errors import CheckpointError
from interp.model import HookedTransformer, load_model
from interp.model.checkpoint import CONFIG_FILE, WEIGHTS_FILE
from rasp.compiler import CompiledModel

NEEDED = (CONFIG_FILE, WEIGHTS_FILE)
ACCEPTED_TYPES = ["json", "safetensors", "zip"]


def checkpoint_files(uploads: Sequence[tuple[str, bytes]]) -> dict[str, bytes]:
    """Map `config.json`/`model.safetensors` to their bytes, from two files or one zip."""
    if len(uploads) == 1 and uploads[0][0].lower().endswith(".zip"):
        return _from_zip(*uploads[0])
    files = {Path(name).name: data for name, data in uploads}
    unexpected = sorted(set(files) - set(NEEDED))
    missing = [name for name in NEEDED if name not in files]
    if unexpected or missing:
        raise CheckpointError(
            f"uploaded {sorted(files)}: a saved model is exactly {CONFIG_FILE} and {WEIGHTS_FILE} "
            "(two files, or one .zip holding them), as written by interp.model.save_model"
            + (f"; missing {missing}" if missing else "")
            + (f"; not part of a model: {unexpected}" if unexpected else "")
            + "."
        )
    return files


def _from_zip(name: str, data: bytes) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as err:
        raise CheckpointError(f"{name}: not a zip archive ({err}).") from err
    found: dict[str, bytes] = {}
    with archive:
        for info in archive.infolist():
            # Only the two known basenames are read: no paths from the archive touch disk.
            base = Path(info.filename).name
            if base in NEEDED and not info.is_dir():
                if base in found:
                    raise CheckpointError(f"{name}: holds more than one {base}; zip one model only.")
                found[base] = archive.read(info)
    missing = [n for n in NEEDED if n not in found]
    if missing:
        raise CheckpointError(
            f"{name}: the zip lacks {missing}; it must hold {CONFIG_FILE} and {WEIGHTS_FILE} "
            "as written by interp.model.save_model."
        )
    return found


def load_uploaded_model(uploads: Sequence[tuple[str, bytes]]) -> tuple[HookedTransformer, Any]:
    """Load a model from uploaded (name, bytes) pairs: the model, and its CompiledModel when it
    was compiled from RASP (None otherwise). CheckpointError says what is wrong."""
    files = checkpoint_files(uploads)
    with tempfile.TemporaryDirectory(prefix="interp-upload-") as directory:
        for base, data in files.items():
            (Path(directory) / base).write_bytes(data)
        try:
            model = load_model(directory)
            if "compiler" not in model.metadata:
                return model, None
            # A compiled program keeps its decoding and layout in the metadata: restore them
            # so the views can caption heads and decode the residual stream.
            compiled = CompiledModel.load(directory)
            return compiled.model, compiled
        except CheckpointError as err:
            # The temporary path means nothing to the user; name the upload instead.
            raise CheckpointError(str(err).replace(directory + "/", "uploaded ")) from err

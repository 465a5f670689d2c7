"""Turn files a user uploaded into a checkpoint directory for `interp.model.load_model`.

Only the project's format is accepted: `config.json` + `model.safetensors`, as two files
or one zip holding them. Every check of the contents is `load_model`'s; this module only
puts the bytes where `load_model` can read them, reading at most `upload_bytes`
(interp.limits) of them: a zip entry is read in chunks and dropped at the cap, whatever
size its header claims, so a zip bomb costs one chunk of memory, not gigabytes.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from interp.errors import CheckpointError, InputError
from interp.limits import Limits, current_limits
from interp.model.checkpoint import CONFIG_FILE, WEIGHTS_FILE
from interp.subjects import Subject, saved_subject

NEEDED = (CONFIG_FILE, WEIGHTS_FILE)
ACCEPTED_TYPES = ["json", "safetensors", "zip"]
CHUNK = 2**20  # bytes read from a zip entry at a time


def _too_big(what: str, limits: Limits) -> CheckpointError:
    return CheckpointError(
        f"{what} is larger than the upload cap upload_bytes={limits.upload_bytes} bytes; "
        "upload a smaller model, or raise the cap with interp.limits.set_limits(upload_bytes=...) "
        "before starting the app."
    )


def checkpoint_files(uploads: Sequence[tuple[str, bytes]], limits: Limits | None = None) -> dict[str, bytes]:
    """Map `config.json`/`model.safetensors` to their bytes, from two files or one zip;
    in all at most `limits.upload_bytes` (default: the process's caps)."""
    limits = limits or current_limits()
    if not uploads:
        raise CheckpointError(f"nothing was uploaded; upload {CONFIG_FILE} and {WEIGHTS_FILE} "
                              "(or one .zip holding them).")
    if sum(len(data) for _, data in uploads) > limits.upload_bytes:
        raise _too_big("the upload", limits)
    if len(uploads) == 1 and uploads[0][0].lower().endswith(".zip"):
        return _from_zip(*uploads[0], limits=limits)
    files = {Path(name).name: data for name, data in uploads}
    if len(files) < len(uploads):
        raise CheckpointError(f"uploaded {[name for name, _ in uploads]}: the same file name twice; "
                              f"upload one {CONFIG_FILE} and one {WEIGHTS_FILE}.")
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


def _from_zip(name: str, data: bytes, limits: Limits) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as err:
        raise CheckpointError(f"{name}: not a readable zip archive ({err}).") from err
    found: dict[str, bytes] = {}
    budget = limits.upload_bytes
    with archive:
        for info in archive.infolist():
            # Only the two known basenames are read: no paths from the archive touch disk.
            base = Path(info.filename).name
            if base in NEEDED and not info.is_dir():
                if base in found:
                    raise CheckpointError(f"{name}: holds more than one {base}; zip one model only.")
                if info.file_size > budget:
                    # The header's size can lie; the chunked read below is the real bound.
                    raise _too_big(f"{name}: {info.filename} (uncompressed {info.file_size} bytes)", limits)
                found[base] = _read_bounded(archive, info, name, budget, limits)
                budget -= len(found[base])
    missing = [n for n in NEEDED if n not in found]
    if missing:
        raise CheckpointError(
            f"{name}: the zip lacks {missing}; it must hold {CONFIG_FILE} and {WEIGHTS_FILE} "
            "as written by interp.model.save_model."
        )
    return found


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, budget: int,
                  limits: Limits) -> bytes:
    """An entry's bytes, read a chunk at a time and refused once past `budget`."""
    chunks, total = [], 0
    try:
        with archive.open(info) as entry:
            while chunk := entry.read(CHUNK):
                total += len(chunk)
                if total > budget:
                    raise _too_big(f"{name}: {info.filename} (uncompressed, read so far)", limits)
                chunks.append(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError,
            OSError, ValueError) as err:
        # Corrupt data, a bad CRC, an encrypted entry or an unsupported compression method.
        raise CheckpointError(f"{name}: cannot read {info.filename} from the zip ({err}).") from err
    return b"".join(chunks)


def load_uploaded_model(uploads: Sequence[tuple[str, bytes]], limits: Limits | None = None) -> Subject:
    """The model in uploaded (name, bytes) pairs, loaded by the front door (interp.subjects):
    with its CompiledModel when it was compiled from RASP. CheckpointError says what is wrong."""
    files = checkpoint_files(uploads, limits)
    title = uploads[0][0] if len(uploads) == 1 else f"{CONFIG_FILE} + {WEIGHTS_FILE}"
    with tempfile.TemporaryDirectory(prefix="interp-upload-") as directory:
        for base, data in files.items():
            (Path(directory) / base).write_bytes(data)
        try:
            subject = saved_subject(directory, title=f"uploaded: {title}")
        except CheckpointError as err:
            # The temporary path means nothing to the user; name the upload instead.
            raise CheckpointError(str(err).replace(directory + "/", "uploaded ")
                                  .replace(directory, "the upload")) from err
    if subject.reads_vectors:
        raise InputError(f"{title}: the model reads vectors (d_input={subject.model.cfg.d_input}); "
                         "upload a token model.")
    return subject

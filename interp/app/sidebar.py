"""Sidebar: choose the model on screen (library program, typed RASP, upload, or default)."""

from __future__ import annotations

import hashlib

import streamlit as st

import rasp
from interp.app.subject import (
    DEFAULT_MAX_LEN,
    DEFAULT_PROGRAM,
    DEFAULT_RASP,
    Subject,
    library_subject,
    parse_vocab,
    rasp_text_subject,
)
from interp.app.upload import ACCEPTED_TYPES, load_uploaded_model
from interp.errors import InterpError
from interp.shipped import SHIPPED
from interp.subjects import Resolved, resolve, subject_of
from interp.subjects.resolver import (
    LIBRARY,
    SHIPPED_MODEL,
    SHIPPED_PROGRAM,
    SHIPPED_SIIT,
    shipped_model_names,
)
from rasp.lib import PROGRAMS

SOURCES = ("Library program", "RASP code", "Shipped trained model", "Transformer Program",
           "Upload a saved model", "By name (as in the CLI)")
USER_ERRORS = (InterpError, rasp.RASPError)
PACKAGED = (SHIPPED_MODEL, SHIPPED_SIIT, SHIPPED_PROGRAM)  # files that ship with the package
LAST_GOOD = "last_good_subject"  # session key: the model shown when a new choice fails


@st.cache_resource(show_spinner="Compiling…")
def cached_library(name: str, vocab: tuple, max_seq_len: int) -> Subject:
    """Compiled library programs, shared across reruns and sessions."""
    return library_subject(name, list(vocab), max_seq_len)


@st.cache_resource(show_spinner="Compiling…")
def cached_rasp_text(text: str, vocab: tuple, max_seq_len: int) -> Subject:
    """Compiled typed programs, keyed by their text."""
    return rasp_text_subject(text, list(vocab), max_seq_len)


@st.cache_resource(show_spinner="Loading…")
def cached_upload(digest: str, _files: tuple[tuple[str, bytes], ...]) -> Subject:
    """Uploaded models, keyed by a hash of their names and bytes (`_files` is not hashed)."""
    return load_uploaded_model(list(_files))


def cached_named(name: str) -> Subject:
    """A model by any name every command accepts, resolved first (the front door's rule) and
    cached by what it resolved to: `model:addition-1l` and `addition-1l` load once, and a
    library program named here is the one the library picker compiled."""
    resolved = resolve(name)
    if resolved.kind == LIBRARY:
        entry = PROGRAMS[resolved.key]
        return cached_library(resolved.key, tuple(entry.vocab), entry.max_seq_len)
    return cached_resolved(resolved.name, resolved.kind, str(resolved.location), _stamp(resolved))


@st.cache_resource(show_spinner="Loading…")
def cached_resolved(name: str, kind: str, location: str, stamp: float) -> Subject:
    """A resolved model, loaded once per (canonical name, kind, location, files' age)."""
    return subject_of(resolve(name))


def _stamp(resolved: Resolved) -> float:
    """Newest modification time of a user's file or folder (0 for packaged models): a model
    saved again under the same path is loaded again, never served stale from the cache."""
    if resolved.kind in PACKAGED or resolved.location is None:
        return 0.0
    path = resolved.location
    files = [path] + (list(path.rglob("*")) if path.is_dir() else [])
    return max(f.stat().st_mtime for f in files)


def available_shipped() -> list[str]:
    """Shipped models whose files are present (the registry may list ones still training)."""
    return shipped_model_names()


def default_subject() -> Subject:
    """The library's default program, compiled."""
    entry = PROGRAMS[DEFAULT_PROGRAM]
    return cached_library(DEFAULT_PROGRAM, tuple(entry.vocab), min(DEFAULT_MAX_LEN, entry.max_seq_len))


def pick_subject() -> Subject:
    """Draw the model picker and return the chosen model; on a problem, the last model that
    loaded (the default before any), with the problem shown above the views too."""
    failed = False
    with st.sidebar:
        st.header("Model")
        source = st.radio("Source", SOURCES, key="source")
        try:
            if source == SOURCES[0]:
                subject = _pick_library()
            elif source == SOURCES[1]:
                subject = _pick_rasp_text()
            elif source == SOURCES[2]:
                subject = _pick_shipped()
            elif source == SOURCES[3]:
                subject = _pick_program()
            elif source == SOURCES[4]:
                subject = _pick_upload()
            else:
                subject = _pick_by_name()
        except rasp.RASPSyntaxError as err:
            st.error(f"RASP syntax error: {err}")
            st.code(_caret(st.session_state.get("rasp_submitted", ("",))[0], err), language=None)
            subject, failed = None, True
        except USER_ERRORS as err:
            st.error(str(err))
            subject, failed = None, True
        except RecursionError:
            # A recursive `def` or very deep nesting; the parser should raise its own error
            # for these, and this keeps the page alive if one slips through.
            st.error("The program nests too deeply to evaluate (a recursive def, or expressions "
                     "nested hundreds deep): RASP has no recursion; unroll it or simplify.")
            subject, failed = None, True
        if subject is None:
            # Keep the last model that loaded on screen rather than jumping to the default.
            subject = st.session_state.get(LAST_GOOD) or default_subject()
            st.caption(f"Showing the last model that loaded: {subject.title}")
        else:
            st.session_state[LAST_GOOD] = subject
    if failed:
        st.error(f"The chosen model did not load (the error is in the sidebar); the views below "
                 f"still show the last model that loaded: {subject.title}.")
    return subject


def _pick_library() -> Subject | None:
    name = st.selectbox("Program", sorted(PROGRAMS), index=sorted(PROGRAMS).index(DEFAULT_PROGRAM),
                        key="library_program")
    entry = PROGRAMS[name]
    st.caption(entry.description)
    vocab_text = st.text_input("Vocabulary", " ".join(map(str, entry.vocab)),
                               key=f"library_vocab_{name}")
    max_len = st.number_input("Max length", min_value=1, max_value=entry.max_seq_len,
                              value=min(DEFAULT_MAX_LEN, entry.max_seq_len),
                              key=f"library_max_len_{name}")
    vocab = parse_vocab(vocab_text, like=entry.vocab)
    return cached_library(name, tuple(vocab), int(max_len))


def _pick_rasp_text() -> Subject | None:
    with st.form("rasp_form"):
        text = st.text_area("RASP program (the last assignment is the output)", DEFAULT_RASP,
                            height=180, key="rasp_text")
        vocab_text = st.text_input("Vocabulary", "a b c d", key="rasp_vocab")
        max_len = st.number_input("Max length", min_value=1, max_value=32, value=6,
                                  key="rasp_max_len")
        submitted = st.form_submit_button("Compile")
    if submitted:
        st.session_state["rasp_submitted"] = (text, vocab_text, int(max_len))
    if "rasp_submitted" not in st.session_state:
        st.caption("Edit the program and press Compile.")
        return None
    text, vocab_text, max_len = st.session_state["rasp_submitted"]
    # Parse before reading the vocabulary, so a syntax error is the one reported.
    rasp.parse(text)
    vocab = parse_vocab(vocab_text)
    return cached_rasp_text(text, tuple(vocab), max_len)


def _pick_shipped() -> Subject | None:
    names = available_shipped()
    if not names:
        st.caption("No trained model is shipped in this checkout (interp/shipped).")
        return None
    name = st.selectbox("Shipped model", names, key="shipped_model",
                        format_func=lambda n: f"{n} — {SHIPPED[n]}")
    return cached_named(f"model:{name}")


def _pick_program() -> Subject | None:
    from interp.programs.shipped import shipped_programs  # Transformer Programs load only when picked

    names = sorted(shipped_programs())
    if not names:
        st.caption("No Transformer Program is shipped in this checkout (interp/shipped/programs).")
        return None
    entries = shipped_programs()
    name = st.selectbox("Transformer Program", names, key="shipped_program",
                        format_func=lambda n: f"{n} — task {entries[n].get('task', n)}")
    accuracy = entries[name].get("hard_test_accuracy")
    if accuracy is not None:
        st.caption(f"test accuracy of the discrete program: {accuracy:.4f}")
    return cached_named(f"program:{name}")


def _pick_by_name() -> Subject | None:
    """Any name `interp` commands accept: resolved by the front door's one rule."""
    name = st.text_input("Name (`interp models` lists them; a model or run folder works too)",
                         key="named_model").strip()
    if not name:
        st.caption("e.g. addition-1l, program:sort, sort, runs/my-run")
        return None
    return cached_named(name)


def _pick_upload() -> Subject | None:
    uploads = st.file_uploader(
        "config.json + model.safetensors (or one .zip of them)", type=ACCEPTED_TYPES,
        accept_multiple_files=True, key="upload",
    )
    if not uploads:
        st.caption("Upload a model saved with interp.model.save_model.")
        return None
    files = tuple((f.name, f.getvalue()) for f in uploads)
    digest = hashlib.sha256(b"".join(name.encode() + data for name, data in files)).hexdigest()
    return cached_upload(digest, files)


def _caret(text: str, err: rasp.RASPSyntaxError) -> str:
    """The offending source line with a caret under the error's column."""
    lines = text.splitlines()
    if not 1 <= err.line <= len(lines):
        return str(err)
    return f"{err.line:>4} | {lines[err.line - 1]}\n       {' ' * (err.column - 1)}^"

#!/usr/bin/env bash
# Creates the tracr venv used by benchmarks/tracr_side/measure_tracr.py.
# Kept OUTSIDE the repo and separate from the project's environment: tracr, jax,
# haiku are NOT project dependencies.  Idempotent: re-running only (re)installs
# the pinned packages into an existing venv.
#
# Usage: bash benchmarks/tracr_side/setup.sh [VENV_DIR]   (default /work/tracr-venv)
#
# Verified on CPU, Python 3.11.7: tracr-pypi 1.0.0 (PyPI name of deepmind/tracr),
# jax/jaxlib 0.4.30, dm-haiku 0.0.12, numpy 1.26.4, chex 0.1.86.
set -euo pipefail
VENV="${1:-/work/tracr-venv}"
PY="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q \
  "jax==0.4.30" "jaxlib==0.4.30" "dm-haiku==0.0.12" "numpy==1.26.4" \
  "chex==0.1.86" einops networkx typing-extensions "tracr-pypi==1.0.0"

# Smoke test: compile make_length and run it.
"$VENV/bin/python" - <<'PYEOF'
from tracr.compiler import compiling, lib
from tracr.rasp import rasp  # noqa: F401
m = compiling.compile_rasp_to_model(lib.make_length(), vocab={"a", "b", "c"},
                                    max_seq_len=5, compiler_bos="BOS")
out = m.apply(["BOS", "a", "b"]).decoded
assert out == ["BOS", 2, 2], out
print("tracr OK:", out)
PYEOF

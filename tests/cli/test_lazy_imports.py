"""Commands that never touch a model start without torch or TransformerLens (issue 9 item 7;
benchmarks/startup.py measures the time, tests only check what is imported)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import sys
{body}
heavy = sorted(m for m in ("torch", "transformer_lens", "streamlit", "numpy") if m in sys.modules)
assert not heavy, f"imported {{heavy}}"
"""


def run_python(body: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHECK.format(body=body)], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def test_rasp_command_and_help_import_no_torch():
    body = ("from interp.cli import main\n"
            "assert main(['rasp', 'reverse', '--input', 'a b c']) == 0\n"
            "assert main(['rasp', 'hist', '--input', 'a z', '--json']) == 2\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n")
    result = run_python(body)
    assert result.returncode == 0, result.stderr
    assert "output: ['c', 'b', 'a']" in result.stdout


def test_import_interp_is_light_until_a_model_is_named():
    result = run_python("import interp, interp.subjects, interp.errors\n")
    assert result.returncode == 0, result.stderr
    loaded = subprocess.run([sys.executable, "-c", "import interp, sys; interp.ModelConfig; "
                             "assert 'torch' in sys.modules"], cwd=ROOT, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr

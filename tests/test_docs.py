"""The documentation runs: every ```python block of README.md and of every README.md under
rasp/, interp/, interp/app/, studies/ and benchmarks/ (concatenated per file, in order, in a fresh
interpreter whose working directory is a temporary folder), and every ```bash / ```sh block
made of `interp ...` commands (run with this environment's `interp`).

A block right after `<!-- doc-test: skip REASON -->` never runs; one after
`<!-- doc-test: long -->` runs only with DOC_TESTS=long. A shell block with any other command
must carry one of the two marks, so no block is left out silently."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC_DIRS = ("rasp", "interp", "studies", "benchmarks")
RUN_LONG = os.environ.get("DOC_TESTS") == "long"
TIMEOUT_S = 300  # per file or block: a hung snippet fails instead of stalling the suite

_FENCE = re.compile(r"^```\s*([\w+-]*)\s*$")
_MARK = re.compile(r"^<!--\s*doc-test:\s*(skip|long)\b\s*(.*?)\s*-->$")
_SHELL = ("bash", "sh", "shell")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    path: str  # relative to the repository root (or a test's name)
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    mark: str | None = None  # "skip" or "long"
    reason: str = ""

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def extract(text: str, path: str) -> list[Block]:
    """Every fenced block of `text`, with the doc-test mark on the last non-blank line before it."""
    blocks, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        start, lang = i, fence.group(1).lower()
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), None)
        if end is None:
            raise ValueError(f"{path}:{start + 1}: a code block is never closed")
        before = next((lines[j].strip() for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        mark = _MARK.match(before)
        blocks.append(Block(path, start + 1, lang, "\n".join(lines[start + 1:end]) + "\n",
                            mark.group(1) if mark else None, mark.group(2) if mark else ""))
        i = end + 1
    return blocks


def runs(block: Block, long: bool = RUN_LONG) -> bool:
    """Whether the block runs in this session (its language is run and its mark allows it)."""
    if block.lang not in ("python", *_SHELL) or block.mark == "skip":
        return False
    return block.mark != "long" or long


def shell_commands(block: Block) -> list[str]:
    """The commands of a shell block; ValueError when one is not `interp ...` and the block is unmarked."""
    commands = [line.strip() for line in block.code.splitlines()
                if line.strip() and not line.strip().startswith("#")]
    others = [c for c in commands if not (c == "interp" or c.startswith("interp "))]
    if others and block.mark is None:
        raise ValueError(f"{block.where}: the shell block runs {others[0]!r}, not an `interp` command; "
                         "mark it <!-- doc-test: skip REASON --> (or long) or make it an interp command")
    return commands


def run_python(blocks: list[Block], cwd: Path) -> subprocess.CompletedProcess:
    """Run the blocks as one script (in order) in a fresh interpreter in `cwd`."""
    script = cwd / "doc_snippets.py"
    script.write_text("".join(f"# --- {b.where}\n{b.code}" for b in blocks))
    return subprocess.run([sys.executable, str(script)], cwd=cwd, capture_output=True, text=True,
                          timeout=TIMEOUT_S, env=_environment())


def run_shell(block: Block, cwd: Path) -> subprocess.CompletedProcess:
    """Run a shell block with `set -e` in `cwd`, this environment's `interp` first on PATH."""
    shell_commands(block)
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block.code], cwd=cwd, capture_output=True,
                          text=True, timeout=TIMEOUT_S, env=_environment())


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["MPLBACKEND"] = "Agg"
    return env


def doc_files() -> list[Path]:
    found = [ROOT / "README.md"]
    for folder in DOC_DIRS:
        found += sorted(p for p in (ROOT / folder).rglob("README.md") if ".venv" not in p.parts)
    return found


def _blocks() -> dict[str, list[Block]]:
    return {str(p.relative_to(ROOT)): extract(p.read_text(), str(p.relative_to(ROOT))) for p in doc_files()}


BLOCKS = _blocks()
PYTHON_FILES = [name for name, blocks in BLOCKS.items() if any(b.lang == "python" for b in blocks)]
SHELL_BLOCKS = [b for blocks in BLOCKS.values() for b in blocks if b.lang in _SHELL]


def _explain(result: subprocess.CompletedProcess) -> str:
    out, err = result.stdout[-3000:], result.stderr[-3000:]
    return f"exit {result.returncode}\n--- stdout\n{out}\n--- stderr\n{err}"


@pytest.mark.parametrize("name", PYTHON_FILES)
def test_python_blocks_run(name: str, tmp_path: Path):
    blocks = [b for b in BLOCKS[name] if b.lang == "python" and runs(b)]
    if not blocks:
        pytest.skip("every python block of this file is marked skip or long (DOC_TESTS=long runs long ones)")
    result = run_python(blocks, tmp_path)
    assert result.returncode == 0, f"{name}: {_explain(result)}"


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=[b.where for b in SHELL_BLOCKS])
def test_shell_blocks_run(block: Block, tmp_path: Path):
    shell_commands(block)  # an unmarked non-interp block fails here
    if not runs(block):
        pytest.skip(f"marked {block.mark}: {block.reason or 'DOC_TESTS=long runs it'}")
    result = run_shell(block, tmp_path)
    assert result.returncode == 0, f"{block.where}: {_explain(result)}"


def test_snippets_write_nothing_into_the_repository():
    # Snippets run in a temporary folder; a path into the repository would defeat that.
    for blocks in BLOCKS.values():
        for block in blocks:
            assert str(ROOT) not in block.code, block.where


# The runner itself: it must be able to fail.

BROKEN = '''# A broken page

```python
x = 1
```

Some prose.

```python
print(x + undefined_name)
```

<!-- doc-test: skip needs a GPU -->
```python
raise SystemExit(3)
```

```bash
interp no-such-command
```

```bash
rm -rf somewhere
```

<!-- doc-test: long -->
```bash
interp models
```
'''


def test_extractor_reads_languages_lines_and_marks():
    blocks = extract(BROKEN, "broken.md")
    assert [(b.line, b.lang, b.mark) for b in blocks] == [
        (3, "python", None), (9, "python", None), (14, "python", "skip"), (18, "bash", None),
        (22, "bash", None), (27, "bash", "long")]
    assert blocks[2].reason == "needs a GPU"
    assert [runs(b, long=False) for b in blocks] == [True, True, False, True, True, False]
    assert runs(blocks[5], long=True)
    with pytest.raises(ValueError, match="never closed"):
        extract("```python\nx = 1\n", "open.md")


def test_a_broken_python_block_fails_and_later_blocks_see_earlier_names(tmp_path: Path):
    python = [b for b in extract(BROKEN, "broken.md") if b.lang == "python" and runs(b, long=False)]
    result = run_python(python, tmp_path)
    assert result.returncode != 0 and "NameError: name 'undefined_name'" in result.stderr
    assert "broken.md:9" in (tmp_path / "doc_snippets.py").read_text()  # the error points at the block
    fixed = run_python([python[0], Block("fixed.md", 1, "python", "assert x == 1\n")], tmp_path)
    assert fixed.returncode == 0, fixed.stderr


def test_a_failing_interp_command_fails_and_other_commands_need_a_mark(tmp_path: Path):
    bad, other = (b for b in extract(BROKEN, "broken.md") if b.lang == "bash" and b.mark is None)
    result = run_shell(bad, tmp_path)
    assert result.returncode == 2 and "no-such-command" in result.stderr
    with pytest.raises(ValueError, match="not an `interp` command"):
        shell_commands(other)


# The README's layout table and links.

def _layout_section() -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"^## Layout.*?(?=^## )", text, flags=re.S | re.M)
    assert match, "README.md has no '## Layout' section"
    return match.group(0)


def test_layout_table_names_every_package():
    layout = _layout_section()
    packages = [p.parent for pattern in ("*/__init__.py", "*/*/__init__.py") for p in ROOT.glob(pattern)]
    modules = [p for p in (ROOT / "interp").glob("*.py") if p.name != "__init__.py"]
    for path in packages + modules:
        name = path.relative_to(ROOT).as_posix()
        if name.split("/")[0] in ("tests", "build") or ".egg-info" in name:
            continue
        shown = f"`{name}/`" if path.is_dir() else f"`{name}`"
        assert shown in layout, f"README.md's layout table does not list {shown}"


def _prose(text: str) -> str:
    """`text` without fenced code blocks and inline code (where `](` is code, not a link)."""
    return re.sub(r"`[^`\n]*`", "", re.sub(r"^```.*?^```", "", text, flags=re.S | re.M))


def test_readme_links_stay_inside_the_repository():
    assert _prose("a [b](c.md) `x[0](y)`\n```python\nf[0](z)\n```\n") == "a [b](c.md) \n\n"
    for path in doc_files():
        for target in re.findall(r"\]\(([^)#\s]+)", _prose(path.read_text())):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            resolved = (path.parent / target).resolve()
            assert resolved.is_relative_to(ROOT) and resolved.exists(), f"{path.name} links {target}"
        assert "../shared" not in path.read_text(), f"{path} points outside the repository"

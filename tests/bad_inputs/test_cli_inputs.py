"""Bad input at the command line: every case exits with status 2, prints exactly one `error:`
line naming the offending thing (no traceback), and with --json ends stdout with one JSON
object {"error", "kind"}. Cases run in-process through `interp.cli.main` (fast); a few run
as real subprocesses under a memory limit."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from interp.cli import main
from interp.model import HookedTransformer, ModelConfig
from rasp.compiler import compile_program
from rasp.lib import PROGRAMS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    """Every bad (and the few good) files the cases name, by placeholder."""
    base = tmp_path_factory.mktemp("bad_cli")
    compiled = base / "compiled"
    compile_program(PROGRAMS["reverse"].build(), ["a", "b"], 3).save(compiled)
    plain = base / "plain"
    HookedTransformer(ModelConfig(n_layers=1, d_model=4, n_ctx=4, d_vocab=3, d_mlp=4, seed=0)).save(plain)

    def corrupt(name: str, change) -> str:
        target = base / name
        shutil.copytree(compiled, target)
        header = json.loads((target / "config.json").read_text())
        change(header)
        (target / "config.json").write_text(json.dumps(header))
        return str(target)

    texts = {
        "raises.py": "import rasp\n\nprogram = rasp.Map(lambda x: x, rasp.tokens)\nx = 1 / 0\n",
        "syntax.py": "program = (\n",
        "noprogram.py": "import rasp\nx = rasp.tokens\n",
        "notsop.py": "program = 5\n",
        "strvocab.py": "import rasp\nprogram = rasp.tokens\nvocab = 'abc'\n",
        "zerolen.py": "import rasp\nprogram = rasp.tokens\nvocab = ['a']\nmax_seq_len = 0\n",
        "exits.py": "import sys\nsys.exit(3)\n",
        "badsyntax.rasp": "x = = 3;\n",
        "good.rasp": "out = aggregate(select(indices, length - indices - 1, ==), tokens);\n",
        "afile.txt": "not a directory\n",
    }
    for name, text in texts.items():
        (base / name).write_text(text)
    (base / "latin1.rasp").write_bytes("x = tokens; # caf\xe9\n".encode("latin-1"))
    (base / "adir").mkdir()
    (base / "notes").mkdir()
    (base / "notes" / "config.json").write_text('{"my": "settings"}')
    return {
        "compiled": str(compiled),
        "plain": str(plain),
        "missing": str(base / "missing"),
        "meta_vocab": corrupt("meta_vocab", lambda h: h["metadata"]["compiler"].update(vocab=5)),
        "meta_missing": corrupt("meta_missing", lambda h: h["metadata"]["compiler"].pop("bos")),
        "meta_len": corrupt("meta_len", lambda h: h["metadata"]["compiler"].update(max_seq_len=99)),
        "meta_nlen": corrupt("meta_nlen", lambda h: h["metadata"]["compiler"].update(max_seq_len=-1)),
        "meta_outvals": corrupt("meta_outvals",
                                lambda h: h["metadata"]["compiler"].update(output_values=["a"])),
        "meta_layout": corrupt("meta_layout", lambda h: h["metadata"].update(layout={"bogus": 1})),
        "meta_none": corrupt("meta_none", lambda h: h["metadata"].update(compiler="yes")),
        "broken_json": corrupt("broken_json", lambda h: None),
        **{name.replace(".", "_"): str(base / name) for name in [*texts, "latin1.rasp"]},
        "adir": str(base / "adir"),
        "notes": str(base / "notes"),
        "out_under_file": str(base / "afile.txt" / "model"),
        "base": str(base),
    }


# (id, argv with {placeholders}, words the error line must contain)
CASES: list[tuple[str, str, list[str]]] = [
    # numeric flags
    ("max-len-zero", "compile reverse --max-len 0 --out {base}/o", ["--max-len", "'0'"]),
    ("max-len-negative", "compile reverse --max-len -3 --out {base}/o", ["--max-len", "'-3'"]),
    ("max-len-text", "compile reverse --max-len abc --out {base}/o", ["--max-len", "'abc'"]),
    ("max-len-float", "compile reverse --max-len 1.5 --out {base}/o", ["--max-len", "'1.5'"]),
    ("max-len-huge-digits", "compile reverse --max-len " + "9" * 5000 + " --out {base}/o", ["--max-len"]),
    ("discover-max-len-zero", "discover reverse --max-len 0", ["--max-len", "'0'"]),
    ("threshold-nan", "discover reverse --threshold nan", ["--threshold", "'nan'"]),
    ("threshold-inf", "discover reverse --threshold inf", ["--threshold", "'inf'"]),
    ("threshold-negative", "discover reverse --threshold -1", ["--threshold", "'-1'"]),
    ("threshold-text", "discover reverse --threshold lots", ["--threshold", "'lots'"]),
    ("ig-steps-zero", "discover reverse --method eap-ig --ig-steps 0", ["--ig-steps", "'0'"]),
    ("ig-steps-negative", "discover reverse --method eap-ig --ig-steps -5", ["--ig-steps", "'-5'"]),
    ("per-length-zero", "discover reverse --per-length 0", ["--per-length", "'0'"]),
    ("per-length-huge", "discover reverse --per-length 10000000", ["--per-length", "1000"]),
    ("ig-steps-huge", "discover reverse --method eap-ig --ig-steps 1000000000", ["--ig-steps", "1000"]),
    ("threads-zero", "discover reverse --threads 0", ["--threads", "'0'"]),
    ("threads-too-many", "discover reverse --threads 100000", ["--threads", "'100000'"]),
    ("seed-negative", "ablate reverse --nodes L0H0 --seed -1", ["--seed", "'-1'"]),
    ("seed-too-big", "ablate reverse --nodes L0H0 --seed 99999999999999999999", ["--seed"]),
    ("port-negative", "app --port -1", ["--port", "'-1'"]),
    ("port-too-big", "app --port 70000", ["--port", "'70000'"]),
    ("port-text", "app --port http", ["--port", "'http'"]),
    # command line shape
    ("unknown-command", "frobnicate", ["frobnicate"]),
    ("unknown-flag", "rasp reverse --input a --bogus", ["--bogus"]),
    ("missing-out", "compile reverse", ["--out"]),
    ("missing-nodes", "ablate reverse", ["--nodes"]),
    ("bad-method", "discover reverse --method magic", ["--method", "'magic'"]),
    ("bad-ablation", "ablate reverse --nodes L0H0 --ablation gentle", ["--ablation", "'gentle'"]),
    ("empty-nodes", "ablate {compiled} --nodes ,", ["--nodes", "','"]),
    ("unknown-node", "ablate {compiled} --nodes L9H9", ["L9H9"]),
    # programs
    ("unknown-program", "rasp nosuchprogram --input a", ["'nosuchprogram'"]),
    ("missing-py", "compile {base}/nope.py --out {base}/o", ["nope.py"]),
    ("directory-as-file-rasp", "rasp {adir} --input a", ["adir", "is a directory"]),
    ("directory-as-file-compile", "compile {adir} --vocab a --max-len 2 --out {base}/o",
     ["adir", "is a directory"]),
    ("non-utf8-rasp", "rasp {latin1_rasp} --input a", ["latin1.rasp", "UTF-8"]),
    ("non-utf8-compile", "compile {latin1_rasp} --vocab a --max-len 2 --out {base}/o",
     ["latin1.rasp", "UTF-8"]),
    ("py-raises", "rasp {raises_py} --input a", ["raises.py", "line 4", "ZeroDivisionError"]),
    ("py-raises-compile", "compile {raises_py} --vocab a --max-len 2 --out {base}/o",
     ["raises.py", "ZeroDivisionError"]),
    ("py-syntax", "compile {syntax_py} --vocab a --max-len 2 --out {base}/o", ["syntax.py", "SyntaxError"]),
    ("py-no-program", "rasp {noprogram_py} --input a", ["noprogram.py", "`program`"]),
    ("py-program-not-sop", "rasp {notsop_py} --input a", ["notsop.py", "int"]),
    ("py-vocab-string", "rasp {strvocab_py} --input a", ["strvocab.py", "`vocab`"]),
    ("py-max-len-zero", "rasp {zerolen_py} --input a", ["zerolen.py", "max_seq_len"]),
    ("py-sys-exit", "rasp {exits_py} --input a", ["exits.py", "SystemExit"]),
    ("rasp-syntax", "rasp {badsyntax_rasp} --input a", ["line 1"]),
    ("output-for-library", "rasp reverse --input a --output foo", ["--output", "'foo'"]),
    ("no-input", "rasp reverse", ["--input"]),
    ("empty-input", "rasp reverse --input ' '", ["empty"]),
    ("token-outside-vocab", "rasp hist --input 'a z'", ["'z'", "position 1"]),
    ("rasp-needs-vocab", "compile {good_rasp} --out {base}/o", ["--vocab", "--max-len"]),
    ("empty-vocab", "compile reverse --vocab , --out {base}/o", ["vocabulary", "','"]),
    # output directory
    ("out-is-a-file", "compile reverse --out {afile_txt}", ["afile.txt", "not a directory"]),
    ("out-under-a-file", "compile reverse --out {out_under_file}", ["afile.txt", "is a file"]),
    ("out-holds-other-files", "compile reverse --out {notes}", ["notes", "not a saved model"]),
    # saved models
    ("run-missing", "run {missing} --input a", ["missing", "no such file or folder"]),
    ("run-file", "run {afile_txt} --input a", ["afile.txt"]),
    ("run-token", "run {compiled} --input 'a q'", ["'q'", "position 1"]),
    ("run-too-long", "run {compiled} --input 'a b a b'", ["4 tokens", "max_seq_len=3"]),
    ("run-empty-input", "run {compiled} --input ''", ["empty"]),
    ("run-plain-model", "run {plain} --input a", ["'a'", "position 0"]),  # any model runs; its tokens
    ("run-meta-vocab", "run {meta_vocab} --input a", ["meta_vocab", "vocab"]),
    ("run-meta-missing", "run {meta_missing} --input a", ["meta_missing", "bos"]),
    ("run-meta-len", "run {meta_len} --input a", ["meta_len", "max_seq_len"]),
    ("run-meta-negative-len", "run {meta_nlen} --input a", ["meta_nlen", "max_seq_len"]),
    ("run-meta-output-values", "run {meta_outvals} --input a", ["meta_outvals", "output_values"]),
    ("run-meta-layout", "run {meta_layout} --input a", ["meta_layout", "bogus"]),
    ("run-meta-not-dict", "run {meta_none} --input a", ["meta_none", "compiler metadata"]),
    ("info-missing", "info {missing}", ["missing"]),
    ("info-file", "info {afile_txt}", ["afile.txt"]),
    ("discover-saved-vocab", "discover {plain} --vocab a,b", ["plain", "--vocab"]),
    ("discover-compiled-max-len", "discover {compiled} --max-len 2", ["compiled", "--max-len"]),
    ("discover-plain-max-len", "discover {plain} --max-len 99", ["plain", "n_ctx=4"]),
    ("decompose-plain-input", "decompose {plain} --input '1 9'", ["'9'", "position 1"]),
    ("decompose-token", "decompose {compiled} --input 'a z'", ["'z'"]),
]


def run_in_process(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def check_clean_error(code: int, out: str, err: str, words: list[str], as_json: bool) -> None:
    assert code == 2, f"exit {code}; stderr:\n{err}"
    assert "Traceback" not in err and "Traceback" not in out, err
    error_lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, err
    for word in words:
        assert word in error_lines[0], f"{word!r} not named in {error_lines[0]!r}"
    if as_json:
        last = json.loads(out.strip().splitlines()[-1])
        assert set(last) == {"error", "kind"} and last["kind"] and last["kind"] != "internal"
        assert error_lines[0] == f"error: {last['error']}".splitlines()[0]


def _argv(template: str, files: dict[str, str]) -> list[str]:
    import shlex

    return shlex.split(template.format(**files))


@pytest.mark.timeout(180)
@pytest.mark.parametrize("template,words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_clean_error(template, words, files, capsys):
    argv = _argv(template, files)
    as_json = argv[0] not in ("app", "frobnicate")
    code, out, err = run_in_process([*argv, "--json"] if as_json else argv, capsys)
    check_clean_error(code, out, err, [w.format(**files) for w in words], as_json)


def test_errors_without_json_print_nothing_on_stdout(files, capsys):
    code, out, err = run_in_process(["run", files["compiled"], "--input", "a q"], capsys)
    check_clean_error(code, out, err, ["'q'"], as_json=False)
    assert out == ""


def test_usage_error_names_the_subcommand(capsys):
    code, out, err = run_in_process(["compile", "reverse", "--max-len", "0", "--out", "x", "--json"],
                                    capsys)
    assert code == 2 and json.loads(out.splitlines()[-1])["kind"] == "UsageError"
    assert err.startswith("error: interp compile: argument --max-len")


def test_help_still_exits_zero(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["compile", "--help"])
    assert exit_info.value.code == 0
    assert "--max-len" in capsys.readouterr().out


def _limit_memory() -> None:
    # Generous for torch's import, small enough that a runaway allocation fails fast.
    limit = 3 * 2**30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


SUBPROCESS_CASES = [
    ("rasp {latin1_rasp} --input a --json", ["latin1.rasp", "UTF-8"]),
    ("rasp {raises_py} --input a --json", ["raises.py", "ZeroDivisionError"]),
    ("app --port -1", ["--port", "'-1'"]),
    ("compile reverse --out {afile_txt} --json", ["afile.txt"]),
    ("discover reverse --threshold nan --json", ["--threshold"]),
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("template,words", SUBPROCESS_CASES, ids=[c[0].split()[0] + str(i)
                                                                    for i, c in enumerate(SUBPROCESS_CASES)])
def test_bad_input_as_a_real_process(template, words, files):
    argv = _argv(template, files)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "interp.cli", *argv], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=100, env=env, preexec_fn=_limit_memory)
    check_clean_error(result.returncode, result.stdout, result.stderr, words, "--json" in argv)

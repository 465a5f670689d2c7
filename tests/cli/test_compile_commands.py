"""`interp compile`, `interp run` and `interp info` end to end."""

import json

from interp.cli import main
from interp.model import HookedTransformer, ModelConfig


def test_cli_compile_and_run(tmp_path, capsys) -> None:
    out = tmp_path / "rev"
    args = ["compile", "reverse", "--vocab", "a,b,c", "--max-len", "5", "--out", str(out), "--json"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("d_model", "n_layers", "n_heads", "d_mlp", "params", "compile_seconds"):
        assert key in summary
    assert main(["run", str(out), "--input", "a b c", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["output"] == ["c", "b", "a"]
    assert main(["run", str(out), "--input", "a q"]) == 2


def test_cli_compiles_textual_rasp(tmp_path, capsys) -> None:
    source = tmp_path / "p.rasp"
    source.write_text("out = aggregate(select(indices, length - indices - 1, ==), tokens);\n")
    code = main(["compile", str(source), "--vocab", "a,b", "--max-len", "4", "--out", str(tmp_path / "m")])
    assert code == 0, capsys.readouterr().err
    assert main(["run", str(tmp_path / "m"), "--input", "a b b"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "b b a"


def test_cli_info_json_last_line(tmp_path, capsys):
    cfg = ModelConfig(n_layers=1, d_model=4, n_ctx=3, d_vocab=2, d_mlp=8)
    HookedTransformer(cfg).save(str(tmp_path))
    assert main(["info", str(tmp_path), "--json"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    data = json.loads(last)
    assert data["params"] == 2 * 4 + 3 * 4 + 4 * (4 * 4 + 4) + 8 * 4 + 8 + 8 * 4 + 4 + 4 * 2 + 2
    assert data["d_mlp"] == 8


def test_cli_error_is_one_line_and_exit_code_2(tmp_path, capsys):
    assert main(["info", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "no such file or folder" in err


def test_max_len_is_honoured_not_replaced_by_the_default(tmp_path, capsys):
    out = tmp_path / "rev"
    assert main(["compile", "reverse", "--vocab", "a,b", "--max-len", "2", "--out", str(out)]) == 0
    assert main(["run", str(out), "--input", "a b"]) == 0
    assert main(["run", str(out), "--input", "a b a"]) == 2
    assert "max_seq_len=2" in capsys.readouterr().err

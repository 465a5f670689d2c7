"""`interp discover / decompose / ablate` end to end."""

import json

from interp.cli import main
from interp.tasks import Reverse
from interp.training import train
from interp.training.recipes import Recipe


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_discover_library_program_json(capsys):
    assert main(["discover", "frac_prevs", "--max-len", "5", "--json"]) == 0
    result = last_json(capsys)
    for key in ("auc", "seconds", "edges", "precision", "recall", "faithfulness"):
        assert key in result
    assert 0.5 < result["auc"] <= 1.0 and result["faithfulness"] == 1.0
    assert "L0H0->logits" in result["edges"]


def test_discover_eap_with_vocab_and_threshold(capsys):
    args = ["discover", "hist", "--method", "eap-ig", "--ablation", "mean", "--vocab", "a,b",
            "--max-len", "4", "--threshold", "0.01", "--json"]
    assert main(args) == 0
    result = last_json(capsys)
    assert result["method"] == "eap-ig" and result["ablation"] == "mean"


def test_discover_saved_trained_model_has_no_ground_truth(tmp_path, capsys):
    task = Reverse(d_vocab=4, seq_len=4)
    recipe = Recipe("reverse", "reverse", "test", task_options={"d_vocab": 4, "seq_len": 4},
                    model={"n_layers": 1, "d_model": 16, "n_heads": 2},
                    train=dict(steps=20, batch_size=64, lr=1e-2, eval_every=0, eval_size=64))
    model = train(recipe.build_model(task), task.sample, recipe.train_config(), progress=False).model
    model.save(str(tmp_path / "m"))
    assert main(["discover", str(tmp_path / "m"), "--per-length", "2", "--json"]) == 0
    result = last_json(capsys)
    assert result["auc"] is None and result["n_edges"] >= 0


def test_decompose_and_ablate(capsys):
    assert main(["decompose", "reverse", "--max-len", "4", "--input", "a b c", "--json"]) == 0
    out = capsys.readouterr().out
    assert "reverse" in out and "L2H0" in out
    assert main(["ablate", "reverse", "--max-len", "4", "--nodes", "L0H0", "--json"]) == 0
    assert last_json(capsys)["unchanged"] < 1.0


def test_unknown_node_is_a_clean_error(capsys):
    assert main(["ablate", "hist", "--nodes", "L9H9"]) == 2
    assert "L9H9" in capsys.readouterr().err

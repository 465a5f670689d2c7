"""The study table: Markdown rows and a JSON copy that reads back the same."""

import json

from interp.evaluation.report import Criterion, StudyTable


def test_table_writes_markdown_and_json(tmp_path):
    table = StudyTable("Oracle")
    rule = Criterion("within 1%", "abs(eta - 0.769) <= 0.00769")
    table.add("eta*", "0.769", "0.7692", "d=5, n=20", "0", 1.4, rule,
              values={"eta": 0.7692})
    table.add("a|b", "-", "1.0", "x", "0,1,2", 0.2, None, note="shape only")
    path = table.save(tmp_path / "out")
    lines = path.read_text().splitlines()
    assert lines[0] == "### Oracle" and lines[2].startswith("| quantity | paper | ours |")
    assert lines[4] == "| eta* | 0.769 | 0.7692 | – | d=5, n=20 | 0 | 1 | yes | within 1% |  |"
    assert lines[5].startswith("| a\\|b |") and "| – | none (reported, not tested) | shape only |" in lines[5]
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["rows"][0]["ours"] == "0.7692" and data["rows"][1]["passed"] is None
    assert data["rows"][0]["criterion"] == {"words": "within 1%", "code": "abs(eta - 0.769) <= 0.00769"}

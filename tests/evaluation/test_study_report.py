"""The study table: Markdown rows and a JSON copy that reads back the same."""

import json

from interp.evaluation.report import StudyTable


def test_table_writes_markdown_and_json(tmp_path):
    table = StudyTable("Oracle")
    table.add("eta*", "0.769", "0.7692", "d=5, n=20", "0", 1.4, True)
    table.add("a|b", "-", "1.0", "x", "0,1,2", 0.2, None, note="shape only")
    path = table.save(tmp_path / "out")
    lines = path.read_text().splitlines()
    assert lines[0] == "### Oracle" and lines[2].startswith("| quantity | paper | ours |")
    assert lines[4] == "| eta* | 0.769 | 0.7692 | d=5, n=20 | 0 | 1 | yes |  |"
    assert lines[5].startswith("| a\\|b |") and "| – | shape only |" in lines[5]
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["rows"][0]["ours"] == "0.7692" and data["rows"][1]["agrees"] is None

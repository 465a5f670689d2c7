"""The dashboard on compiled RASP programs: captions, decoded residuals, ablation, circuits."""

from __future__ import annotations

import pytest
from app_harness import assert_clean, chart, choose_view, errors, start_app


@pytest.fixture(scope="module")
def reverse_app():
    """The default app: the compiled `reverse` program on its default input."""
    at = start_app()
    assert "reverse" in at.session_state["library_program"]
    return at


def _output(at) -> list[str]:
    line = [m.value for m in at.markdown if m.value.startswith("**Output**")][0]
    return line.removeprefix("**Output** ").replace("`", "").split()


def test_default_is_the_compiled_reverse_program(reverse_app):
    at = reverse_app
    tokens = at.session_state["input_text"].split()
    assert _output(at) == tokens[::-1]
    assert not errors(at)


def test_heads_are_captioned_with_the_rasp_operation(reverse_app):
    titles = [a["text"] for a in chart(reverse_app, "attention_grid")["layout"]["annotations"]]
    assert any("Aggregate" in t and "reverse" in t for t in titles), titles


def test_typed_input_updates_the_output():
    at = start_app()
    at.text_input(key="input_text").set_value("a b c").run()
    assert_clean(at)
    assert _output(at) == ["c", "b", "a"]


def test_residual_view_decodes_every_variable_next_to_the_interpreter(reverse_app):
    at = choose_view(reverse_app, "Residual stream")
    table = at.dataframe[0].value
    model = table[(table["variable"] == "reverse") & (table["source"] == "model")]
    reference = table[(table["variable"] == "reverse") & (table["source"] == "interpreter")]
    positions = [c for c in table.columns if ":" in c and not c.startswith("0:")]
    assert list(model[positions].iloc[0]) == list(reference[positions].iloc[0])
    rows = chart(at, "residual_variable_chart")["layout"]["yaxis"]["ticktext"]
    assert rows[0] == "embed" and rows[-1] == "RASP interpreter"


def test_ablating_the_aggregate_head_changes_the_output():
    at = start_app()
    choose_view(at, "Ablation")
    at.pills(key="ablate_nodes").set_value(["L2H0"]).run()
    assert_clean(at)
    changed, total = (int(x) for x in at.metric[0].value.split(" / "))
    assert total == len(at.session_state["input_text"].split())
    assert changed > 0
    assert "✗" in list(at.dataframe[0].value["changed"])


def test_ablating_an_unused_head_changes_nothing():
    at = start_app()
    choose_view(at, "Ablation")
    at.pills(key="ablate_nodes").set_value(["L1H0"]).run()
    assert_clean(at)
    assert at.metric[0].value.startswith("0 /")


def test_mean_ablation_runs():
    at = start_app()
    choose_view(at, "Ablation")
    at.pills(key="ablate_nodes").set_value(["L2H0"]).run()
    at.radio(key="ablate_kind").set_value("mean over sampled inputs").run()
    assert_clean(at)
    assert not errors(at)


def test_circuit_view_scores_discovery_against_the_ground_truth():
    at = start_app()
    choose_view(at, "Circuit")
    assert chart(at, "circuit_truth")["layout"]["annotations"]  # one arrow per edge
    [b for b in at.button if b.label == "Discover"][0].click().run()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert {"AUC", "Precision", "Recall"} <= set(metrics)
    assert 0.5 < float(metrics["AUC"]) <= 1.0
    assert chart(at, "circuit_found")["layout"]["annotations"]


def test_program_view_places_operations_on_components(reverse_app):
    at = choose_view(reverse_app, "Program")
    table = at.dataframe[0].value
    placed = dict(zip(table["operation"], table["computed by"]))
    assert placed["reverse"] == "L2H0" and placed["tokens"] == "embed"
    assert chart(at, "program_graph")["layout"]["xaxis"]["ticktext"][0] == "embed"


def test_other_library_program_compiles_with_a_chosen_vocabulary():
    at = start_app()
    at.selectbox(key="library_program").set_value("sort").run()
    at.text_input(key="library_vocab_sort").set_value("1 2 3").run()
    at.number_input(key="library_max_len_sort").set_value(4).run()
    assert_clean(at)
    at.text_input(key="input_text").set_value("3 1 2").run()
    assert_clean(at)
    assert _output(at) == ["1", "2", "3"]
    at.text_input(key="input_text").set_value("3 1 2 1 2").run()
    assert any("max_seq_len=4" in e for e in errors(at)), errors(at)


def test_typed_rasp_program_is_compiled_and_run():
    at = start_app()
    at.radio(key="source").set_value("RASP code").run()
    at.text_area(key="rasp_text").set_value(
        "first = aggregate(select(indices, 0, ==), tokens);\n")
    at.text_input(key="rasp_vocab").set_value("x y")
    [b for b in at.button if b.label == "Compile"][0].click().run()
    assert_clean(at)
    assert not errors(at)
    at.text_input(key="input_text").set_value("y x x").run()
    assert _output(at) == ["y", "y", "y"]

"""Regression tests for the dashboard defects found by trying it as a new user (issue 15)."""

from __future__ import annotations

import pytest
from app_harness import assert_clean, chart, choose_view, errors, start_app

CHAR_PX = 0.55 * 11  # the narrowest plausible width of one 11 px label character


def _custom_vocab_app():
    """The reverse program compiled for the vocabulary `a b` (default: a b c d)."""
    at = start_app()
    at.text_input(key="library_vocab_reverse").set_value("a b").run()
    assert_clean(at)
    return at


def test_custom_vocabulary_starts_and_samples_from_that_vocabulary():
    at = _custom_vocab_app()
    assert set(at.session_state["input_text"].split()) <= {"a", "b"}
    for _ in range(5):
        at.button(key="sample_button").click().run()
        assert set(at.session_state["input_text"].split()) <= {"a", "b"}
    assert not errors(at)


def test_custom_vocabulary_mean_ablation_and_discovery_do_not_crash():
    at = _custom_vocab_app()
    choose_view(at, "Ablation")
    at.pills(key="ablate_nodes").set_value(["L2H0"]).run()
    at.radio(key="ablate_kind").set_value("mean over sampled inputs").run()
    assert_clean(at)
    assert not errors(at)
    choose_view(at, "Circuit")
    at.radio(key="discovery_method").set_value("eap")
    [b for b in at.button if b.label == "Discover"][0].click().run()
    assert_clean(at)
    assert not errors(at)
    assert {m.label for m in at.metric} >= {"AUC", "Precision", "Recall"}


def test_recursive_def_is_a_clear_error_not_a_traceback():
    at = start_app()
    at.radio(key="source").set_value("RASP code").run()
    at.text_area(key="rasp_text").set_value("def f(x) { return f(x); }\ny = f(tokens);\n")
    [b for b in at.button if b.label == "Compile"][0].click().run()
    assert_clean(at)
    message = " ".join(errors(at)).lower()
    assert "recurs" in message, message
    # The page lives on with the default model.
    assert at.get("plotly_chart")


def test_non_negative_quantities_use_a_sequential_scale_from_zero(shared_residual):
    for key in ("component_norms", "logit_lens"):
        trace = chart(shared_residual, key)["data"][0]
        assert "zmid" not in trace and trace["zmin"] == 0, key
        # A sequential scale: not the diverging red-white-blue one.
        assert "RdBu" not in str(trace.get("colorscale")), key


def test_logit_lens_rows_use_the_table_stage_names(shared_residual):
    table_rows = chart(shared_residual, "residual_variable_chart")["layout"]["yaxis"]["ticktext"]
    lens_rows = chart(shared_residual, "logit_lens")["layout"]["yaxis"]["ticktext"]
    assert lens_rows[0] == "embed"
    assert set(lens_rows) <= set(table_rows), (lens_rows, table_rows)
    assert not any("_" in row for row in lens_rows)


@pytest.fixture(scope="module")
def shared_residual():
    at = choose_view(start_app(), "Residual stream")
    at.toggle(key="residual_components").set_value(True).run()  # on demand for labelled models
    return at


@pytest.fixture(scope="module")
def grid():
    return chart(start_app(), "attention_grid")


def test_unused_heads_are_grey_and_labelled(grid):
    titles = [a["text"] for a in grid["layout"]["annotations"]]
    unused = [t for t in titles if "(unused)" in t]
    # reverse at max length 8 leaves some heads empty; they are drawn on the grey colour axis.
    assert unused and len(unused) < len(titles)
    by_name = {t["name"]: t for t in grid["data"]}
    for title in unused:
        assert by_name[title.split()[0]]["coloraxis"] == "coloraxis2"
    assert "Blues" not in str(grid["layout"]["coloraxis2"]["colorscale"])


def test_grid_heatmaps_have_axis_titles_and_a_colour_bar(grid):
    layout = grid["layout"]
    x_titles = [v["title"]["text"] for k, v in layout.items() if k.startswith("xaxis") and "title" in v]
    y_titles = [v["title"]["text"] for k, v in layout.items() if k.startswith("yaxis") and "title" in v]
    assert x_titles and set(x_titles) == {"key"} and set(y_titles) == {"query"}
    assert layout["coloraxis"]["colorbar"]["title"]["text"] == "attention"
    assert layout["coloraxis"]["cmin"] == 0 and layout["coloraxis"]["cmax"] == 1
    # Sequential from light (no attention) to dark: an explicit scale, since plotly.js's named
    # "Blues" runs dark-to-light when the figure is not converted by plotly's Python validators.
    scale = layout["coloraxis"]["colorscale"]
    assert scale[0][1].lower() == "#f7fbff" and scale[-1][1].lower() == "#08306b"


def test_full_caption_in_the_hover():
    at = start_app()
    at.selectbox(key="library_program").set_value("sort").run()
    assert_clean(at)
    grid = chart(at, "attention_grid")
    hovers = [t["hovertemplate"].replace("<br>", " ") for t in grid["data"]]
    titles = [a["text"] for a in grid["layout"]["annotations"]]
    cut = [t for t in titles if t.endswith("…")]
    assert cut, "expected at least one shortened title on sort"
    for title in cut:
        # Every word of the shortened title appears, uncut, in that head's hover.
        head = title.split()[0]
        hover = [h for h in hovers if f"<b>{head}</b>" in h][0]
        assert title.rstrip("…").split()[-1] in hover and len(hover) > len(title)


def _label_boxes(fig: dict) -> list[tuple[float, float, float, float]]:
    """Pixel boxes (x0, y0, x1, y1) of each node's label and marker in a layered graph."""
    layout = fig["layout"]
    (x_lo, x_hi), (y_lo, y_hi) = layout["xaxis"]["range"], layout["yaxis"]["range"]
    margin = layout["margin"]
    plot_w = layout["width"] - margin["l"] - margin["r"]
    plot_h = layout["height"] - margin["t"] - margin["b"]
    nodes = [t for t in fig["data"] if t.get("name") == "nodes"][0]
    boxes = []
    for x, y, text in zip(nodes["x"], nodes["y"], nodes["text"]):
        px = (x - x_lo) / (x_hi - x_lo) * plot_w
        py = (y_hi - y) / (y_hi - y_lo) * plot_h
        half = len(text) * CHAR_PX / 2
        boxes.append((px - half, py - 8 - 14, px + half, py - 8))  # label above the marker
        boxes.append((px - 8, py - 8, px + 8, py + 8))  # the marker
    return boxes


def _overlaps(boxes) -> list:
    hits = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                hits.append((a, b))
    return hits


@pytest.mark.parametrize("program", ["dyck2", "add"])
def test_program_graph_is_readable_on_large_programs(program):
    at = start_app()
    at.selectbox(key="library_program").set_value(program).run()
    choose_view(at, "Program")
    fig = chart(at, "program_graph")
    assert not _overlaps(_label_boxes(fig))
    legend = [t["name"] for t in fig["data"] if t.get("showlegend", True)]
    assert "selector (Select)" in legend and "MLP (Map, SequenceMap)" in legend
    # Generated names say what they compute, and their value on this input.
    nodes = [t for t in fig["data"] if t.get("name") == "nodes"][0]
    generated = [h for t, h in zip(nodes["text"], nodes["hovertext"])
                 if t.startswith(("map_", "sequence_map_"))]
    assert generated and all("lambda" in h and "on this input" in h for h in generated), generated[:3]


def test_float_outputs_are_rounded_for_display():
    at = start_app()
    at.selectbox(key="library_program").set_value("frac_prevs").run()
    assert_clean(at)
    at.text_input(key="input_text").set_value("x y y x x y").run()
    assert_clean(at)
    output = [m.value for m in at.markdown if m.value.startswith("**Output**")][0]
    values = output.removeprefix("**Output** ").replace("`", "").split()
    fractions = [v for v in values if "." in v]
    assert fractions and all(len(v.split(".")[1]) <= 4 for v in fractions), values
    assert "0.3333" in values  # 1/3, rounded rather than 0.3333333333333333

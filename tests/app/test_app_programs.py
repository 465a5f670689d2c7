"""Shipped Transformer Programs in the dashboard: the output is the discrete program's, the
Program view's predicate heatmaps and lookup tables are the saved program's own choices, the
decompiled Python it shows runs to the same output, and every view renders."""

from __future__ import annotations

import html

import pytest
import torch
from app_harness import array, assert_clean, chart, choose_view, errors, start_app

from interp.app.panels import VIEWS
from interp.programs.decompile import load_python
from interp.programs.shipped import load_shipped_program, shipped_programs

NAMES = sorted(shipped_programs())


def test_programs_are_shipped():
    assert {"hist", "sort"} <= set(NAMES)


# sort's first head reads the tokens as keys, so its heatmap also checks that "<s>" is escaped.
SHOWN = "sort"


@pytest.fixture(scope="module")
def program_app():
    at = start_app()
    at.radio(key="source").set_value("Transformer Program").run()
    at.selectbox(key="shipped_program").set_value(SHOWN).run()
    assert_clean(at)
    assert not errors(at), errors(at)
    return at


def ticks(figure: dict, axis: str) -> list[str]:
    """An axis' tick labels as text (plotly gets them HTML-escaped)."""
    return [html.unescape(t) for t in figure["layout"][axis]["ticktext"]]


def shown(at, prefix: str) -> list[str]:
    line = [m.value for m in at.markdown if m.value.startswith(prefix)][0]
    return line.removeprefix(prefix).replace("`", "").split()


def test_output_is_the_discrete_programs_prediction(program_app):
    at = program_app
    program = load_shipped_program(SHOWN)
    tokens = program.shape.tokens
    typed = [tokens[0], *tokens[1:3], tokens[1]] + ([tokens[-1]] if tokens[-1] == "</s>" else [])
    at.text_input(key="input_text").set_value(" ".join(typed)).run()
    assert_clean(at)
    ids = torch.tensor([[tokens.index(t) for t in typed]])
    expected = [program.shape.labels[i] for i in program.predict(ids)[0].tolist()]
    assert shown(at, "**Input** ") == typed
    assert shown(at, "**Output** ") == expected


def test_predicate_heatmap_is_the_saved_predicate(program_app):
    at = choose_view(program_app, "Program")
    at.radio(key="tp_part").set_value("Heads (predicates)").run()
    at.selectbox(key="tp_head").select_index(0).run()  # the view opens on the salient head; L0's first here
    program = load_shipped_program(SHOWN)
    head = program.layers[0].cat_heads[0]
    names = program.shape.cat_var_names()
    figure = chart(at, "tp_predicate")
    z = array(figure["data"][0]["z"])
    rows, columns = ticks(figure, "yaxis"), ticks(figure, "xaxis")
    q_labels, k_labels = program.value_labels[head.q], program.value_labels[head.k]
    assert "<s>" in columns  # the BOS token is a key value, shown as text (not an HTML tag)
    assert figure["layout"]["yaxis"]["title"]["text"] == f"query: {names[head.q]}"
    assert figure["layout"]["xaxis"]["title"]["text"] == f"key: {names[head.k]}"
    for i, row in enumerate(rows):
        wanted = str(k_labels[head.predicate[[str(v) for v in q_labels].index(row)]])
        assert [columns[j] for j, v in enumerate(z[i]) if v == 1] == ([wanted] if wanted in columns else [])


def test_lookup_table_is_the_saved_table(program_app):
    at = choose_view(program_app, "Program")
    at.radio(key="tp_part").set_value("MLP lookup tables").run()
    assert_clean(at)
    program = load_shipped_program(SHOWN)
    layer = next(layer for layer in program.layers if layer.cat_mlps)
    mlp = layer.cat_mlps[0]
    figure = chart(at, "tp_lookup")
    rows, columns = ticks(figure, "yaxis"), ticks(figure, "xaxis")
    names = program.shape.cat_var_names()
    a_labels = [str(v) for v in program.value_labels[mlp.a]]
    b_labels = [str(v) for v in program.value_labels[mlp.b]]
    for i, row in enumerate(rows):
        for j, column in enumerate(columns):
            expected = mlp.table[a_labels.index(row)][b_labels.index(column)]
            shown_value = html.unescape(figure["data"][0]["text"][i][j])
            assert shown_value == str(expected), (names[mlp.a], row, column)


def test_decompiled_python_shown_runs_to_the_same_output(program_app):
    at = choose_view(program_app, "Program")
    at.radio(key="tp_part").set_value("Decompiled Python").run()
    assert_clean(at)
    run = load_python(at.code[0].value)
    typed = shown(at, "**Input** ")
    assert run(typed) == shown(at, "**Output** ")
    at.radio(key="tp_part").set_value("Simplified Python").run()
    assert_clean(at)
    assert at.code and at.code[0].value.startswith('"""')


@pytest.mark.parametrize("view", [v for v in VIEWS if v != "Program"])
def test_every_view_renders_for_a_transformer_program(program_app, view):
    at = choose_view(program_app, view)
    assert not errors(at), errors(at)
    if view == "Attention":  # the lookup-only blocks have no attention: greyed, not drawn as real
        assert any("L1H0" in c.value for c in at.caption)

"""Figures stay light where they are large: the browser measures every text it draws."""

from __future__ import annotations

from app_harness import chart, choose_view, start_app

from interp.app.panels.weights import TEXT_CELLS


def _weights(name: str | None = None):
    at = start_app()
    if name is not None:
        at.radio(key="source").set_value("By name (as in the CLI)").run()
        at.text_input(key="named_model").set_value(name).run()
    return choose_view(at, "Weights")


def _cells(fig: dict) -> int:
    return len(fig["layout"]["yaxis"]["ticktext"]) * len(fig["layout"]["xaxis"]["ticktext"])


def test_small_residual_layout_writes_its_counts_in_the_cells():
    fig = chart(_weights(), "residual_layout")
    assert _cells(fig) <= TEXT_CELLS and fig["data"][0]["texttemplate"] == "%{text}"


def test_large_residual_layout_leaves_counts_to_the_hover():
    fig = chart(_weights("program:sort"), "residual_layout")
    trace = fig["data"][0]
    assert _cells(fig) > TEXT_CELLS
    assert "text" not in trace and "texttemplate" not in trace
    assert "%{z" in trace["hovertemplate"]


def test_ablation_view_lists_the_programs_components_without_the_live_truth(monkeypatch):
    from interp.subjects.compiled import CompiledSubject

    at = start_app()
    # The reference: the compiler's own circuit of the default program.
    subject_truth = at.session_state["last_good_subject"].compiled.circuit()

    def refuse(self):
        raise AssertionError("the Ablation view must not wait for the live ground truth")

    monkeypatch.setattr(CompiledSubject, "ground_truth", refuse)
    choose_view(at, "Ablation")
    assert not at.exception
    caption = next(c.value for c in at.caption if c.value.startswith("Components the compiled program uses"))
    listed = caption.split(": ", 1)[1].split(", ")
    heads_and_mlps = {n for n in subject_truth.nodes if n not in ("embed", "pos_embed", "logits")}
    assert set(listed) == heads_and_mlps

"""Shareable state: the model, input, view and selected component in the URL's query
parameters (`?source=library&model=sort&input=3+1+2&view=Weights&component=L1H0`); opening
such a URL restores them. Typed RASP and uploads are not in the URL (they have no name)."""

from __future__ import annotations

import re

import streamlit as st

from interp.app.inputs import INPUT_KEY
from interp.app.subject import Subject

# URL word -> (sidebar source, the widget key holding the model's name there)
SOURCES = {"library": ("Library program", "library_program"),
           "shipped": ("Shipped trained model", "shipped_model"),
           "program": ("Transformer Program", "shipped_program"),
           "name": ("By name (as in the CLI)", "named_model")}
# Widgets that hold "the selected component" in each view (a head L<l>H<h>).
HEAD_KEYS = ("attention_head", "weights_head", "component_name")
HEAD = re.compile(r"L(\d+)H(\d+)")
OTHER = re.compile(r"L\d+N\d+|R\d+")  # a neuron or a residual direction (Component view only)
RESTORED = "_url_restored"
PENDING = "_url_pending"


def restore() -> None:
    """Once per session, before the sidebar draws: set its widgets from the query parameters."""
    from interp.app.panels import VIEWS  # here: the panels import this module's url_value

    if st.session_state.get(RESTORED):
        return
    st.session_state[RESTORED] = True
    params = st.query_params
    pending: dict[str, str] = {}
    source = params.get("source")
    if source in SOURCES and params.get("model") in _names(source):
        label, key = SOURCES[source]
        st.session_state["source"] = label
        st.session_state[key] = params["model"]
    if params.get("view") in VIEWS:
        st.session_state["view"] = params["view"]
    for name in ("input", "component"):
        if params.get(name):
            pending[name] = params[name]
    st.session_state[PENDING] = pending


def _names(source: str) -> list[str] | None:
    """The names the sidebar offers for `source` (a name not offered would break its picker)."""
    if source == "library":
        from rasp.lib import PROGRAMS

        return list(PROGRAMS)
    if source == "shipped":
        from interp.subjects.resolver import shipped_model_names

        return shipped_model_names()
    if source == "program":
        from interp.programs.shipped import shipped_programs

        return list(shipped_programs())
    return [st.query_params.get("model")]  # by name: any text (a bad one shows its error)


def apply(subject: Subject) -> None:
    """After the model loaded, before the input row draws: the URL's input and component
    (a component outside this model is ignored, so the view opens on its own default)."""
    pending = st.session_state.pop(PENDING, None) or {}
    if "input" in pending:
        st.session_state["input_for"] = subject.identity
        st.session_state[INPUT_KEY] = pending["input"]
    match = HEAD.fullmatch(pending.get("component", ""))
    cfg = subject.model.cfg
    if match and int(match[1]) < cfg.n_layers and int(match[2]) < cfg.n_heads:
        for key in HEAD_KEYS + ("tokens_layer", "tokens_head"):
            st.session_state[f"_url_{key}"] = pending["component"]
    elif OTHER.fullmatch(pending.get("component", "")):
        from interp.app.panels.component import options  # the Component view checks it is in the model

        if pending["component"] in options(subject):
            st.session_state["_url_component_name"] = pending["component"]


def url_value(key: str) -> object | None:
    """The URL's value for picker `key`, once (None when the URL named none)."""
    head = st.session_state.pop(f"_url_{key}", None)
    if head is None:
        return None
    if key not in ("tokens_layer", "tokens_head"):
        return head
    layer, number = HEAD.fullmatch(str(head)).groups()
    return int(layer) if key == "tokens_layer" else f"H{number}"


def write(view: str) -> None:
    """Put the state on screen into the query parameters (replacing the old ones)."""
    source = next((word for word, (label, _) in SOURCES.items()
                   if label == st.session_state.get("source")), None)
    params: dict[str, str] = {"view": view}
    if source is not None:
        model = st.session_state.get(SOURCES[source][1])
        if model:
            params.update(source=source, model=str(model))
    if st.session_state.get(INPUT_KEY):
        params["input"] = str(st.session_state[INPUT_KEY])
    component = _component(view)
    if component:
        params["component"] = component
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)


def _component(view: str) -> str | None:
    state = st.session_state
    head = str(state.get("tokens_head", ""))
    if view == "Token attention" and "tokens_layer" in state and head.startswith("H"):
        return f"L{state['tokens_layer']}{state['tokens_head']}"
    key = {"Attention": "attention_head", "Weights": "weights_head", "Component": "component_name"}.get(view)
    value = state.get(key) if key else None
    if not value:
        return None
    named = HEAD.fullmatch(str(value)) or (key == "component_name" and OTHER.fullmatch(str(value)))
    return str(value) if named else None

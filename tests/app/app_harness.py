"""Shared helpers of the dashboard tests: start the app under AppTest and read its charts."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

MAIN = Path(__file__).resolve().parents[2] / "interp" / "app" / "main.py"

def start_app() -> AppTest:
    """The dashboard after its first run (default model)."""
    at = AppTest.from_file(str(MAIN), default_timeout=120)
    at.run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    """No traceback was shown."""
    assert not at.exception, [e.value for e in at.exception]


def chart(at: AppTest, key: str) -> dict:
    """The figure drawn with `st.plotly_chart(..., key=key)`."""
    for element in at.get("plotly_chart"):
        if key in element.proto.id:
            return json.loads(element.proto.spec)
    raise AssertionError(f"no chart {key!r} on screen; ids: "
                         f"{[e.proto.id for e in at.get('plotly_chart')]}")


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def choose_view(at: AppTest, view: str) -> AppTest:
    at.radio(key="view").set_value(view).run()
    assert_clean(at)
    return at


def shipped_program_view(program: str, view: str) -> AppTest:
    """A fresh app on the shipped Transformer Program `program`, showing `view`."""
    at = start_app()
    at.radio(key="source").set_value("Transformer Program").run()
    at.selectbox(key="shipped_program").set_value(program).run()
    assert_clean(at)
    return choose_view(at, view)


def array(field) -> list:
    """A figure's numeric field as nested lists (plotly sends numpy arrays as base64 `bdata`)."""
    if isinstance(field, dict) and "bdata" in field:
        values = np.frombuffer(base64.b64decode(field["bdata"]), dtype=np.dtype(field["dtype"]))
        shape = field.get("shape")
        if shape is not None:
            shape = [int(s) for s in str(shape).split(",")] if not isinstance(shape, list) else shape
            values = values.reshape(shape)
        return values.tolist()
    return field


def open_shipped(name: str) -> AppTest:
    """The dashboard showing shipped model `name`, with no traceback and no error."""
    at = start_app()
    at.radio(key="source").set_value("Shipped trained model").run()
    at.selectbox(key="shipped_model").set_value(name).run()
    assert_clean(at)
    assert not errors(at), errors(at)
    return at

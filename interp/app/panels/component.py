"""Component page: one head, MLP neuron or labelled residual direction over the model's own
task (inputs the subject samples): its top-activating inputs, the distribution of its
activations, its direct effect on the logits, and for compiled models what it computes."""

from __future__ import annotations

import random

import numpy as np
import streamlit as st
import torch

from interp.analysis.activations import activations, logit_effect, parse_component, written_direction
from interp.app.compiled_info import component_captions
from interp.app.defaults import open_on, run_context, salient_head
from interp.app.display import show_value
from interp.app.figures import bar_chart, figure
from interp.app.model_run import MODEL_LOCK, ModelRun
from interp.app.subject import Subject
from interp.errors import InterpError

SAMPLES = 64  # task inputs a page is computed over
TOP = 10  # top-activating inputs listed, output logits shown


def options(subject: Subject) -> list[str]:
    """Every head, then every MLP neuron, then every labelled residual direction."""
    cfg = subject.model.cfg
    names = [f"L{la}H{h}" for la in range(cfg.n_layers) for h in range(cfg.n_heads)]
    if not cfg.attn_only and cfg.d_mlp:
        names += [f"L{la}N{n}" for la in range(cfg.n_layers) for n in range(cfg.d_mlp)]
    labels = subject.model.residual_labels
    if labels is not None:
        names += [f"R{i}" for i, label in enumerate(labels.names()) if label != "?"]
    return names


def descriptions(subject: Subject) -> dict[str, str]:
    """What each component is known to compute (compiled models; labelled directions)."""
    captions = component_captions(subject)
    known = {n: c for n, c in captions.items() if not n.startswith("MLP")}
    cfg = subject.model.cfg
    if not cfg.attn_only and cfg.d_mlp:
        for layer in range(cfg.n_layers):
            if f"MLP{layer}" in captions:
                known.update({f"L{layer}N{n}": f"part of MLP{layer}: {captions[f'MLP{layer}']}"
                              for n in range(cfg.d_mlp)})
    labels = subject.model.residual_labels
    if labels is not None:
        known.update({f"R{i}": f"carries {name}" for i, name in enumerate(labels.names()) if name != "?"})
    return known


def task_sample(subject: Subject, seed: int = 0) -> list[tuple[str, list[str], torch.Tensor]]:
    """SAMPLES inputs from the subject's own task: (input text, position names, model input)."""
    rng = random.Random(seed)
    rows = []
    for i in range(SAMPLES):
        inputs = subject.sample(rng)
        names, ids = subject.encode(inputs)
        rows.append((_short_text(subject, inputs, i), names, ids))
    return rows


def _short_text(subject: Subject, inputs, index: int) -> str:
    """The input as the table shows it: a regression prompt's JSON (full-precision floats) is
    unreadable there, so it is named by its number, size and the query's true y."""
    if not subject.reads_vectors:
        return subject.format_input(inputs)
    xs, ys = inputs  # xs [n, d], ys [n]
    return f"prompt {index}: {len(xs) - 1} examples, query y {show_value(float(ys[-1]))}"


def page_data(subject: Subject, name: str) -> dict:
    """Activations over the task sample, top inputs, and the logit effect (cached per model)."""
    cache = st.session_state.setdefault("_component_pages", {})
    key = (subject.identity, name)
    if key in cache:
        return cache[key]
    model = subject.model
    component = parse_component(name, model)
    rows = task_sample(subject)
    found, every = [], []
    by_shape: dict[tuple, list[int]] = {}
    for i, (_, _, ids) in enumerate(rows):
        by_shape.setdefault(tuple(ids.shape), []).append(i)
    written, weight = None, 0
    with MODEL_LOCK:
        for members in by_shape.values():
            # One forward per input length (inputs of one length stack into a batch).
            batch = torch.cat([rows[i][2] for i in members])  # [members, pos(, d_input)]
            acts = activations(model, batch, component)  # [members, pos]
            for i, row_acts in zip(members, acts):
                text, names, _ = rows[i]
                # Only the task's answer positions: a BOS or a question's digits are not what
                # the component is for.
                answers = subject.answer_positions(len(names)) or list(range(len(names)))
                values = row_acts[answers]
                every.extend(values.tolist())
                best = int(values.argmax())
                found.append((float(values[best]), text, f"{answers[best]}:{names[answers[best]]}"))
            if component.kind == "head":
                # A head's write depends on its input: its mean output over the task sample.
                cells = batch.shape[0] * batch.shape[1]
                part = written_direction(model, component, batch) * cells
                written, weight = (part if written is None else written + part), weight + cells
        direction = written / weight if component.kind == "head" else written_direction(model, component)
        effect = logit_effect(model, direction).numpy()
    found.sort(key=lambda r: -r[0])
    cache[key] = {"values": np.asarray(every), "top": found[:TOP], "effect": effect}
    return cache[key]


def show(subject: Subject, run: ModelRun) -> None:
    """Pick a component (the salient head first) and draw its page."""
    names = options(subject)
    if not names:
        st.info("This model has no heads, neurons or labelled directions.")
        return
    pick = salient_head(subject, run)
    if pick is not None:
        open_on("component_name", pick.name, run_context(subject, run))
    known = descriptions(subject)
    name = st.selectbox("Component (head LxHy, neuron LxNy, residual direction Rz)", names,
                        key="component_name",
                        format_func=lambda n: n + (f" — {known[n]}" if n in known else ""))
    if pick is not None and name == pick.name:
        st.caption(f"Opened on {pick.reason}")
    try:
        data = page_data(subject, name)
    except InterpError as err:
        st.error(str(err))
        return
    about = known.get(name)
    if about:
        st.markdown(f"**What it computes** (from the program): {about}")
    st.caption(f"Over the answer positions of {SAMPLES} inputs sampled from the model's own task "
               "(seed 0). Activation: "
               "a head's output norm, a neuron's value after its nonlinearity, a direction's "
               "coordinate after the last layer.")
    left, right = st.columns(2)
    left.markdown("**Top-activating inputs**")
    left.dataframe({"activation": [show_value(v) for v, _, _ in data["top"]],
                    "input": [t for _, t, _ in data["top"]],
                    "at position": [p for _, _, p in data["top"]]}, hide_index=True, key="component_top")
    right.plotly_chart(figure([{"type": "histogram", "x": data["values"], "nbinsx": 40,
                                "hovertemplate": "%{x}: %{y} positions<extra></extra>"}],
                              {"title": {"text": f"{name}: activations at the answer positions"},
                               "height": 320,
                               "xaxis": {"title": {"text": "activation"}},
                               "yaxis": {"title": {"text": "positions"}},
                               # Half a page wide: a horizontal toolbar covered the title; a
                               # vertical one sits in the right margin, clear of the bars.
                               "margin": {"l": 10, "r": 44, "t": 50, "b": 40},
                               "modebar": {"orientation": "v"}}),
                       key="component_histogram")
    effect = data["effect"]
    cfg = subject.model.cfg
    vocab_out = cfg.vocab_out or cfg.vocab or [str(i) for i in range(len(effect))]
    order = np.argsort(-np.abs(effect))[:TOP]
    if not np.abs(effect).max(initial=0.0) > 1e-9:
        # An empty bar chart says nothing: e.g. a Transformer Program's counting head writes
        # a variable only an MLP reads, never the output directly.
        st.info(f"{name} has no direct effect on the output logits: what it writes is orthogonal "
                "to the unembedding (it acts through later components; see Patching or Circuit).")
    else:
        st.plotly_chart(bar_chart([str(vocab_out[i]) for i in order], effect[order],
                                  f"{name}: direct effect on the output logits (largest {len(order)})",
                                  "logit per unit written"), key="component_logits")
    st.caption("Direct effect: what the component writes (a head: its mean output over the sample; "
               "a neuron: its output weights; a direction: its unit vector) times the unembedding.")

"""The dashboard: pick a model, give it an input, look at attention, residual stream, ablations,
circuits and the program it implements. Run it with `interp app` (or `make app`)."""

import streamlit as st

from interp.app import ground_truth, url_state, warmup
from interp.app.inputs import read_input
from interp.app.model_run import run_subject
from interp.app.panels import VIEWS
from interp.app.sidebar import USER_ERRORS, pick_subject
from interp.app.timing import RunTimer
from interp.app.vector_inputs import read_prompt
from interp.threads import use_small_model_threads

TIMER = RunTimer()  # off unless INTERP_APP_TIMING is set (the latency benchmark)
# Tiny models: one torch thread is many times faster than one per core (see interp.threads).
use_small_model_threads()

st.set_page_config(page_title="interp dashboard", layout="wide")
st.title("interp dashboard")

url_state.restore()  # a shared URL's model, input, view and component (first run only)
subject = pick_subject()
# The Circuit view's ground truth, computed in the background from the model's load on.
ground_truth.prefetch(subject)
url_state.apply(subject)
st.caption(f"**{subject.title}** · {subject.model.cfg.n_layers} layers × "
           f"{subject.model.cfg.n_heads} heads · d_model {subject.model.cfg.d_model}")
try:
    if subject.reads_vectors:
        # Vector inputs (in-context regression): a prompt editor instead of a token row.
        run = read_prompt(subject)
    else:
        run = run_subject(subject, read_input(subject))
except USER_ERRORS as err:
    # A user-caused problem (unknown token, too long, ...): say so, draw nothing stale.
    st.error(str(err))
    st.stop()

if not run.is_vector:
    in_col, out_col = st.columns(2)
    in_col.markdown("**Input** " + " ".join(f"`{t}`" for t in run.positions[run.offset:]))
    out_col.markdown("**Output** " + " ".join(f"`{t}`" for t in run.output[run.offset:]))
    # Mark which outputs the task scores (a Transformer Program's `<s>`/`</s>` outputs are not).
    answers = [i for i in subject.answer_positions(len(run.positions)) if i >= run.offset]
    if len(answers) < len(run.positions) - run.offset:
        out_col.caption("**Answers** " + " ".join(f"`{run.output[i]}`" for i in answers)
                        + f" at positions {', '.join(map(str, answers))}; the other outputs are "
                        "not part of the task.")

# Only the chosen view runs: the others can be slow (discovery) and rerunning all of them
# on every keystroke would break the interaction budget.
view = st.radio("View", list(VIEWS), horizontal=True, key="view", label_visibility="collapsed")
VIEWS[view](subject, run)
url_state.write(view)
TIMER.done(view, subject.title)
warmup.start()  # once the first page has run: the later views' slow third-party imports

"""Dashboard entry point (placeholder until the dashboard lands): attention of a built-in model."""

import plotly.express as px
import streamlit as st
import torch

from interp.model import HookedTransformer, ModelConfig

st.set_page_config(page_title="interp dashboard", layout="wide")
st.title("interp — attention patterns")


@st.cache_resource
def default_model() -> HookedTransformer:
    """A seeded random 2-layer model: something real to look at with no downloads."""
    cfg = ModelConfig(n_layers=2, d_model=32, n_ctx=16, d_vocab=8, n_heads=2, d_mlp=64,
                      vocab=list("abcdefgh"), seed=0)
    return HookedTransformer(cfg).init_weights(std=0.5)


model = default_model()
text = st.text_input("Tokens (space separated)", "a b c d e f")
try:
    tokens = model.to_tokens(text.split())
    _, cache = model.run_with_cache(tokens)
except Exception as err:  # noqa: BLE001  (shown to the user, never a traceback)
    st.error(str(err))
    st.stop()
names = text.split()
for layer in range(model.cfg.n_layers):
    cols = st.columns(model.cfg.n_heads)
    for head, col in enumerate(cols):
        pattern = cache[f"blocks.{layer}.attn.hook_pattern"][0, head].detach().numpy()
        fig = px.imshow(pattern, x=names, y=names, zmin=0, zmax=1,
                        labels={"x": "key", "y": "query", "color": "weight"},
                        title=f"L{layer}H{head}")
        col.plotly_chart(fig, use_container_width=True)

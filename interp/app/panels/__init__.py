"""One module per dashboard view; each exposes `show(subject, run)`. VIEWS is their order."""

from interp.app.panels import (
    ablation,
    attention,
    circuit,
    component,
    patching,
    program,
    residual,
    tokens,
    weights,
)

VIEWS = {
    "Attention": attention.show,
    "Token attention": tokens.show,
    "Residual stream": residual.show,
    "Weights": weights.show,
    "Component": component.show,
    "Ablation": ablation.show,
    "Patching": patching.show,
    "Circuit": circuit.show,
    "Program": program.show,
}

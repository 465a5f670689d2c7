"""One module per dashboard view; each exposes `show(subject, run)`. VIEWS is their order."""

from app.panels import ablation, attention, circuit, program, residual

VIEWS = {
    "Attention": attention.show,
    "Residual stream": residual.show,
    "Ablation": ablation.show,
    "Circuit": circuit.show,
    "Program": program.show,
}

"""The paper code's training conventions (conventions="paper"), each checked against the paper's
definition restated here (princeton-nlp/TransformerPrograms, src/models/programs.py and
src/run.py), and the argmax program shown unchanged by them."""

from __future__ import annotations

import numpy as np
import torch

from interp.programs import model as model_module
from interp.programs.program import BOS, ProgramShape
from interp.programs.spec import rank_matrix
from interp.programs.train import AnnealTemperature, ProgramTrainConfig, per_sequence_ce


def paper_bias_reference(n: int) -> torch.Tensor:
    """FixedRelPosBias: the vector [-2, linspace(0, -n, n-1)/n, linspace(-n, 0, n)/n] indexed by
    key - query (negative offsets index from the end)."""
    vector = [-2.0, *(np.linspace(0.0, -n, n - 1) / n), *(np.linspace(-n, 0.0, n) / n)]
    rows = [[vector[(k - q) % (2 * n)] for k in range(n)] for q in range(n)]
    return torch.tensor(rows, dtype=torch.float32)


def test_paper_position_bias_is_the_papers_vector() -> None:
    for n in (3, 5, 8, 10, 16):
        assert torch.allclose(model_module.paper_position_bias(n), paper_bias_reference(n), atol=1e-6)


def test_paper_position_bias_orders_keys_as_the_spec_ranks_them() -> None:
    # The argmax over keys must pick by the spec's rank (nearest, earlier on ties, self last),
    # so the discretised program needs no change: sort keys by (-bias, index) and compare.
    for n in (4, 8, 10, 16):
        bias = model_module.paper_position_bias(n)
        ranks = rank_matrix(n)
        for q in range(n):
            by_bias = sorted(range(n), key=lambda k: (-float(bias[q, k]), k))
            by_rank = sorted(range(n), key=lambda k: int(ranks[q, k]))
            assert by_bias == by_rank, (n, q)


def small_shape(causal: bool = False) -> ProgramShape:
    return ProgramShape(tokens=[BOS, "a", "b", "c"], labels=["x", "y", "z"], n_ctx=6, n_layers=2,
                        n_cat_heads=1, n_num_heads=1, n_cat_mlps=1, n_num_mlps=1, causal=causal)


def test_paper_conventions_keep_the_argmax_program_exact() -> None:
    torch.manual_seed(0)
    for causal in (False, True):
        model = model_module.TransformerProgramModel(small_shape(causal), seed=2, conventions="paper")
        tokens = torch.randint(1, 4, (64, 6))
        tokens[:, 0] = 0
        lengths = torch.randint(2, 7, (64,))
        hard = model(tokens, lengths, hard=True).argmax(-1)
        program = model.discretize()
        real = torch.arange(6)[None] < lengths[:, None]
        assert torch.equal(hard[real], program.predict(tokens, lengths)[real])


def test_paper_conventions_train_no_readout_bias_and_sample_the_embedding() -> None:
    model = model_module.TransformerProgramModel(small_shape(), seed=0, conventions="paper")
    assert not model.readout_bias.requires_grad
    assert model_module.TransformerProgramModel(small_shape(), seed=0).readout_bias.requires_grad
    tokens, lengths = torch.tensor([[0, 1, 2, 3, 1, 2]]), torch.tensor([6])
    # The paper's one-hot embedding is softmax((+-10 + Gumbel) / tau): at tau 3 not exactly one-hot.
    torch.manual_seed(0)
    model.tau = 3.0
    soft_a = model(tokens, lengths)
    ours = model_module.TransformerProgramModel(small_shape(), seed=0)
    ours.load_state_dict(model.state_dict())
    ours.position_bias = model.position_bias
    torch.manual_seed(0)
    ours.tau = 3.0
    soft_b = ours(tokens, lengths)
    assert not torch.allclose(soft_a, soft_b)  # the embedding sample changes the soft pass


def test_per_sequence_loss_is_the_mean_of_sequence_means() -> None:
    torch.manual_seed(1)
    logits = torch.randn(3, 5, 4)
    targets = torch.tensor([[-100, 1, 2, -100, -100], [0, 1, 2, 3, 0], [-100, -100, -100, 3, -100]])
    expected = []
    for row in range(3):
        scored = [(i, t) for i, t in enumerate(targets[row].tolist()) if t >= 0]
        terms = [-torch.log_softmax(logits[row, i], -1)[t] for i, t in scored]
        expected.append(sum(terms) / len(terms))
    assert torch.allclose(per_sequence_ce(logits, targets), torch.stack(expected).mean())


def test_paper_temperature_schedule_is_per_epoch_geometric_smoothed_within_epochs() -> None:
    # src/run.py: temps = geomspace(3, 0.01, epochs); epoch e's steps take
    # geomspace(temps[e], temps[e + 1], steps_per_epoch); the last epoch keeps temps[-1].
    epochs, per = 5, 4
    temps = np.geomspace(3.0, 0.01, epochs)
    expected = []
    for e in range(epochs):
        expected += list(np.geomspace(temps[e], temps[e + 1], per)) if e + 1 < epochs else [temps[e]] * per
    model = model_module.TransformerProgramModel(small_shape(), seed=0)
    config = ProgramTrainConfig(epochs=epochs, conventions="paper")
    anneal = AnnealTemperature(model, config, epochs * per, per)
    got = [anneal.tau(step) for step in range(epochs * per)]
    assert np.allclose(got, expected, rtol=1e-9)

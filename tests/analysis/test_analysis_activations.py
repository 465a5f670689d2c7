"""Component activations and logit effects against independent computations: the residual
decomposition, a hand-written MLP, and a hook adding the written direction."""

import pytest
import torch
from conftest import random_model

from interp.analysis import residual_components
from interp.analysis.activations import activations, logit_effect, parse_component, written_direction
from interp.errors import InputError

TOKENS = torch.randint(0, 7, (4, 6), generator=torch.Generator().manual_seed(0))


def test_head_activation_is_the_norm_of_its_part_of_the_residual_decomposition():
    model = random_model()
    _, cache = model.run_with_cache(TOKENS)
    stack, labels = residual_components(cache)
    for name in ("L0H1", "L1H0"):
        expected = stack[labels.index(name)].norm(dim=-1)  # [batch, pos]
        torch.testing.assert_close(activations(model, TOKENS, parse_component(name, model)), expected)


def test_neuron_activation_is_relu_of_its_input_weights():
    model = random_model()
    _, cache = model.run_with_cache(TOKENS)
    mlp = model.blocks[1].mlp
    pre = cache["blocks.1.hook_resid_mid"] @ mlp.W_in[:, 7] + mlp.b_in[7]  # [batch, pos]
    torch.testing.assert_close(activations(model, TOKENS, parse_component("L1N7", model)), pre.relu())


def test_direction_activation_is_the_final_residual_coordinate():
    model = random_model()
    _, cache = model.run_with_cache(TOKENS)
    stack, _ = residual_components(cache)
    torch.testing.assert_close(activations(model, TOKENS, parse_component("R3", model)), stack.sum(0)[..., 3])


@pytest.mark.parametrize("name", ["L1N2", "R5"])
def test_logit_effect_is_the_change_when_the_direction_is_added(name):
    model = random_model()
    direction = written_direction(model, parse_component(name, model))

    def add(resid, hook):
        return resid + direction

    with torch.no_grad():
        clean = model(TOKENS)
        with model.hooks(fwd_hooks=[("blocks.1.hook_resid_post", add)]):
            shifted = model(TOKENS)
    torch.testing.assert_close(shifted - clean, logit_effect(model, direction).expand_as(clean))


@pytest.mark.parametrize("name", ["L2H0", "L0H2", "L0N20", "R16", "X1", "L0H"])
def test_components_outside_the_model_are_refused_by_name(name):
    with pytest.raises(InputError, match=name):
        parse_component(name, random_model())

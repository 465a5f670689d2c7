"""The SIIT task: a library RASP program compiled one component per operation
(`compile_program(..., one_per_op=True)`), whose exact compiled model is the high-level
model of strict interchange-intervention training (Gupta et al. 2024, InterpBench).

Inputs are BOS + `seq_len` tokens drawn by the program's sampler (token id 0 is BOS, as in
the compiled model). Output classes are the compiled model's decoded values plus one
class for None (max logit <= 0.5, the compiled decoder's rule), so every counterfactual
output of the compiled model has a class. Components are named as in the compiled layout:
`L{layer}H{head}` (a head, patched at hook_z) and `MLP{layer}` (patched at hook_mlp_out).
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable
from typing import Any

import torch

from interp.errors import InputError
from interp.tasks.base import IGNORE, Task, python_seed
from interp.tasks.checks import integer

_COMPONENT = re.compile(r"^(?:L(\d+)H(\d+)|MLP(\d+))$")
NONE_CLASS_NAME = "None"


def hook_of(component: str) -> tuple[str, int | None]:
    """(hook name, head index or None) of a component name `L{l}H{h}` or `MLP{l}`."""
    match = _COMPONENT.match(component)
    if match is None:
        raise InputError(f"component {component!r} is neither L<layer>H<head> nor MLP<layer>.")
    if match.group(3) is not None:
        return f"blocks.{match.group(3)}.hook_mlp_out", None
    return f"blocks.{match.group(1)}.attn.hook_z", int(match.group(2))


def patch_hooks(component: str, source: torch.Tensor) -> list[tuple[str, Callable[..., torch.Tensor]]]:
    """Forward hooks putting `source` (the component's activation on other inputs) in place."""
    name, head = hook_of(component)

    def swap(value: torch.Tensor, hook: Any) -> torch.Tensor:
        if head is None:
            return source  # [batch, pos, d_model]
        out = value.clone()  # [batch, pos, n_heads, d_head]
        out[:, :, head] = source[:, :, head]
        return out

    return [(name, swap)]


def activation(model: Any, tokens: torch.Tensor, component: str) -> torch.Tensor:
    """The component's hook activation on `tokens` (the whole hook tensor, all heads)."""
    name, _ = hook_of(component)
    store: dict[str, torch.Tensor] = {}

    def keep(value: torch.Tensor, hook: Any) -> None:
        store["value"] = value

    model.run_with_hooks(tokens, fwd_hooks=[(name, keep)])
    return store["value"]


def swap_batch(model: Any, base: torch.Tensor, source: torch.Tensor, components: list[str] | tuple[str, ...]
               ) -> tuple[torch.Tensor, list[tuple[str, Callable[..., torch.Tensor]]]]:
    """`base` repeated 1 + C times [(1+C)*n, seq] and forward hooks giving chunk k+1 the
    activation of components[k] from `model`'s run on `source` (chunk 0 unpatched): every
    interchange intervention of a batch in one forward pass. The source run keeps its graph
    (callers wanting none run this under torch.no_grad)."""
    n = base.shape[0]
    by_hook: dict[str, list[tuple[int, int | None]]] = {}
    for k, component in enumerate(components):
        name, head = hook_of(component)
        by_hook.setdefault(name, []).append((k + 1, head))
    store: dict[str, torch.Tensor] = {}

    def keep(value: torch.Tensor, hook: Any) -> None:
        store[hook.name] = value

    if by_hook:
        model.run_with_hooks(source, fwd_hooks=[(name, keep) for name in by_hook])

    def swap(value: torch.Tensor, hook: Any) -> torch.Tensor:
        out = value.clone()  # [(1+C)*n, pos, ...]
        src = store[hook.name]  # [n, pos, ...]
        for k, head in by_hook[hook.name]:
            if head is None:
                out[k * n:(k + 1) * n] = src  # an MLP's whole output
            else:
                out[k * n:(k + 1) * n, :, head] = src[:, :, head]  # one head's z
        return out

    return base.repeat(len(components) + 1, 1), [(name, swap) for name in by_hook]


@functools.lru_cache(maxsize=16)
def compiled_one_per_op(program: str) -> Any:
    """The library program compiled one component per op (cached: tasks are rebuilt often)."""
    from interp.tasks.siit_programs import library_program
    from rasp.compiler.pipeline import compile_program

    library = library_program(program)
    return compile_program(library.build(), library.vocab, library.max_seq_len, one_per_op=True)


class SiitTask(Task):
    """Inputs and compiled-model targets of one library program, with its aligned components."""

    def __init__(self, program: str = "reverse", seq_len: int = 4, extra_heads: int = 0):
        from interp.tasks.siit_programs import library_program
        from rasp.compiler.one_per_op import alignment

        library = library_program(program)  # InputError naming the known programs
        integer("seq_len", seq_len, minimum=1)
        integer("extra_heads", extra_heads, minimum=0)
        if seq_len > library.max_seq_len:
            raise InputError(f"seq_len={seq_len} is above {program!r}'s max_seq_len {library.max_seq_len}.")
        compiled = compiled_one_per_op(program)
        if compiled.numerical_output:
            raise InputError(f"{program!r} has a numerical output; SIIT here trains categorical programs "
                             "(pick one whose output is a token).")
        self.name, self.program, self.compiled, self._library = f"siit-{program}", program, compiled, library
        self.n_tokens = seq_len
        self.seq_len = seq_len + 1  # BOS first
        self.vocab = ["BOS"] + [str(v) for v in compiled.vocab]
        self.d_vocab = len(self.vocab)
        self.vocab_out = [str(v) for v in compiled.output_values] + [NONE_CLASS_NAME]
        self.d_vocab_out = len(self.vocab_out)
        cfg = compiled.model.cfg
        # extra_heads: heads per layer beyond the compiled model's, aligned to nothing (strictness
        # then has something to hold still even where every compiled component is a node).
        self.extra_heads = extra_heads
        self.n_heads = cfg.n_heads + extra_heads
        every = [f"L{layer}H{head}" for layer in range(cfg.n_layers) for head in range(self.n_heads)]
        if cfg.d_mlp:
            every += [f"MLP{layer}" for layer in range(cfg.n_layers)]
        used = {c for node in alignment(compiled).values() for c in node.components}
        self.components = tuple(every)  # every component of the (shared) architecture
        self.aligned = tuple(c for c in every if c in used)  # a RASP node's component
        self.unaligned = tuple(c for c in every if c not in used)  # free: strictness applies

    def draw_inputs(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n token-id sequences [n, seq_len] (BOS + program inputs)."""
        rng = random.Random(python_seed(generator))
        out = torch.empty(n, self.seq_len, dtype=torch.long)
        for row in range(n):
            drawn = self._library.sample(rng, self.n_tokens)[: self.n_tokens]
            if len(drawn) != self.n_tokens:
                raise InputError(f"{self.program!r} sampled {len(drawn)} tokens, not seq_len="
                                 f"{self.n_tokens}; pick a length its sampler supports.")
            out[row] = torch.tensor(self.compiled.encode(drawn))
        return out

    @torch.no_grad()
    def targets(self, tokens: torch.Tensor, hooks: list | None = None) -> torch.Tensor:
        """The compiled model's output classes [n, seq_len] (IGNORE at BOS), under `hooks`
        (an extra head has no compiled namesake: patching it leaves the program unchanged)."""
        logits = self.compiled.model.run_with_hooks(tokens, fwd_hooks=hooks or [])  # [n, seq, d_out]
        best = logits.max(dim=-1)
        none = torch.full_like(best.indices, len(self.vocab_out) - 1)  # the compiled decoder's None
        classes = torch.where(best.values > 0.5, best.indices, none)
        classes[:, 0] = IGNORE
        return classes

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """n inputs [n, seq_len] and the compiled model's classes [n, seq_len]."""
        tokens = self.draw_inputs(n, generator)
        return tokens, self.targets(tokens)

    def options(self) -> dict[str, Any]:
        """make_task("siit", **options) rebuilds this task."""
        return {"program": self.program, "seq_len": self.n_tokens, "extra_heads": self.extra_heads}

"""In-context regression prompts (Garg et al. 2022; von Oswald et al. 2023; Raventós et al. 2023).

A prompt is x_1, y_1, ..., x_n, y_n with y_i = f(x_i) + noise and a function f drawn per
prompt. Two encodings feed the same prompts to a vector-input model:

- "garg": tokens x_1, (y_1, 0, ..., 0), x_2, ... interleaved, seq_len 2n; the model's read-out
  at each x position predicts that point's y from the points before it (all prefixes scored).
- "oswald": one token (x_i, y_i) per point, the last one the query with y = 0, seq_len n;
  only the query is scored (N = n - 1 context points).

Targets are float [batch, seq] with NaN where a position is not scored (the training loop's
`masked_mse` reads them against the model's read-out 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from interp.errors import ConfigError, InputError
from interp.tasks.base import Task
from interp.tasks.checks import integer, number, under_limit

ENCODINGS = ("garg", "oswald")
FUNCTION_CLASSES = ("linear", "sparse_linear", "relu_net")
# "uniform": U(-1, 1) (von Oswald et al.'s text); "uniform_half": U(-0.5, 0.5) (their code);
# "skewed": Garg et al.'s out-of-distribution probe, covariance eigenvalues proportional to 1/i^2.
X_DISTRIBUTIONS = ("normal", "uniform", "uniform_half", "skewed")


@dataclass(frozen=True)
class RegressionPrompts:
    """A batch of prompts: every point's x and y, and the linear task vector when there is one."""

    xs: torch.Tensor  # [batch, n_points, d]
    ys: torch.Tensor  # [batch, n_points]
    weights: torch.Tensor | None  # [batch, d] for linear classes, None for relu_net

    def context(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The first k points as (xs [batch, k, d], ys [batch, k])."""
        return self.xs[:, :k], self.ys[:, :k]

    def query(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Point k (0-based) as (x [batch, d], y [batch]): the query after k in-context examples."""
        return self.xs[:, k], self.ys[:, k]


@dataclass(frozen=True)
class RegressionTask(Task):
    """In-context regression: d-dimensional inputs, n_points points per prompt.

    w_scale is tau (w ~ N(0, tau^2 I)); noise_std is sigma; pool_size M draws the prompt's task
    from a fixed pool of M vectors (seeded by pool_seed) instead of afresh (M = None: infinite).
    """

    d: int = 5
    n_points: int = 11
    encoding: str = "garg"
    function_class: str = "linear"
    noise_std: float = 0.0
    w_scale: float = 1.0
    x_distribution: str = "normal"
    x_scale: float = 1.0
    pool_size: int | None = None
    pool_seed: int = 0
    sparsity: int = 3  # nonzero coordinates of w for "sparse_linear"
    hidden: int = 100  # hidden units of the 2-layer ReLU net for "relu_net"
    name: str = "regression"

    def __post_init__(self) -> None:
        for field_name, choices in (
            ("encoding", ENCODINGS),
            ("function_class", FUNCTION_CLASSES),
            ("x_distribution", X_DISTRIBUTIONS),
        ):
            if getattr(self, field_name) not in choices:
                value = getattr(self, field_name)
                raise ConfigError(f"{field_name}={value!r} is not one of {list(choices)}.")
        bad = ConfigError
        integer("d", self.d, minimum=1, limit="vocab_size", error=bad)
        integer("n_points", self.n_points, minimum=1, error=bad)
        under_limit("n_points (2 positions each)", 2 * self.n_points, "sequence_length", error=bad)
        under_limit("d x n_points (numbers per prompt)", self.d * self.n_points, "batch_elements", error=bad)
        if self.encoding == "oswald" and self.n_points < 2:
            raise ConfigError("the 'oswald' encoding needs n_points >= 2 (context points plus a query).")
        number("noise_std", self.noise_std, minimum=0, error=bad)
        number("w_scale", self.w_scale, above=0, error=bad)
        number("x_scale", self.x_scale, above=0, error=bad)
        integer("pool_seed", self.pool_seed, minimum=0, error=bad)
        integer("sparsity", self.sparsity, minimum=1, error=bad)
        integer("hidden", self.hidden, minimum=1, error=bad)
        under_limit("hidden x d (ReLU-net weights per prompt)", self.hidden * self.d, "task_table_entries",
                    error=bad)
        if self.pool_size is not None:
            integer("pool_size", self.pool_size, minimum=1, error=bad)
            under_limit("pool_size x d", self.pool_size * self.d, "task_table_entries", error=bad)
            if self.function_class == "relu_net":
                raise ConfigError("pool_size needs a linear function class, not relu_net.")
        if self.function_class == "sparse_linear" and not self.sparsity <= self.d:
            raise ConfigError(f"sparsity={self.sparsity} must be between 1 and d={self.d}.")

    # ------------------------------------------------------------ model shape
    @property
    def d_input(self) -> int:
        """Width of one input token."""
        return self.d if self.encoding == "garg" else self.d + 1

    @property
    def seq_len(self) -> int:
        """Positions per encoded prompt."""
        return 2 * self.n_points if self.encoding == "garg" else self.n_points

    @property
    def d_vocab_out(self) -> int:
        """One real-valued read-out."""
        return 1

    @property
    def d_vocab(self) -> int:
        """No token vocabulary: inputs are vectors (d_input)."""
        return 0

    @property
    def causal(self) -> bool:
        """Garg's encoding scores every prefix, so the model must not see later points."""
        return self.encoding == "garg"

    loss = "masked_mse"  # the training loop's loss for float targets with NaN = unscored
    vocab = None
    vocab_out = None

    # --------------------------------------------------------------- sampling
    def pool(self) -> torch.Tensor:
        """The finite task pool [M, d] (same pool_seed, same pool); error for an infinite pool."""
        if self.pool_size is None:
            raise ConfigError("this task has no finite pool (pool_size=None); set pool_size=M.")
        generator = torch.Generator().manual_seed(self.pool_seed)
        return self._draw_weights(self.pool_size, generator)

    def sample_prompts(self, n: int, generator: torch.Generator) -> RegressionPrompts:
        """n prompts drawn with `generator` (same generator state, same prompts)."""
        xs = self._draw_xs(n, generator)  # [n, points, d]
        noise = torch.randn(n, self.n_points, generator=generator) * self.noise_std
        if self.function_class == "relu_net":
            return RegressionPrompts(xs, self._relu_net_values(xs, generator) + noise, None)
        if self.pool_size is None:
            weights = self._draw_weights(n, generator)
        else:
            index = torch.randint(0, self.pool_size, (n,), generator=generator)
            weights = self.pool()[index]
        ys = torch.einsum("bpd,bd->bp", xs, weights) + noise
        return RegressionPrompts(xs, ys, weights)

    def prompts(self, n: int, seed: int = 0) -> RegressionPrompts:
        """A seeded batch of prompts."""
        return self.sample_prompts(n, torch.Generator().manual_seed(seed))

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """n encoded prompts: inputs [n, seq_len, d_input] and targets [n, seq_len]."""
        return self.encode(self.sample_prompts(n, generator))

    def _draw_xs(self, n: int, generator: torch.Generator) -> torch.Tensor:
        shape = (n, self.n_points, self.d)
        kind = self.x_distribution
        if kind == "normal":
            xs = torch.randn(shape, generator=generator)
        elif kind in ("uniform", "uniform_half"):
            half_width = 1.0 if kind == "uniform" else 0.5
            xs = (torch.rand(shape, generator=generator) * 2 - 1) * half_width
        else:
            xs = torch.randn(shape, generator=generator) @ _skewed_covariance_root(self.d)
        return xs * self.x_scale

    def _draw_weights(self, n: int, generator: torch.Generator) -> torch.Tensor:
        weights = torch.randn(n, self.d, generator=generator) * self.w_scale  # [n, d]
        if self.function_class == "sparse_linear":
            # A random support of `sparsity` coordinates per prompt (Garg et al.'s sparse class).
            ranks = torch.rand(n, self.d, generator=generator).argsort(dim=1).argsort(dim=1)
            weights = weights * (ranks < self.sparsity)
        return weights

    def _relu_net_values(self, xs: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Garg et al.'s 2-layer ReLU net: sum_i a_i relu(w_i . x), w_i ~ N(0, I), a_i ~ N(0, 2/h)."""
        n = xs.shape[0]
        w_in = torch.randn(n, self.d, self.hidden, generator=generator)  # [n, d, h]
        w_out = torch.randn(n, self.hidden, generator=generator) * math.sqrt(2 / self.hidden)  # [n, h]
        return torch.einsum("bph,bh->bp", torch.relu(xs @ w_in), w_out) * self.w_scale

    # --------------------------------------------------------------- encoding
    def encode(self, prompts: RegressionPrompts) -> tuple[torch.Tensor, torch.Tensor]:
        """Prompts to (inputs [b, seq_len, d_input], targets [b, seq_len], NaN = not scored)."""
        xs, ys = prompts.xs, prompts.ys
        b, n, d = xs.shape
        targets = torch.full((b, self.seq_len), float("nan"))
        if self.encoding == "garg":
            inputs = torch.zeros(b, 2 * n, d)
            inputs[:, 0::2] = xs
            inputs[:, 1::2, 0] = ys
            targets[:, 0::2] = ys
            return inputs, targets
        inputs = torch.cat([xs, ys.unsqueeze(-1)], dim=-1)  # [b, n, d + 1]
        inputs[:, -1, -1] = 0.0  # the query's y is hidden
        targets[:, -1] = ys[:, -1]
        return inputs, targets

    def predictions(self, outputs: torch.Tensor) -> torch.Tensor:
        """Model read-outs [b, seq, 1] to predictions: [b, n_points] (garg) or the query's [b]."""
        if outputs.dim() != 3 or outputs.shape[1] != self.seq_len:
            raise InputError(f"expected outputs [batch, {self.seq_len}, 1], got {tuple(outputs.shape)}.")
        if self.encoding == "garg":
            return outputs[:, 0::2, 0]
        return outputs[:, -1, 0]


def _skewed_covariance_root(d: int) -> torch.Tensor:
    """A fixed matrix R with x = z R having eigenvalues proportional to 1/i^2, scaled to trace d."""
    eigenvalues = 1.0 / torch.arange(1, d + 1, dtype=torch.float32) ** 2
    eigenvalues = eigenvalues * d / eigenvalues.sum()
    rotation, _ = torch.linalg.qr(torch.randn(d, d, generator=torch.Generator().manual_seed(1234)))
    return torch.diag(eigenvalues.sqrt()) @ rotation.T

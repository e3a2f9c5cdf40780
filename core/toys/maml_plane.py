"""MAML in two dimensions: θ is a point in the plane and every task has its own loss.

Each task ``i`` has a minimum ``c_i`` and a symmetric positive-definite matrix ``P_i``:

- quadratic bowls, ``L_i(θ) = ½ (θ − c_i)ᵀ P_i (θ − c_i)``, whose curvature (Hessian) is ``P_i`` everywhere;
- Gaussian wells, ``L_i(θ) = 1 − exp(−½ (θ − c_i)ᵀ P_i (θ − c_i))``: a bowl near ``c_i`` that flattens far
  from it (non-convex), so that a gradient step there barely moves.

The inner loop takes ``steps`` gradient steps of size α on one task, ``θ′_i = θ − α ∇L_i(θ)``; MAML's
outer loop moves θ down the gradient of the mean of ``L_i(θ′_i)`` (Finn, Abbeel and Levine, 2017). The
toy has no data, so a task's support and query losses are the same function. Every gradient is exact,
from ``torch.func`` in float64: the second-order meta-gradient differentiates through the inner steps
(``Σ (I − α H_i(θ)) ∇L_i(θ′_i)`` for one step), the first-order one drops the ``−α H_i`` term.
Joint training, the baseline, descends the plain mean of ``L_i(θ)`` instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch.func import grad

Kind = Literal["quadratic", "wells"]
Method = Literal["second_order", "first_order", "joint"]
METHODS: tuple[Method, ...] = ("second_order", "first_order", "joint")
MAX_INNER_STEPS = 10
MAX_OUTER_STEPS = 2000
DTYPE = torch.float64
DIVERGED = 1e6  # |θ| beyond this counts as diverged


@dataclass(frozen=True)
class TaskFamily:
    """A few tasks on the plane (see the module's docstring) and the settings that show them well.

    Args:
        kind: "quadratic" (bowls) or "wells" (Gaussian wells, non-convex).
        minima: ``c_i``, one (x, y) per task.
        curvatures: ``P_i`` as ((a, b), (b, d)), symmetric positive-definite, one per task.
        alpha: the inner learning rate to start with; ``alpha_max`` the largest worth offering.
        beta: the outer (meta) learning rate; ``start`` the θ to start from.
        extent: the box to draw, (x_min, x_max, y_min, y_max).
    """

    kind: Kind
    minima: tuple[tuple[float, float], ...]
    curvatures: tuple[tuple[tuple[float, float], tuple[float, float]], ...]
    alpha: float
    alpha_max: float
    beta: float
    start: tuple[float, float]
    extent: tuple[float, float, float, float]

    def __post_init__(self) -> None:
        if self.kind not in ("quadratic", "wells"):
            raise ValueError(f"kind must be 'quadratic' or 'wells', got {self.kind!r}")
        if not self.minima or len(self.minima) != len(self.curvatures):
            raise ValueError(f"need one curvature per minimum, got {len(self.minima)} and {len(self.curvatures)}")
        for (a, b), (c, d) in self.curvatures:
            if b != c or a <= 0 or a * d - b * c <= 0:
                raise ValueError(
                    f"curvature ((a, b), (b, d)) must be symmetric positive-definite, got {((a, b), (c, d))}"
                )

    @property
    def n_tasks(self) -> int:
        return len(self.minima)

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The minima [T, 2] and curvature matrices [T, 2, 2], float64."""
        return torch.tensor(self.minima, dtype=DTYPE), torch.tensor(self.curvatures, dtype=DTYPE)


_MINIMA = ((-2.0, 1.5), (2.0, 2.0), (1.5, -1.5), (-1.5, -2.0))
_BOX = (-4.0, 4.0, -4.0, 4.0)
FAMILIES: dict[str, TaskFamily] = {
    # Shallow bowls (tasks 1, 3) adapt slowly; steep ones (2, 4) are solved by one step from almost anywhere.
    "bowls": TaskFamily(
        "quadratic",
        _MINIMA,
        (((0.4, 0.0), (0.0, 0.4)), ((2.4, 0.0), (0.0, 0.8)), ((1.2, 0.6), (0.6, 1.2)), ((2.2, 0.0), (0.0, 2.2))),
        alpha=0.4,
        alpha_max=0.8,
        beta=1.0,
        start=(3.5, 0.0),
        extent=_BOX,
    ),
    "equal_bowls": TaskFamily(
        "quadratic",
        _MINIMA,
        (((1.0, 0.0), (0.0, 1.0)),) * 4,
        alpha=0.4,
        alpha_max=1.0,
        beta=1.0,
        start=(3.5, 0.0),
        extent=_BOX,
    ),
    "wells": TaskFamily(
        "wells",
        ((-2.2, 1.6), (2.2, 1.8), (1.4, -1.8), (-0.6, -2.4)),
        (((0.25, 0.0), (0.0, 0.25)), ((1.25, 0.0), (0.0, 0.5)), ((0.5, 0.2), (0.2, 0.5)), ((1.5, 0.0), (0.0, 1.5))),
        alpha=1.5,
        alpha_max=4.0,
        beta=3.0,
        start=(3.5, 0.0),
        extent=(-4.5, 4.5, -4.5, 4.5),
    ),
}


def _losses(family: TaskFamily, points: torch.Tensor) -> torch.Tensor:
    """Task i's loss at ``points[..., i, :]``: points [..., T, 2] -> losses [..., T]."""
    minima, matrices = family.tensors()
    offsets = points - minima
    quadratic = 0.5 * ((offsets.unsqueeze(-2) @ matrices).squeeze(-2) * offsets).sum(-1)
    return quadratic if family.kind == "quadratic" else 1.0 - torch.exp(-quadratic)


def _task_gradients(family: TaskFamily, points: torch.Tensor) -> torch.Tensor:
    """Task i's gradient at ``points[..., i, :]``, [..., T, 2] (the tasks are independent, so one ``grad``
    of the summed losses gives each task's own gradient)."""
    return grad(lambda at: _losses(family, at).sum())(points)


@dataclass(frozen=True)
class MetaGradients:
    """At one θ, each [2]: the gradient of the mean loss after adapting, exact (second order) and without
    the inner steps' Hessian terms (first order), and the gradient of the plain mean loss (joint training)."""

    second_order: torch.Tensor
    first_order: torch.Tensor
    joint: torch.Tensor

    def of(self, method: Method) -> torch.Tensor:
        return getattr(self, method)


@dataclass(frozen=True)
class PlaneSnapshot:
    """Everything drawn at one θ: each task's inner path, its loss before and after, the meta-gradients.

    ``paths`` is [T, steps + 1, 2] (row 0 is θ itself); ``loss_before`` and ``loss_after`` are [T].
    """

    theta: torch.Tensor
    alpha: float
    steps: int
    paths: torch.Tensor
    loss_before: torch.Tensor
    loss_after: torch.Tensor
    gradients: MetaGradients


@dataclass(frozen=True)
class Trajectory:
    """θ after each outer step of one method, from the start: ``points`` [S + 1, 2]; at each point the mean
    loss before adapting and after the inner steps, [S + 1] each. ``diverged`` when it left the finite numbers."""

    method: Method
    points: torch.Tensor
    loss_before: torch.Tensor
    loss_after: torch.Tensor
    diverged: bool


def _check(family: TaskFamily, theta: torch.Tensor, alpha: float, steps: int) -> torch.Tensor:
    theta = torch.as_tensor(theta, dtype=DTYPE)
    if theta.shape != (2,) or not torch.isfinite(theta).all():
        raise ValueError(f"θ must be two finite numbers, got {theta.tolist()}")
    if not (0.0 <= alpha <= family.alpha_max):
        raise ValueError(f"α must be in [0, {family.alpha_max}], got {alpha}")
    if not (0 <= steps <= MAX_INNER_STEPS):
        raise ValueError(f"inner steps must be from 0 to {MAX_INNER_STEPS}, got {steps}")
    return theta


def adapt_every_task(family: TaskFamily, theta: torch.Tensor, alpha: float, steps: int) -> torch.Tensor:
    """Every task's inner loop from θ [..., 2]: [..., steps + 1, T, 2], differentiable in θ."""
    points = [theta.unsqueeze(-2).expand(*theta.shape[:-1], family.n_tasks, 2)]
    for _ in range(steps):
        points.append(points[-1] - alpha * _task_gradients(family, points[-1]))
    return torch.stack(points, dim=-3)


def task_losses(family: TaskFamily, theta: torch.Tensor) -> torch.Tensor:
    """Each task's loss at θ: θ [..., 2] -> [..., T]."""
    theta = torch.as_tensor(theta, dtype=DTYPE)
    return _losses(family, theta.unsqueeze(-2).expand(*theta.shape[:-1], family.n_tasks, 2))


def maml_loss(family: TaskFamily, theta: torch.Tensor, alpha: float, steps: int) -> torch.Tensor:
    """MAML's objective, the mean over tasks of ``L_i(θ′_i)``: θ [..., 2] -> [...], differentiable in θ."""
    return _losses(
        family, adapt_every_task(family, torch.as_tensor(theta, dtype=DTYPE), alpha, steps)[..., -1, :, :]
    ).mean(-1)


def inner_paths(family: TaskFamily, theta: torch.Tensor, alpha: float, steps: int) -> torch.Tensor:
    """Each task's inner loop from θ: [T, steps + 1, 2], row 0 being θ."""
    return adapt_every_task(family, _check(family, theta, alpha, steps), alpha, steps).transpose(0, 1)


def outer_gradient(family: TaskFamily, theta: torch.Tensor, method: Method, alpha: float, steps: int) -> torch.Tensor:
    """The gradient one method descends at θ, [2] (see ``MetaGradients``)."""
    theta = _check(family, theta, alpha, steps)
    if method == "second_order":
        return grad(lambda at: maml_loss(family, at, alpha, steps))(theta)
    if method == "first_order":
        return _task_gradients(family, adapt_every_task(family, theta, alpha, steps)[-1]).mean(0)
    if method == "joint":
        return _task_gradients(family, adapt_every_task(family, theta, alpha, 0)[-1]).mean(0)
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def meta_gradients(family: TaskFamily, theta: torch.Tensor, alpha: float, steps: int) -> MetaGradients:
    """The three outer gradients at θ."""
    return MetaGradients(*(outer_gradient(family, theta, method, alpha, steps) for method in METHODS))


def snapshot(family: TaskFamily, theta: torch.Tensor, alpha: float, steps: int) -> PlaneSnapshot:
    """The inner paths, losses and meta-gradients at θ."""
    theta = _check(family, theta, alpha, steps)
    paths = inner_paths(family, theta, alpha, steps)
    after = _losses(family, paths[:, -1])
    return PlaneSnapshot(theta, alpha, steps, paths, task_losses(family, theta), after,
                         meta_gradients(family, theta, alpha, steps))  # fmt: skip


def outer_step(family: TaskFamily, theta: torch.Tensor, method: Method, alpha: float, steps: int,
               beta: float) -> torch.Tensor:  # fmt: skip
    """θ after one outer step of gradient descent (rate β) on ``method``'s objective, [2]."""
    if not (0 < beta <= 100) or not math.isfinite(beta):
        raise ValueError(f"β must be positive (and at most 100), got {beta}")
    return theta - beta * outer_gradient(family, theta, method, alpha, steps)


def trajectory(family: TaskFamily, points: torch.Tensor, method: Method, alpha: float, steps: int) -> Trajectory:
    """A method's points [S + 1, 2] with the mean loss before and after adapting at each."""
    points = torch.as_tensor(points, dtype=DTYPE)
    finite = torch.isfinite(points).all(-1) & (points.abs().max(-1).values <= DIVERGED)
    kept = points[: int(finite.cumprod(0).sum())]
    return Trajectory(method, kept, task_losses(family, kept).mean(-1), maml_loss(family, kept, alpha, steps),
                      diverged=len(kept) < len(points))  # fmt: skip


def train(family: TaskFamily, start: torch.Tensor, method: Method, alpha: float, steps: int, beta: float,
          outer_steps: int) -> Trajectory:  # fmt: skip
    """``outer_steps`` outer steps of one method from ``start``: "second_order" and "first_order" are MAML with
    exact or first-order meta-gradients; "joint" descends the plain mean loss (α and the inner steps only enter
    its ``loss_after``, for comparison). Stops early if θ leaves the finite numbers (``diverged``)."""
    if not (0 <= outer_steps <= MAX_OUTER_STEPS):
        raise ValueError(f"outer steps must be from 0 to {MAX_OUTER_STEPS}, got {outer_steps}")
    points = [_check(family, start, alpha, steps)]
    for _ in range(outer_steps):
        points.append(outer_step(family, points[-1], method, alpha, steps, beta))
        if not torch.isfinite(points[-1]).all() or points[-1].abs().max() > DIVERGED:
            break
    return trajectory(family, torch.stack(points), method, alpha, steps)


def loss_grid(family: TaskFamily, xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """Each task's loss on the grid ``xs`` × ``ys``: [T, len(ys), len(xs)] (rows follow y, as plots expect)."""
    minima, matrices = family.tensors()
    grid_y, grid_x = torch.meshgrid(ys.to(DTYPE), xs.to(DTYPE), indexing="ij")
    offsets = torch.stack([grid_x, grid_y], dim=-1)[None] - minima[:, None, None, :]  # [T, Y, X, 2]
    quadratic = 0.5 * torch.einsum("tyxi,tij,tyxj->tyx", offsets, matrices, offsets)
    return quadratic if family.kind == "quadratic" else 1.0 - torch.exp(-quadratic)


def quadratic_fixed_points(family: TaskFamily, alpha: float, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For bowls, in closed form: MAML's fixed point and joint training's (the curvature-weighted mean of
    the minima). After k steps ``θ′_i − c_i = (I − αP_i)^k (θ − c_i)``, so MAML weighs task i by
    ``(I − αP_i)^k P_i (I − αP_i)^k``: a task that one step solves from anywhere (αP_i = I) weighs nothing."""
    if family.kind != "quadratic":
        raise ValueError("closed-form fixed points exist for quadratic bowls only")
    minima, matrices = family.tensors()
    contraction = torch.linalg.matrix_power(torch.eye(2, dtype=DTYPE) - alpha * matrices, steps)
    weights = contraction.transpose(1, 2) @ matrices @ contraction

    def weighted_mean(w: torch.Tensor) -> torch.Tensor:
        return torch.linalg.solve(w.sum(0), (w @ minima[..., None]).sum(0))[:, 0]

    return weighted_mean(weights), weighted_mean(matrices)

"""Sinusoid regression, the first experiment of MAML (Finn, Abbeel and Levine, 2017, section 5.1).

Each task is a sine wave ``amplitude * sin(x - phase)`` with the amplitude in [0.1, 5] and the
phase in [0, π], seen through K points with x in [-5, 5]. A 1-40-40-1 ReLU network is either
meta-trained with MAML (so that one gradient step on K points fits the wave) or trained jointly on
points pooled from many tasks (a network that knows sine waves but not how to adapt), and both are
then fine-tuned the same way on a new task's K points.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F

from core.algorithms.adaptation import Params, task_batched
from core.algorithms.adaptation import adapt as inner_loop

AMPLITUDE_RANGE = (0.1, 5.0)
PHASE_RANGE = (0.0, math.pi)
X_RANGE = (-5.0, 5.0)
MAX_FINE_TUNE_STEPS = 1000


@dataclass(frozen=True)
class SinusoidTask:
    """One regression task: ``y = amplitude * sin(x - phase)``."""

    amplitude: float
    phase: float

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.amplitude * torch.sin(x - self.phase)

    def points(self, n_points: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``n_points`` inputs drawn uniformly from [-5, 5] and their values, both [n_points, 1]."""
        if n_points < 1:
            raise ValueError(f"need at least one point, got n_points={n_points}")
        x = _uniform((n_points, 1), X_RANGE, torch.Generator().manual_seed(seed))
        return x, self(x)


def random_task(seed: int) -> SinusoidTask:
    """A task drawn from the paper's distribution; the same seed gives the same task."""
    generator = torch.Generator().manual_seed(seed)
    amplitude = _uniform((), AMPLITUDE_RANGE, generator)
    return SinusoidTask(float(amplitude), float(_uniform((), PHASE_RANGE, generator)))


@dataclass(frozen=True)
class TaskBatch:
    """T tasks, each with K support points to adapt on and K other query points to judge; all [T, K, 1]."""

    support_x: torch.Tensor
    support_y: torch.Tensor
    query_x: torch.Tensor
    query_y: torch.Tensor


def sample_batch(n_tasks: int, n_shot: int, generator: torch.Generator) -> TaskBatch:
    """``n_tasks`` random tasks with ``2 * n_shot`` points each, split into support and query."""
    amplitude = _uniform((n_tasks, 1, 1), AMPLITUDE_RANGE, generator)
    phase = _uniform((n_tasks, 1, 1), PHASE_RANGE, generator)
    x = _uniform((n_tasks, 2 * n_shot, 1), X_RANGE, generator)
    y = amplitude * torch.sin(x - phase)
    return TaskBatch(x[:, :n_shot], y[:, :n_shot], x[:, n_shot:], y[:, n_shot:])


def _uniform(shape: tuple[int, ...], bounds: tuple[float, float], generator: torch.Generator) -> torch.Tensor:
    low, high = bounds
    return low + (high - low) * torch.rand(shape, generator=generator)


def regressor(seed: int = 0) -> nn.Sequential:
    """The paper's network, 1-40-40-1 with ReLU, initialised from ``seed`` (the global RNG is left alone)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(1, 40), nn.ReLU(), nn.Linear(40, 40), nn.ReLU(), nn.Linear(40, 1))


def adapt(
    model: nn.Module,
    params: Params,
    x: torch.Tensor,
    y: torch.Tensor,
    steps: int,
    inner_lr: float = 0.01,
    first_order: bool = False,
) -> tuple[Params, torch.Tensor]:
    """``steps`` gradient steps of MSE on one task's points ``x``, ``y`` ([K, 1] each): MAML's one
    inner loop (``core.algorithms.adaptation.adapt``) with a regression loss.

    Works under ``torch.no_grad`` too. Unless ``first_order``, the adapted parameters stay
    differentiable with respect to ``params``.

    Returns:
        The adapted parameters and the MSE before each step, a [steps] tensor.
    """
    adapted, losses = inner_loop(lambda p: F.mse_loss(functional_call(model, p, (x,)), y), params, steps, inner_lr,
                                 first_order)  # fmt: skip
    return adapted, torch.stack(losses) if losses else torch.zeros(0)


def task_batched_regressor(params: Params, x: torch.Tensor) -> torch.Tensor:
    """``regressor()`` for T tasks at once: task-batched params (leading task dimension), x [T, K, 1] -> [T, K, 1]."""
    layers = sorted({int(name.split(".")[0]) for name in params})
    for position, layer in enumerate(layers):
        x = torch.baddbmm(params[f"{layer}.bias"].unsqueeze(1), x, params[f"{layer}.weight"].transpose(1, 2))
        if position < len(layers) - 1:
            x = F.relu(x)
    return x


def _per_task_mse(params: Params, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (task_batched_regressor(params, x) - y).pow(2).mean(dim=(1, 2))


def adapt_tasks(
    model: nn.Module, support_x: torch.Tensor, support_y: torch.Tensor, steps: int, inner_lr: float,
    first_order: bool = False,
) -> Params:  # fmt: skip
    """``model``'s parameters adapted to each of T tasks' points ([T, K, 1]) at once: task-batched params."""
    params = task_batched(dict(model.named_parameters()), support_x.shape[0])
    adapted, _ = inner_loop(lambda p: _per_task_mse(p, support_x, support_y), params, steps, inner_lr, first_order)
    return adapted


@dataclass(frozen=True)
class SineTrainConfig:
    """Meta-training settings; the paper used 70,000 steps of meta-batch 25, we need far fewer to see the effect."""

    n_shot: int = 10
    steps: int = 2000
    meta_batch: int = 25
    meta_lr: float = 1e-3
    inner_lr: float = 0.01
    inner_steps: int = 1
    first_order: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n_shot", "steps", "meta_batch", "inner_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")


@dataclass(frozen=True)
class SineProgress:
    """One training step: the query MSE of its tasks before and after ``inner_steps`` on the support points.

    For MAML ``loss_after`` is the meta-loss it minimises; for joint training it is only measured.
    """

    step: int
    loss_after: float
    loss_before: float
    seconds: float


def query_losses(model: nn.Module, batch: TaskBatch, steps: int, inner_lr: float, first_order: bool = False
                 ) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Per-task query MSE before and after adapting on the support points; two [T] tensors."""
    # the meta-batch as one task-batched network: 2 ms a step (1 thread), 3 ms with vmap, 20 ms as a loop of 25 tasks
    adapted = adapt_tasks(model, batch.support_x, batch.support_y, steps, inner_lr, first_order)
    with torch.no_grad():
        before = (model(batch.query_x) - batch.query_y).pow(2).mean(dim=(1, 2))
    return before, _per_task_mse(adapted, batch.query_x, batch.query_y)


def meta_train(model: nn.Module, config: SineTrainConfig) -> Iterator[SineProgress]:
    """MAML on sinusoids, training ``model`` in place; one record per step, stop by not asking for more."""
    generator = torch.Generator().manual_seed(config.seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.meta_lr)
    start = time.perf_counter()
    for step in range(1, config.steps + 1):
        batch = sample_batch(config.meta_batch, config.n_shot, generator)
        before, after = query_losses(model, batch, config.inner_steps, config.inner_lr, config.first_order)
        optimiser.zero_grad()
        after.mean().backward()
        optimiser.step()
        yield SineProgress(step, after.mean().item(), before.mean().item(), time.perf_counter() - start)


def joint_train(model: nn.Module, config: SineTrainConfig) -> Iterator[SineProgress]:
    """The baseline: plain regression on the points of all the tasks pooled, the same tasks MAML sees."""
    generator = torch.Generator().manual_seed(config.seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.meta_lr)
    start = time.perf_counter()
    for step in range(1, config.steps + 1):
        batch = sample_batch(config.meta_batch, config.n_shot, generator)
        with torch.no_grad():
            before, after = query_losses(model, batch, config.inner_steps, config.inner_lr, first_order=True)
        x = torch.cat([batch.support_x, batch.query_x], dim=1)
        y = torch.cat([batch.support_y, batch.query_y], dim=1)
        loss = F.mse_loss(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        yield SineProgress(step, after.mean().item(), before.mean().item(), time.perf_counter() - start)


@dataclass(frozen=True)
class FineTuneCurve:
    """Predictions on a dense grid after each number of fine-tuning steps."""

    grid: torch.Tensor  # [G]
    truth: torch.Tensor  # [G]
    steps: tuple[int, ...]
    predictions: torch.Tensor  # [len(steps), G]
    mse: tuple[float, ...]  # against the true curve on the grid, one per entry of steps


def fine_tune_curve(
    model: nn.Module,
    task: SinusoidTask,
    support_x: torch.Tensor,
    support_y: torch.Tensor,
    steps: Sequence[int],
    inner_lr: float = 0.01,
    grid_points: int = 200,
) -> FineTuneCurve:
    """Fine-tune ``model``'s parameters on the K points ([K, 1] each) and predict ``task`` on [-5, 5].

    ``steps`` (e.g. 0, 1, 10) are counted from the trained parameters; ``model`` is not changed.
    """
    steps = _checked_steps(steps)
    grid = torch.linspace(*X_RANGE, grid_points).unsqueeze(1)
    truth = task(grid).squeeze(1)
    with torch.no_grad():
        predictions = _predictions_after(model, support_x[None], support_y[None], steps, inner_lr, grid)[0]
    mse = tuple((predictions - truth).pow(2).mean(dim=1).tolist())
    return FineTuneCurve(grid.squeeze(1), truth, steps, predictions, mse)


def mean_grid_mse(model: nn.Module, n_shot: int, steps: Sequence[int], n_tasks: int = 20, seed: int = 10_000,
                  inner_lr: float = 0.01, grid_points: int = 200) -> tuple[float, ...]:  # fmt: skip
    """Grid MSE after each step count (sorted), averaged over ``n_tasks`` held-out tasks (seeds ``seed``, …)."""
    steps = _checked_steps(steps)
    tasks = [random_task(seed + index) for index in range(n_tasks)]
    # the points use other seeds than the tasks: the same stream would tie x to the amplitude
    points = [task.points(n_shot, seed + index + 1_000_000) for index, task in enumerate(tasks)]
    support_x, support_y = (torch.stack(tensors) for tensors in zip(*points))
    grid = torch.linspace(*X_RANGE, grid_points).unsqueeze(1)
    truth = torch.stack([task(grid).squeeze(1) for task in tasks]).unsqueeze(1)  # [T, 1, G]

    with torch.no_grad():
        predictions = _predictions_after(model, support_x, support_y, steps, inner_lr, grid)  # [T, len(steps), G]
    return tuple((predictions - truth).pow(2).mean(dim=(0, 2)).tolist())


def _checked_steps(steps: Sequence[int]) -> tuple[int, ...]:
    steps = tuple(sorted({int(s) for s in steps}))
    if not steps or steps[0] < 0 or steps[-1] > MAX_FINE_TUNE_STEPS:
        raise ValueError(f"step counts must lie in 0..{MAX_FINE_TUNE_STEPS}, got {list(steps)}")
    return steps


def _predictions_after(model: nn.Module, support_x: torch.Tensor, support_y: torch.Tensor, steps: tuple[int, ...],
                       inner_lr: float, grid: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """[T, len(steps), G] predictions on ``grid`` ([G, 1]) after each of the sorted step counts, for T tasks'
    points ([T, K, 1])."""
    params = task_batched(dict(model.named_parameters()), support_x.shape[0])
    done, predictions = 0, []
    for target in steps:
        params, _ = inner_loop(lambda p: _per_task_mse(p, support_x, support_y), params, target - done, inner_lr,
                               first_order=True)  # fmt: skip
        done = target
        grids = grid.expand(support_x.shape[0], *grid.shape)
        predictions.append(task_batched_regressor(params, grids).squeeze(-1))
    return torch.stack(predictions, dim=1)

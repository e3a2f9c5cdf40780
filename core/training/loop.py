"""One meta-training loop for every algorithm, yielding flat progress records.

The CLI prints the records, a page plots them live, a test counts them. Stopping is
simply not asking for the next record; ``finish()`` then puts back the weights that
validated best (or keeps the current ones when nothing was validated).

Under torchrun the same loop runs in every process: each rank draws its own slot of the
global meta-batch, gradients are averaged before the step, and only rank 0 validates
(see ``core.runtime.distributed``).
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from core.algorithms.base import FewShotAlgorithm
from core.algorithms.maml import multi_step_weights
from core.augment import distort_episode
from core.checkpoints import restore_training_state, training_state
from core.episodes import Episode, EpisodeBatch, EpisodeSampler, stack_episodes
from core.evaluation import evaluate
from core.runtime.distributed import (
    SINGLE,
    DistributedContext,
    average_buffers,
    average_gradients,
    average_values,
    broadcast_module,
)
from core.training.config import LR_SCHEDULES, TrainConfig, check_precision, clip_each_part, learning_rate_factor
from core.training.snapshots import Snapshot, SnapshotKeeper

CPU_TASK_BATCH_IMAGES = 128  # fastest of 80-640 on a 2-core CPU, 5-way and 20-way alike

__all__ = ["Progress", "TrainConfig", "TrainingRun", "check_precision", "train"]


@dataclass(frozen=True)
class Progress:
    """One training step: a flat record (None where not measured at this step)."""

    step: int
    loss: float
    accuracy: float
    seconds: float
    learning_rate: float
    val_accuracy: float | None = None
    val_ci95: float | None = None
    best: bool = False


class TrainingRun(Iterator[Progress]):
    """Iterate to train: each ``next()`` takes one optimiser step and returns its Progress."""

    def __init__(
        self,
        algorithm: FewShotAlgorithm,
        sampler: EpisodeSampler,
        config: TrainConfig = TrainConfig(),
        validation: EpisodeSampler | None = None,
        distributed: DistributedContext = SINGLE,
    ) -> None:
        if config.episodes < 1 or config.meta_batch < 1:
            raise ValueError("episodes and meta_batch must be at least 1")
        if config.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {config.lr_schedule!r}")
        if config.anneal_from and (config.lr_schedule != "cosine" or not 0 < config.anneal_from < config.episodes):
            raise ValueError(f"anneal_from ({config.anneal_from}) starts the cosine schedule: it needs "
                             f"lr_schedule='cosine' and a step below episodes ({config.episodes})")  # fmt: skip
        if config.first_order_until and not hasattr(algorithm, "first_order"):
            raise ValueError(f"first_order_until is for MAML; {type(algorithm).__name__} has no second order")
        if config.multi_step_loss_until and not hasattr(algorithm, "step_loss_weights"):
            raise ValueError(f"multi_step_loss_until is for MAML; {type(algorithm).__name__} has no inner steps")
        if config.snapshots == 1 or config.snapshots < 0:
            raise ValueError(f"snapshots must be 0 (none) or at least 2, got {config.snapshots}")
        check_precision(config.amp, algorithm.device)
        self.algorithm, self.sampler, self.config, self.validation = algorithm, sampler, config, validation
        self.distributed = distributed
        self.task_batched = config.task_batched and hasattr(algorithm, "meta_batch_loss")
        broadcast_module(algorithm, distributed)  # every rank starts from rank 0's weights
        self.optimizer = torch.optim.Adam(algorithm.parameters(), lr=config.learning_rate)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: learning_rate_factor(config, step)
        )
        self.step = 0
        self.seconds = 0.0
        self.best_accuracy: float | None = None
        self.best_step: int | None = None
        self._best_state: dict | None = None
        self._last_state: dict[str, torch.Tensor] | None = None  # kept by finish(), before the best comes back
        keep = config.snapshots and distributed.is_main  # every rank holds the same weights
        self._keeper = SnapshotKeeper(config.snapshots, config.episodes) if keep else None

    def __next__(self) -> Progress:
        if self._keeper is not None:
            self._keeper.offer(self.step, self.algorithm)  # the weights after self.step steps
        if self.step >= self.config.episodes:
            self.finish()
            raise StopIteration
        start = time.perf_counter()
        loss, accuracy = self._update()
        self.step += 1
        self.seconds += time.perf_counter() - start
        record = Progress(self.step, loss, accuracy, self.seconds, self.optimizer.param_groups[0]["lr"])
        if self.validation is not None and self.distributed.is_main and self._validation_due():
            record = self._validate(record)
        return record

    @contextlib.contextmanager
    def _derivative_order(self):
        """First order while ``step < config.first_order_until``; the model's own order after."""
        if self.step >= self.config.first_order_until:
            yield
            return
        own, self.algorithm.first_order = self.algorithm.first_order, True
        try:
            yield
        finally:
            self.algorithm.first_order = own

    @contextlib.contextmanager
    def _multi_step_loss(self):
        """The multi-step loss's weights for this step while ``step < config.multi_step_loss_until``."""
        until = self.config.multi_step_loss_until
        if self.step >= until:
            yield
            return
        self.algorithm.step_loss_weights = multi_step_weights(self.algorithm.train_steps, self.step / until)
        try:
            yield
        finally:
            self.algorithm.step_loss_weights = None

    def _update(self) -> tuple[float, float]:
        self.algorithm.train()
        self.optimizer.zero_grad(set_to_none=True)
        buffers = [buffer.clone() for buffer in self.algorithm.buffers()]  # BatchNorm statistics, a few KB
        indices = self.distributed.episode_indices(self.step, self.config.meta_batch)
        episodes = [self.sampler.episode(index) for index in indices]
        if self.config.augment:
            episodes = [distort_episode(episode, self.sampler.seed) for episode in episodes]
        with self._derivative_order(), self._multi_step_loss():
            loss, accuracy = self._meta_batch(episodes)
        total_loss, total_accuracy = torch.stack([loss, accuracy]).tolist()  # one sync
        if self.distributed.enabled:
            total_loss, total_accuracy = self._synchronise(total_loss, total_accuracy)
        if not math.isfinite(total_loss):  # nothing is stepped: the weights stay the last good ones
            for buffer, saved in zip(self.algorithm.buffers(), buffers):
                buffer.copy_(saved)  # the forward pass already ran the statistics into the NaNs
            raise FloatingPointError(
                f"the loss became {total_loss} at step {self.step + 1}; try a smaller learning rate"
            )
        if self.config.clip_grad_norm is not None:
            clip_each_part(self.algorithm, self.config.clip_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        return total_loss, total_accuracy

    def _meta_batch(self, episodes: list[Episode]) -> tuple[torch.Tensor, torch.Tensor]:
        """Back-propagate this process's share of the meta-batch; its (detached) loss and accuracy.

        An algorithm with ``meta_batch_loss`` takes same-shaped episodes in task-batched passes
        (MAML: 2-3x the per-task loop on a CPU, 10-17x on a GPU); otherwise they go one at a time.
        """
        batch = stack_episodes(episodes) if self.task_batched and len(episodes) > 1 else None
        parts = self._task_chunks(batch) if batch is not None else episodes
        total_loss = total_accuracy = torch.zeros((), device=self.algorithm.device)
        for part in parts:
            with self._precision():
                if batch is not None:
                    loss, accuracy = self.algorithm.meta_batch_loss(*self.algorithm.inputs(part))
                else:
                    loss, accuracy = self.algorithm.episode_loss(part)
            share = (part.support_x.shape[0] if batch is not None else 1) / self.config.meta_batch
            (loss * share).backward()
            total_loss = total_loss + loss.detach() * share
            total_accuracy = total_accuracy + accuracy.detach() * share
        return total_loss, total_accuracy

    def _task_chunks(self, batch: EpisodeBatch) -> list[EpisodeBatch]:
        """The meta-batch in passes of about ``task_batch_images`` images each (all at once when None).

        On a CPU a pass that outgrows the caches slows down: 20-way MAML at 5 inner steps ran
        1.6 tasks/s with 16 tasks a pass and 3.2 with 4 (``benchmarks/maml_speed.py``).
        """
        limit = self.config.task_batch_images
        if limit is None and self.algorithm.device.type == "cpu":
            limit = CPU_TASK_BATCH_IMAGES
        tasks = batch.support_x.shape[0]
        images = batch.support_x.shape[1] + batch.query_x.shape[1]
        passes = 1 if limit is None else max(1, math.ceil(tasks * images / limit))
        size = math.ceil(tasks / passes)
        fields = ("support_x", "support_y", "query_x", "query_y")
        return [EpisodeBatch(*(getattr(batch, f)[first : first + size] for f in fields))
                for first in range(0, tasks, size)]  # fmt: skip

    def _precision(self) -> contextlib.AbstractContextManager:
        device = self.algorithm.device.type
        return torch.autocast(device, dtype=torch.bfloat16) if self.config.amp else contextlib.nullcontext()

    def _synchronise(self, loss: float, accuracy: float) -> tuple[float, float]:
        """Average gradients, BatchNorm statistics and the reported numbers over the ranks."""
        world = self.distributed.world_size
        average_gradients(self.algorithm.parameters(), world)
        average_buffers(self.algorithm, world)
        loss, accuracy = average_values([loss, accuracy], world, self.algorithm.device)
        return loss, accuracy

    def _validation_due(self) -> bool:
        every = self.config.validate_every
        return (every and self.step % every == 0) or self.step == self.config.episodes

    def _validate(self, record: Progress) -> Progress:
        result = evaluate(self.algorithm, self.validation, self.config.validation_episodes)
        improved = self.best_accuracy is None or result.mean > self.best_accuracy
        if improved:
            self.best_accuracy, self.best_step = result.mean, self.step
            if self.config.keep_best:
                self._best_state = copy.deepcopy(self.algorithm.state_dict())
        return Progress(**{**record.__dict__, "val_accuracy": result.mean, "val_ci95": result.ci95, "best": improved})

    @property
    def snapshots(self) -> tuple[Snapshot, ...]:
        """The weights kept so far, in step order (step 0: before training; none when ``config.snapshots`` is 0).

        After ``resume`` they start at the resumed step: a checkpoint's earlier snapshots are not carried over.
        """
        return self._keeper.snapshots if self._keeper is not None else ()

    def resume_state(self) -> dict[str, torch.Tensor]:
        """The current (not the best) weights and Adam's moments, as flat CPU tensors to save beside a checkpoint.

        With ``step`` this is everything needed to continue as if the run had never stopped.
        """
        return self._last_state if self._last_state is not None else training_state(self.algorithm, self.optimizer)

    def resume(self, step: int, tensors: dict[str, torch.Tensor], best: tuple[int, float] | None = None) -> None:
        """Continue after ``step`` steps from ``resume_state()``'s tensors: the same episodes and updates follow.

        ``best`` is the checkpoint's (best_step, best_val_accuracy) when the model now holds
        those weights, so a later validation must beat it to replace them.
        """
        if not 0 <= step < self.config.episodes:
            raise ValueError(f"the checkpoint has trained {step} steps already; ask for more with --episodes")
        if best is not None:
            self.best_step, self.best_accuracy = best
            if self.config.keep_best:
                self._best_state = copy.deepcopy(self.algorithm.state_dict())
        restore_training_state(self.algorithm, self.optimizer, tensors)
        self.step = step
        self.scheduler.last_epoch = step  # the learning rate is a function of the step alone
        for group in self.optimizer.param_groups:
            group["lr"] = self.config.learning_rate * learning_rate_factor(self.config, step)

    def finish(self) -> None:
        """Load the best validated weights (no-op when nothing was validated)."""
        if self._keeper is not None:
            self._keeper.finish(self.step, self.algorithm)  # the last weights, not the best ones put back below
        self._last_state = self.resume_state()
        if self._best_state is not None:
            self.algorithm.load_state_dict(self._best_state)
        self.algorithm.eval()


def train(
    algorithm: FewShotAlgorithm,
    sampler: EpisodeSampler,
    config: TrainConfig = TrainConfig(),
    validation: EpisodeSampler | None = None,
    distributed: DistributedContext = SINGLE,
) -> TrainingRun:
    """Meta-train ``algorithm`` on ``sampler``'s episodes; iterate the result to run it.

    The model must already be on its device (``algorithm.to(device)``); each episode's
    tensors move there in one copy per tensor. Pass ``distributed`` under torchrun.
    """
    return TrainingRun(algorithm, sampler, config, validation, distributed)

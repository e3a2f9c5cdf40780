"""One meta-training loop for every algorithm, yielding flat progress records.

The CLI prints the records, a page plots them live, a test counts them. Stopping is
simply not asking for the next record; ``finish()`` then puts back the weights that
validated best (or keeps the current ones when nothing was validated).

Under torchrun the same loop runs in every process: each rank draws its own slot of the
global meta-batch, gradients are averaged before the step, and only rank 0 validates
(see ``core.distributed``).
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
from core.distributed import (
    SINGLE,
    DistributedContext,
    average_buffers,
    average_gradients,
    average_values,
    broadcast_module,
)
from core.episodes import EpisodeSampler
from core.evaluation import evaluate


@dataclass(frozen=True)
class TrainConfig:
    """Meta-training settings; the defaults are Snell et al.'s (Adam, 1e-3, halved every 2000 episodes).

    Attributes:
        episodes: training steps; each step uses ``meta_batch`` episodes.
        meta_batch: episodes averaged into one update, per process (under torchrun the
            global meta-batch is ``meta_batch * world_size``; the learning rate is not scaled).
        learning_rate, lr_decay, lr_decay_every: Adam with step decay.
        validate_every: steps between validations (0: never).
        validation_episodes: episodes per validation, the same ones every time.
        amp: bf16 autocast of the forward pass and loss (CUDA only; validation stays float32).
    """

    episodes: int = 2000
    meta_batch: int = 1
    learning_rate: float = 1e-3
    lr_decay: float = 0.5
    lr_decay_every: int = 2000
    validate_every: int = 500
    validation_episodes: int = 200
    amp: bool = False


def check_precision(amp: bool, device: torch.device) -> None:
    """Refuse bf16 autocast anywhere but on CUDA, saying what to do instead."""
    if amp and device.type != "cuda":
        raise ValueError(f"--amp (bf16 autocast) needs a CUDA device, not {device}: use --device cuda or drop --amp")


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
        check_precision(config.amp, algorithm.device)
        self.algorithm, self.sampler, self.config, self.validation = algorithm, sampler, config, validation
        self.distributed = distributed
        broadcast_module(algorithm, distributed)  # every rank starts from rank 0's weights
        self.optimizer = torch.optim.Adam(algorithm.parameters(), lr=config.learning_rate)
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, config.lr_decay_every, config.lr_decay)
        self.step = 0
        self.seconds = 0.0
        self.best_accuracy: float | None = None
        self.best_step: int | None = None
        self._best_state: dict | None = None

    def __next__(self) -> Progress:
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

    def _update(self) -> tuple[float, float]:
        self.algorithm.train()
        self.optimizer.zero_grad(set_to_none=True)
        batch = self.config.meta_batch
        total_loss = total_accuracy = 0.0
        for index in self.distributed.episode_indices(self.step, batch):
            with self._precision():
                loss, accuracy = self.algorithm.episode_loss(self.sampler.episode(index))
            (loss / batch).backward()
            total_loss += loss.item() / batch
            total_accuracy += accuracy.item() / batch
        if self.distributed.enabled:
            total_loss, total_accuracy = self._synchronise(total_loss, total_accuracy)
        if not math.isfinite(total_loss):
            raise FloatingPointError(
                f"the loss became {total_loss} at step {self.step + 1}; try a smaller learning rate"
            )
        self.optimizer.step()
        self.scheduler.step()
        return total_loss, total_accuracy

    def _precision(self) -> contextlib.AbstractContextManager:
        return torch.autocast("cuda", dtype=torch.bfloat16) if self.config.amp else contextlib.nullcontext()

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
            self._best_state = copy.deepcopy(self.algorithm.state_dict())
        return Progress(**{**record.__dict__, "val_accuracy": result.mean, "val_ci95": result.ci95, "best": improved})

    def finish(self) -> None:
        """Load the best validated weights (no-op when nothing was validated)."""
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

"""What a training run is asked to do (``TrainConfig``) and what the device allows (``check_precision``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from core.training.snapshots import DEFAULT_COUNT

LR_SCHEDULES = ("step", "cosine")


@dataclass(frozen=True)
class TrainConfig:
    """Meta-training settings; the defaults are Snell et al.'s (Adam, 1e-3, halved every 2000 episodes).

    Attributes:
        episodes: training steps; each step uses ``meta_batch`` episodes.
        meta_batch: episodes averaged into one update, per process (under torchrun the
            global meta-batch is ``meta_batch * world_size``; the learning rate is not scaled).
        learning_rate, lr_decay, lr_decay_every: Adam with step decay.
        lr_schedule: "step" (the decay above) or "cosine": from ``learning_rate`` down to
            ``min_learning_rate`` at step ``episodes`` along half a cosine (Antoniou et al. 2019).
        anneal_from: the cosine schedule holds ``learning_rate`` until this step and falls from
            there, so a run that has gone flat at a constant rate can be annealed in a later sitting.
        validate_every: steps between validations (0: never).
        validation_episodes: episodes per validation, the same ones every time.
        amp: bf16 autocast of the forward pass and loss (CUDA, or a CPU with bf16 instructions;
            validation stays float32).
        task_batched: run a meta-batch of same-shaped episodes as one pass where the algorithm
            can (``meta_batch_loss``); False keeps the per-task loop, the reference.
        task_batch_images: images per task-batched pass (None: 128 on a CPU, all on a GPU).
        snapshots: about this many copies of the weights kept at evenly spaced steps, the start and
            the end included, to replay training (``TrainingRun.snapshots``); 0 keeps none.
        clip_grad_norm: scale each part's gradient (each child module of the algorithm, e.g. Relation
            Networks' embedding and relation module) down to at most this norm, as Sung et al.'s code does.
        first_order_until: MAML's first this many steps are first order, the rest as the model
            says (Antoniou et al. 2019's derivative-order annealing: cheap early steps, exact later ones).
        multi_step_loss_until: for this many steps MAML's meta-loss weighs the query loss after
            every inner step, the weights moving from equal to the last step's alone (Antoniou et al.
            2019's multi-step loss, ``multi_step_weights``); after that, the last step's loss only.
        augment: distort every training image (``core.augment``: Koch et al.'s affine maps and a
            stroke-width change), seeded by the episode so that a resumed run sees the same ones.
        keep_best: end with the best validated weights; False keeps the last ones (when the
            validation classes are trained on too, validation draws the curve but cannot choose).
    """

    episodes: int = 2000
    meta_batch: int = 1
    learning_rate: float = 1e-3
    lr_decay: float = 0.5
    lr_decay_every: int = 2000
    validate_every: int = 500
    validation_episodes: int = 200
    amp: bool = False
    task_batched: bool = True
    task_batch_images: int | None = None
    snapshots: int = DEFAULT_COUNT
    keep_best: bool = True
    lr_schedule: str = "step"
    min_learning_rate: float = 1e-5
    anneal_from: int = 0
    first_order_until: int = 0
    multi_step_loss_until: int = 0
    augment: bool = False
    clip_grad_norm: float | None = None


def clip_each_part(algorithm: torch.nn.Module, max_norm: float) -> None:
    """Clip the gradient norm of each child module separately (and of parameters outside them, together)."""
    parts = [list(child.parameters()) for child in algorithm.children()]
    in_parts = {id(p) for part in parts for p in part}
    parts.append([p for p in algorithm.parameters() if id(p) not in in_parts])
    for part in parts:
        if any(p.grad is not None for p in part):
            torch.nn.utils.clip_grad_norm_(part, max_norm)


def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies in bf16 natively (AVX-512 BF16 or AMX); elsewhere bf16 is emulated, and slower."""
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # a torch without these probes: assume not
        return False


def check_precision(amp: bool, device: torch.device) -> None:
    """Refuse bf16 autocast where it would not pay (MPS, a CPU without bf16 instructions), saying what to do."""
    if not amp or device.type == "cuda" or (device.type == "cpu" and cpu_has_bf16()):
        return
    if device.type == "cpu":
        raise ValueError("--amp (bf16 autocast) needs a CUDA device or a CPU with bf16 instructions "
                         "(AVX-512 BF16 or AMX), and this CPU has neither: bf16 would be emulated and slower. "
                         "Drop --amp")  # fmt: skip
    raise ValueError(f"--amp (bf16 autocast) needs a CUDA device or a bf16 CPU, not {device}: use --device cuda "
                     "or --device cpu, or drop --amp")  # fmt: skip


def learning_rate_factor(config: TrainConfig, step: int) -> float:
    """The learning rate after ``step`` steps, as a fraction of ``config.learning_rate``."""
    if config.lr_schedule == "cosine":
        floor = config.min_learning_rate / config.learning_rate
        done = min(max(step - config.anneal_from, 0) / (config.episodes - config.anneal_from), 1.0)
        return floor + (1 - floor) * (1 + math.cos(math.pi * done)) / 2
    return config.lr_decay ** (step // config.lr_decay_every)

"""Replay training from its snapshots: what the model did on one episode (or one sine task) at each kept step.

Each function takes the trained model (only its architecture and settings are used: it is never
changed, so a shared cached model is safe), the snapshots (``TrainingRun.snapshots`` or
``core.checkpoints.load_snapshots``) and what to look at, and returns one record per snapshot.

The Prototypical Networks maps are honest per step: each step's map is the PCA of that step's own
embeddings, the plane that shows the most of the geometry the classifier used then (prototypes
stay class means in it). One PCA fitted on the final model would show early embeddings through
axes chosen for another function and can hide what varied at the time. So that the slider does
not flip or spin the picture, each map is rotated or reflected (orthogonal Procrustes, which keeps
every distance) to line up with the next later one. How far the classes stand apart is measured
in the full embedding space (``separation``), not in the plane.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.algorithms.adaptation import AdaptationTrace
from core.algorithms.base import FewShotAlgorithm
from core.algorithms.protonet import PrototypeTrace
from core.checkpoints import Snapshot
from core.episodes import Episode
from core.sinusoid import FineTuneCurve, SinusoidTask, fine_tune_curve


def models_at(model: nn.Module, snapshots: Sequence[Snapshot]) -> Iterator[tuple[int, nn.Module]]:
    """For each snapshot, (step, a copy of ``model`` holding its weights, in eval mode); ``model`` is untouched.

    The copy is one module reloaded for each snapshot: use it before asking for the next.
    """
    replica = copy.deepcopy(model).cpu().eval()
    for snapshot in snapshots:
        replica.load_state_dict(snapshot.state)
        yield snapshot.step, replica


@dataclass(frozen=True, eq=False)
class MapAtStep:
    """Prototypical Networks on one episode with the weights after ``step`` training steps."""

    step: int
    trace: PrototypeTrace
    coords: np.ndarray  # [S + Q + n_way, 2]: support, queries, then prototypes (``embedding_map``'s order)
    explained: float  # share of this step's variance that the plane shows, 0..1
    separation: float  # mean distance between prototypes / mean distance of a point to its own prototype

    @property
    def accuracy(self) -> float:
        return self.trace.accuracy


def protonet_maps(
    algorithm: FewShotAlgorithm, snapshots: Sequence[Snapshot], episode: Episode
) -> tuple[MapAtStep, ...]:
    """The episode's embedding map at each snapshot: per-step PCA, aligned to the next later step's map."""
    traces = [(step, replica.explain(episode)) for step, replica in models_at(algorithm, snapshots)]
    planes = [_pca_plane(_points(trace)) for _, trace in traces]
    aligned: list[np.ndarray] = [None] * len(planes)  # type: ignore[list-item]
    for index in reversed(range(len(planes))):
        coords = planes[index][0]
        aligned[index] = coords if index == len(planes) - 1 else coords @ _rotation(coords, aligned[index + 1])
    return tuple(MapAtStep(step, trace, aligned[index], planes[index][1], class_separation(trace))
                 for index, (step, trace) in enumerate(traces))  # fmt: skip


def _points(trace: PrototypeTrace) -> np.ndarray:
    return torch.cat([trace.support_embeddings, trace.query_embeddings, trace.prototypes]).double().numpy()


def _pca_plane(points: np.ndarray) -> tuple[np.ndarray, float]:
    """[N, D] points -> their [N, 2] coordinates on the first two principal axes and the variance share shown."""
    centred = points - points.mean(0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    variance = singular**2
    total = float(variance.sum())
    plane = centred @ axes[:2].T
    if plane.shape[1] < 2:  # a 1-D embedding: the second axis is flat
        plane = np.pad(plane, ((0, 0), (0, 2 - plane.shape[1])))
    return plane, float(variance[:2].sum() / total) if total > 0 else 1.0


def _rotation(coords: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 2x2 rotation or reflection R minimising ||coords R - target|| (orthogonal Procrustes)."""
    left, _, right = np.linalg.svd(coords.T @ target)
    return left @ right


def class_separation(trace: PrototypeTrace) -> float:
    """Mean distance between two prototypes over the mean distance of a support or query embedding to its
    own class's prototype, in the full embedding space: larger means classes further apart for their spread.
    Euclidean whatever distance the model classifies with, and free of the embedding's overall scale."""
    prototypes = trace.prototypes.double()
    n_way = len(prototypes)
    between = torch.cdist(prototypes, prototypes)[~torch.eye(n_way, dtype=torch.bool)].mean()
    points = torch.cat([trace.support_embeddings, trace.query_embeddings]).double()
    labels = torch.cat([trace.support_y, trace.query_y])
    within = (points - prototypes[labels]).norm(dim=1).mean()
    return float(between / within) if within > 0 else float("inf")


@dataclass(frozen=True, eq=False)
class AdaptationAtStep:
    """MAML's inner loop on one episode, starting from the initialisation after ``step`` meta-training steps."""

    step: int
    trace: AdaptationTrace  # query_loss[k]: the query loss after k inner steps (k = 0: before adapting)


def maml_adaptations(
    algorithm: FewShotAlgorithm, snapshots: Sequence[Snapshot], episode: Episode, inner_steps: int | None = None
) -> tuple[AdaptationAtStep, ...]:
    """``algorithm.explain`` (``core.algorithms.adaptation.trace_adaptation``) at each snapshot; ``inner_steps``
    defaults to the model's test-time steps."""
    return tuple(AdaptationAtStep(step, replica.explain(episode, inner_steps))
                 for step, replica in models_at(algorithm, snapshots))  # fmt: skip


@dataclass(frozen=True, eq=False)
class FitAtStep:
    """A sine regressor fine-tuned on a task's K points, from its weights after ``step`` meta-iterations."""

    step: int
    curve: FineTuneCurve


def sine_fits(
    model: nn.Module,
    snapshots: Sequence[Snapshot],
    task: SinusoidTask,
    support_x: torch.Tensor,
    support_y: torch.Tensor,
    steps: Sequence[int] = (0, 1),
) -> tuple[FitAtStep, ...]:
    """``core.sinusoid.fine_tune_curve`` at each snapshot: the prediction before and after ``steps`` inner steps."""
    return tuple(FitAtStep(step, fine_tune_curve(replica, task, support_x, support_y, steps))
                 for step, replica in models_at(model, snapshots))  # fmt: skip

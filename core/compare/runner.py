"""Many few-shot methods on the same seeded episodes: accuracy with 95% CI, time, size and memory.

A comparison is only fair when every method sees exactly the same tasks, so each
episode is drawn once and handed to every contender, and the harness records a hash
of the tensors each contender received (``ContenderResult.episode_hashes``) so that
anyone can check it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from core.compare.memory import PeakTensorMemory
from core.episodes import Episode, EpisodeSampler
from core.evaluation import Accuracy, accuracy_with_ci


@dataclass(frozen=True)
class Contender:
    """A method to compare: ``predict(episode) -> labels [Q]``, its name and parameter count."""

    name: str
    predict: Callable[[Episode], torch.Tensor]
    parameters: int = 0
    kind: str = "meta-learned"  # or "baseline"
    note: str = ""


@dataclass(frozen=True)
class ContenderResult:
    """How one contender did on the episodes run so far (``skipped`` says why it could not run)."""

    name: str
    kind: str
    parameters: int
    per_episode: tuple[float, ...] = ()
    seconds: tuple[float, ...] = ()
    peak_mib: float | None = None
    episode_hashes: tuple[str, ...] = ()
    skipped: str = ""
    note: str = ""

    @property
    def accuracy(self) -> Accuracy | None:
        return accuracy_with_ci(self.per_episode) if self.per_episode else None

    @property
    def ms_per_episode(self) -> float | None:
        """Median time per episode in milliseconds."""
        return 1000 * float(np.median(self.seconds)) if self.seconds else None


@dataclass(frozen=True)
class ComparisonProgress:
    """After ``done`` of ``total`` episodes: every contender's result so far."""

    done: int
    total: int
    results: tuple[ContenderResult, ...]


def episode_hash(episode: Episode) -> str:
    """SHA-256 of an episode's images and labels: equal hashes, identical tasks."""
    digest = hashlib.sha256()
    for tensor in (episode.support_x, episode.support_y, episode.query_x, episode.query_y):
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.contiguous().cpu().numpy().tobytes())
    return digest.hexdigest()


def run_comparison(
    contenders: Sequence[Contender], sampler: EpisodeSampler, episodes: int, measure_memory: bool = True
) -> Iterator[ComparisonProgress]:
    """Run every contender on episodes 0..episodes-1 of ``sampler``; one record per episode.

    Each episode is sampled once and given to every contender in turn, so at every
    record all contenders have seen the same tasks. A contender that raises
    ``ValueError`` on the first episode (a 5-way MAML head on a 20-way task, say) is
    skipped with the error as its reason. Peak memory is measured on the first episode
    (under a tracking mode that slows it, and runs it once more) unless ``measure_memory`` is False, time on
    every episode (without it).
    """
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}")
    results = [ContenderResult(c.name, c.kind, c.parameters, note=c.note) for c in contenders]
    for index in range(episodes):
        episode = sampler.episode(index)
        for position, contender in enumerate(contenders):
            if not results[position].skipped:
                results[position] = _run_one(contender, episode, results[position], index == 0, measure_memory)
        yield ComparisonProgress(index + 1, episodes, tuple(results))


# The Compare page's quick run: stop after the episode that passes QUICK_SECONDS (with the page's own work, under
# 10 s on a laptop core), after QUICK_MIN_EPISODES at least (an interval needs a few).
QUICK_SECONDS = 7
QUICK_MIN_EPISODES = 3
QUICK_MAX_EPISODES = 100


def run_for(
    contenders: Sequence[Contender], sampler: EpisodeSampler, seconds: float, max_episodes: int, min_episodes: int = 3
) -> Iterator[ComparisonProgress]:
    """``run_comparison`` that stops after the episode during which ``seconds`` ran out, but not before
    ``min_episodes`` (an interval needs a few) nor after ``max_episodes``: a quick run on any machine.

    Peak memory is not measured (its pass costs a second run of the first episode, slowed by tracking):
    ``peak_mib`` stays None. ``ComparisonProgress.total`` stays ``max_episodes``; the last record's ``done``
    is how many ran."""
    if not 1 <= min_episodes <= max_episodes:
        raise ValueError(f"need 1 <= min_episodes <= max_episodes, got {min_episodes} and {max_episodes}")
    start = time.perf_counter()
    for progress in run_comparison(contenders, sampler, max_episodes, measure_memory=False):
        yield progress
        if progress.done >= min_episodes and time.perf_counter() - start >= seconds:
            return


def compare(contenders: Sequence[Contender], sampler: EpisodeSampler, episodes: int) -> tuple[ContenderResult, ...]:
    """The final results of ``run_comparison``."""
    *_, last = run_comparison(contenders, sampler, episodes)
    return last.results


def _run_one(contender: Contender, episode: Episode, result: ContenderResult, first: bool,
             measure_memory: bool) -> ContenderResult:  # fmt: skip
    received = episode_hash(episode)
    peak = result.peak_mib
    try:
        if first and measure_memory:
            with torch.no_grad(), PeakTensorMemory() as memory:
                contender.predict(episode)
            peak = memory.peak_mib
        start = time.perf_counter()
        with torch.no_grad():
            predicted = contender.predict(episode).cpu()
        seconds = time.perf_counter() - start
    except ValueError as error:
        if not first:
            raise
        return replace(result, skipped=str(error))
    accuracy = float((predicted == episode.query_y).float().mean())
    return replace(
        result,
        per_episode=(*result.per_episode, accuracy),
        seconds=(*result.seconds, seconds),
        peak_mib=peak,
        episode_hashes=(*result.episode_hashes, received),
    )


@dataclass(frozen=True)
class SweepPoint:
    """One contender's accuracy at one value of the swept setting (``accuracy`` None: skipped)."""

    contender: str
    axis: str
    value: int
    accuracy: Accuracy | None
    skipped: str = ""


@dataclass(frozen=True)
class SweepProgress:
    """``fraction`` of the sweep done; ``points`` of the settings finished so far."""

    fraction: float
    points: tuple[SweepPoint, ...]


def run_sweep(
    contenders: Sequence[Contender],
    make_sampler: Callable[[int, int], EpisodeSampler],
    axis: str,
    values: Sequence[int],
    base: tuple[int, int],
    episodes: int,
) -> Iterator[SweepProgress]:
    """Accuracy against ``axis`` ("n_shot" or "n_way") over ``values``; the other stays at ``base``
    (``(n_way, n_shot)``). ``make_sampler(n_way, n_shot)`` gives each setting's episodes.
    One record per episode run."""
    if axis not in ("n_shot", "n_way"):
        raise ValueError(f"axis must be 'n_shot' or 'n_way', got {axis!r}")
    points: list[SweepPoint] = []
    for position, value in enumerate(values):
        n_way, n_shot = (base[0], value) if axis == "n_shot" else (value, base[1])
        progress = None
        for progress in run_comparison(contenders, make_sampler(n_way, n_shot), episodes):
            fraction = (position + progress.done / progress.total) / len(values)
            if progress.done < progress.total:
                yield SweepProgress(fraction, tuple(points))
        points += [SweepPoint(r.name, axis, int(value), r.accuracy, r.skipped) for r in progress.results]
        yield SweepProgress((position + 1) / len(values), tuple(points))

"""N-way K-shot episodes: the unit of work of every few-shot algorithm."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from core.datasets.class_dataset import ClassDataset
from core.errors import InputError


@dataclass(frozen=True, eq=False)
class Episode:
    """One few-shot task: a labelled support set and a query set to classify.

    Images are uint8 [*, C, H, W] exactly as stored in the data set; labels are
    episode-local class indices 0..n_way-1, grouped by class (all shots of class 0
    first). ``class_names[i]`` and ``class_ids[i]`` name episode class ``i``.
    """

    support_x: torch.Tensor  # uint8 [n_way * n_shot, C, H, W]
    support_y: torch.Tensor  # int64 [n_way * n_shot]
    query_x: torch.Tensor  # uint8 [n_way * n_query, C, H, W]
    query_y: torch.Tensor  # int64 [n_way * n_query]
    class_names: tuple[str, ...]
    class_ids: tuple[int, ...]
    seed: int
    index: int

    @property
    def n_way(self) -> int:
        return len(self.class_ids)

    @property
    def n_shot(self) -> int:
        return len(self.support_y) // self.n_way

    @property
    def n_query(self) -> int:
        return len(self.query_y) // self.n_way


@dataclass(frozen=True, eq=False)
class EpisodeBatch:
    """T episodes of one shape stacked along a leading task axis, for task-batched training.

    Same field names as ``Episode``: uint8 support [T, S, C, H, W], int64 labels [T, S],
    uint8 queries [T, Q, C, H, W], int64 labels [T, Q].
    """

    support_x: torch.Tensor
    support_y: torch.Tensor
    query_x: torch.Tensor
    query_y: torch.Tensor


def alphabet_of(class_name: str) -> str:
    """``"Greek/character03/rot090"`` -> ``"Greek/rot090"``; ``"Greek/character03"`` -> ``"Greek"``: the
    alphabet (at its rotation) a class belongs to, from the names Omniglot and glyphs give their classes."""
    parts = class_name.split("/")
    return "/".join([parts[0], *parts[2:]])


def stack_episodes(episodes: list[Episode]) -> EpisodeBatch | None:
    """The episodes as one ``EpisodeBatch``, or None when their shapes differ."""
    first = episodes[0]
    fields = ("support_x", "support_y", "query_x", "query_y")
    if any(getattr(e, f).shape != getattr(first, f).shape for e in episodes[1:] for f in fields):
        return None
    return EpisodeBatch(*(torch.stack([getattr(e, f) for e in episodes]) for f in fields))


class EpisodeSampler:
    """Seeded N-way K-shot episodes from one split of a ClassDataset.

    Episode ``i`` depends only on ``(seed, i)`` and the data set, so the same seed gives
    the same episodes in a page, the CLI and a test, in any order. Iterating yields
    episodes 0, 1, 2, ... Every request is checked up front, with a message saying
    what to change.
    """

    def __init__(
        self,
        dataset: ClassDataset,
        split: str,
        n_way: int,
        n_shot: int,
        n_query: int,
        seed: int = 0,
        within_alphabet: float = 0.0,
    ) -> None:
        for name, value, minimum in (("n_way", n_way, 2), ("n_shot", n_shot, 1), ("n_query", n_query, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
                raise InputError(f"{name} must be a whole number of at least {minimum}, got {value!r}",
                                 code="episode.bad_count", name=name, minimum=minimum, value=value)  # fmt: skip
        if not 0.0 <= within_alphabet <= 1.0:
            raise InputError(f"within_alphabet is a share of episodes, from 0 to 1, got {within_alphabet!r}",
                             code="episode.bad_share", value=within_alphabet)  # fmt: skip
        self.dataset, self.split = dataset, split
        self.n_way, self.n_shot, self.n_query, self.seed = int(n_way), int(n_shot), int(n_query), int(seed)
        self.eligible = self._eligible_classes()
        self.within_alphabet = float(within_alphabet)
        self._alphabets = self._alphabet_groups() if within_alphabet else []
        counts = dataset.class_counts[self.eligible]
        self._offsets = dataset.class_offsets[self.eligible]
        self._uniform_count = int(counts[0]) if (counts == counts[0]).all() else None
        self._counts = counts

    def _eligible_classes(self) -> np.ndarray:
        classes = self.dataset.classes_in(self.split)
        where = f"split {self.split!r} of {self.dataset.name}"
        split, name = self.split, self.dataset.name
        if len(classes) < self.n_way:
            raise InputError(
                f"n_way={self.n_way} but {where} has only {len(classes)} classes; choose n_way <= {len(classes)}",
                code="episode.too_few_classes", n_way=self.n_way, classes=len(classes), split=split, dataset=name,
            )  # fmt: skip
        per_class = self.n_shot + self.n_query
        counts = self.dataset.class_counts[classes]
        eligible = classes[counts >= per_class]
        if len(eligible) < self.n_way:
            most = int(counts.max()) if len(counts) else 0
            enough = int((counts >= per_class).sum())
            fits = int(np.sort(counts)[-self.n_way])
            raise InputError(
                f"n_shot + n_query = {per_class} images per class, but only {enough} classes "
                f"of {where} have that many (the largest has {most}); lower n_shot or n_query "
                f"so that n_shot + n_query <= {fits}, or lower n_way",
                code="episode.too_few_images", per_class=per_class, enough=enough, most=most, fits=fits, split=split,
                dataset=name,
            )  # fmt: skip
        return eligible

    def _alphabet_groups(self) -> list[np.ndarray]:
        """Positions in ``eligible`` of each alphabet's classes (a rotation of an alphabet counts as its own),
        for the alphabets with at least ``n_way`` of them."""
        keys = [alphabet_of(self.dataset.class_names[c]) for c in self.eligible]
        groups = {}
        for position, key in enumerate(keys):
            groups.setdefault(key, []).append(position)
        usable = [np.array(g) for g in groups.values() if len(g) >= self.n_way]
        if not usable:
            largest = max(len(g) for g in groups.values())
            raise InputError(
                f"within-alphabet episodes need an alphabet with {self.n_way} classes in split {self.split!r}, "
                f"and the largest has {largest}; lower n_way to {largest} or sample across alphabets",
                code="episode.alphabet_too_small", n_way=self.n_way, largest=largest, split=self.split,
            )  # fmt: skip
        return usable

    def _choose(self, rng: np.random.Generator) -> np.ndarray:
        """Positions in ``eligible`` of this episode's classes, sorted."""
        if self.within_alphabet and rng.random() < self.within_alphabet:
            group = self._alphabets[rng.integers(len(self._alphabets))]
            return np.sort(group[rng.choice(len(group), size=self.n_way, replace=False)])
        return np.sort(rng.choice(len(self.eligible), size=self.n_way, replace=False))

    def episode(self, index: int) -> Episode:
        """Episode number ``index`` of this sampler's seeded sequence."""
        rng = np.random.default_rng([self.seed, index])
        chosen = self._choose(rng)
        per_class = self.n_shot + self.n_query
        if self._uniform_count is not None:
            within = rng.random((self.n_way, self._uniform_count)).argsort(axis=1)[:, :per_class]
        else:
            within = np.stack([rng.choice(self._counts[c], size=per_class, replace=False) for c in chosen])
        rows = torch.from_numpy(self._offsets[chosen][:, None] + within)
        images = self.dataset.images
        class_ids = self.eligible[chosen]
        return Episode(
            support_x=images[rows[:, : self.n_shot].reshape(-1)],
            support_y=torch.arange(self.n_way).repeat_interleave(self.n_shot),
            query_x=images[rows[:, self.n_shot :].reshape(-1)],
            query_y=torch.arange(self.n_way).repeat_interleave(self.n_query),
            class_names=tuple(self.dataset.class_names[c] for c in class_ids),
            class_ids=tuple(int(c) for c in class_ids),
            seed=self.seed,
            index=int(index),
        )

    def __iter__(self) -> Iterator[Episode]:
        index = 0
        while True:
            yield self.episode(index)
            index += 1

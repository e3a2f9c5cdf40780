"""The one in-memory form every data source is turned into."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from core.errors import InputError

ALL_SPLITS = "all"


@dataclass(frozen=True, eq=False)
class ClassDataset:
    """Images of many classes, decoded once, grouped by class.

    Images are stored sorted by class, so the images of class ``c`` are the
    contiguous rows ``class_offsets[c]:class_offsets[c + 1]``: sampling an episode
    is tensor indexing, never decoding.

    Attributes:
        name: short display name, e.g. ``"omniglot"``.
        images: uint8 tensor [M, C, H, W]; strokes bright on dark for characters.
        labels: int64 tensor [M], the class index of each image (non-decreasing).
        class_names: one name per class.
        class_splits: the split each class belongs to (e.g. "background").
        split_scheme: how the classes were split, named in every result.
        skipped: files that could not be read (relative paths), never fatal.
    """

    name: str
    images: torch.Tensor
    labels: torch.Tensor
    class_names: tuple[str, ...]
    class_splits: tuple[str, ...]
    split_scheme: str = ""
    skipped: tuple[str, ...] = ()
    class_offsets: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(
                f"images must be a uint8 tensor [M, C, H, W], got {self.images.dtype} "
                f"with shape {tuple(self.images.shape)}"
            )
        n_classes = len(self.class_names)
        if len(self.class_splits) != n_classes:
            raise ValueError(f"{n_classes} class names but {len(self.class_splits)} class splits")
        labels = self.labels.numpy()
        if len(labels) != len(self.images):
            raise ValueError(f"{len(self.images)} images but {len(labels)} labels")
        if len(labels) and (np.any(np.diff(labels) < 0) or labels[-1] >= n_classes):
            raise ValueError("labels must be sorted class indices below the number of classes")
        counts = np.bincount(labels, minlength=n_classes)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        object.__setattr__(self, "class_offsets", offsets)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of every image."""
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    @property
    def class_counts(self) -> np.ndarray:
        """Number of images of each class, int64 [n_classes]."""
        return np.diff(self.class_offsets)

    @property
    def split_names(self) -> tuple[str, ...]:
        """The splits in the order they first appear."""
        return tuple(dict.fromkeys(self.class_splits))

    def classes_in(self, split: str) -> np.ndarray:
        """Indices of the classes of ``split`` ("all" means every class; "train+val" the union of two splits)."""
        if split == ALL_SPLITS:
            return np.arange(self.n_classes)
        if "+" in split:
            return np.unique(np.concatenate([self.classes_in(part) for part in split.split("+")]))
        if split not in self.split_names:
            choices = ", ".join(self.split_names + (ALL_SPLITS,))
            raise InputError(f"{self.name} has no split {split!r}; choose one of {choices}",
                             code="dataset.no_such_split", dataset=self.name, split=split, choices=choices)  # fmt: skip
        return np.flatnonzero(np.asarray(self.class_splits) == split)

    def class_images(self, class_index: int) -> torch.Tensor:
        """uint8 [count, C, H, W] images of one class (a view, not a copy)."""
        start, stop = self.class_offsets[class_index], self.class_offsets[class_index + 1]
        return self.images[start:stop]

    def split_images(self, split: str, limit: int = 20000) -> torch.Tensor:
        """Up to ``limit`` images of ``split``'s classes (for statistics such as normalisation)."""
        classes = self.classes_in(split)
        images, total = [], 0
        for c in classes:
            if total >= limit:
                break
            images.append(self.class_images(int(c)))
            total += len(images[-1])
        return torch.cat(images)[:limit]

    def with_validation_classes(
        self, split: str, fraction: float = 0.1, seed: int = 0, name: str = "val"
    ) -> ClassDataset:
        """A view (images shared, not copied) in which a seeded ``fraction`` of ``split``'s
        classes form a new split ``name``, e.g. for model selection on classes never
        trained on. Returns the data set unchanged when it already has that split."""
        if name in self.split_names:
            return self
        classes = self.classes_in(split)
        count = max(1, round(fraction * len(classes)))
        if count >= len(classes):
            raise InputError(f"split {split!r} has too few classes ({len(classes)}) to hold some out for validation",
                             code="dataset.too_few_to_validate", split=split, classes=len(classes))  # fmt: skip
        held_out = set(np.random.default_rng(seed).choice(classes, size=count, replace=False).tolist())
        splits = tuple(name if c in held_out else s for c, s in enumerate(self.class_splits))
        scheme = f"{self.split_scheme}; {name} = {count} {split} classes (seed {seed})"
        return replace(self, class_splits=splits, split_scheme=scheme)

    def summary(self) -> list[dict]:
        """Per split: classes, images, and images per class (min / median / max)."""
        rows = []
        counts = self.class_counts
        for split in self.split_names:
            split_counts = counts[self.classes_in(split)]
            rows.append(
                {
                    "split": split,
                    "classes": len(split_counts),
                    "images": int(split_counts.sum()),
                    "images per class (min)": int(split_counts.min()),
                    "images per class (median)": float(np.median(split_counts)),
                    "images per class (max)": int(split_counts.max()),
                }
            )
        return rows


def from_class_lists(
    name: str,
    per_class: list[torch.Tensor],
    class_names: list[str],
    class_splits: list[str],
    split_scheme: str = "",
    skipped: tuple[str, ...] = (),
) -> ClassDataset:
    """Build a ClassDataset from one uint8 [n_i, C, H, W] tensor per class."""
    counts = torch.tensor([len(images) for images in per_class], dtype=torch.int64)
    return ClassDataset(
        name=name,
        images=torch.cat(per_class) if per_class else torch.zeros(0, 1, 1, 1, dtype=torch.uint8),
        labels=torch.repeat_interleave(torch.arange(len(per_class)), counts),
        class_names=tuple(class_names),
        class_splits=tuple(class_splits),
        split_scheme=split_scheme,
        skipped=tuple(skipped),
    )

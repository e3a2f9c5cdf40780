"""Every data source, turned into one in-memory ClassDataset.

>>> dataset = load_dataset(DatasetSpec("glyphs"))
>>> dataset.split_names
('background', 'evaluation')
"""

from __future__ import annotations

from dataclasses import dataclass

from core.datasets.class_dataset import ALL_SPLITS, ClassDataset
from core.datasets.folder import load_folder
from core.datasets.glyphs import GlyphsConfig, load_glyphs
from core.datasets.omniglot import find_omniglot_root, load_omniglot

SOURCES = ("glyphs", "omniglot", "folder")


@dataclass(frozen=True)
class DatasetSpec:
    """Which data set to load; hashable, so it is also a cache key.

    Attributes:
        source: "glyphs", "omniglot" or "folder".
        root: the folder for omniglot (None: look in the usual places) and folder.
        split_scheme: omniglot only, "lake", "vinyals" or "seeded".
        image_size: side of the square images; None means 28 for glyphs and
            Omniglot, 84 for folders.
        seed: glyphs generator seed, or the seeded Omniglot split's seed.
    """

    source: str = "glyphs"
    root: str | None = None
    split_scheme: str = "lake"
    image_size: int | None = None
    seed: int = 0


def load_dataset(spec: DatasetSpec) -> ClassDataset:
    """Load (from the cache when possible) the data set ``spec`` names."""
    if spec.source == "glyphs":
        return load_glyphs(GlyphsConfig(seed=spec.seed, image_size=spec.image_size or 28))
    if spec.source == "omniglot":
        return load_omniglot(spec.root, spec.split_scheme, image_size=spec.image_size or 28, seed=spec.seed)
    if spec.source == "folder":
        if not spec.root:
            raise ValueError("the folder source needs a root: the path of a folder of class folders")
        return load_folder(spec.root, image_size=spec.image_size or 84)
    raise ValueError(f"unknown data source {spec.source!r}; choose one of {', '.join(SOURCES)}")


__all__ = [
    "ALL_SPLITS",
    "SOURCES",
    "ClassDataset",
    "DatasetSpec",
    "GlyphsConfig",
    "find_omniglot_root",
    "load_dataset",
    "load_folder",
    "load_glyphs",
    "load_omniglot",
]

"""Any folder of images, one sub-folder per class: mini-ImageNet, CUB, medical scans, photos.

Two layouts are understood:

- ``root/<class>/<image>``: every class in one split, "all";
- ``root/{train,val,test}/<class>/<image>``: the split is the top folder (any of
  the three may be missing), as in Ravi and Larochelle's mini-ImageNet.

Images are decoded once (RGB, or grayscale when no file has colour), resized to a
square without distortion, and cached. Files that are not images or cannot be read
are skipped and listed in ``ClassDataset.skipped``, never fatal.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core.datasets.cache import cached, file_list_fingerprint
from core.datasets.class_dataset import ALL_SPLITS, ClassDataset, from_class_lists
from core.datasets.images import fit_square, has_colour, is_image_name, to_chw, to_mode
from core.errors import InputError, MissingError

SPLIT_FOLDERS = ("train", "val", "test")


def load_folder(root: str | Path, image_size: int = 84, channels: int | None = None) -> ClassDataset:
    """Every ``<class>/<image>`` under ``root`` as a ClassDataset.

    Args:
        root: the folder; see the module docstring for the layouts.
        image_size: side of the square images (84 is the mini-ImageNet convention).
        channels: 1 or 3; None picks 3 when any image has colour, else 1.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise MissingError(f"{root} is not a folder; give the path of a folder with one sub-folder per class",
                           code="dataset.not_a_folder", root=str(root))  # fmt: skip
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be 1, 3 or None (automatic), got {channels!r}")
    if image_size < 8:
        raise ValueError(f"image_size must be at least 8 pixels, got {image_size}")
    classes = _class_folders(root)
    files = [f for _, _, fs in classes for f in fs]
    parts = {
        "root": str(root.resolve()),
        "files": file_list_fingerprint(root, files),
        "size": image_size,
        "channels": channels,
    }
    return cached("folder", parts, lambda: _decode_all(root, classes, image_size, channels))


def _class_folders(root: Path) -> list[tuple[str, str, list[Path]]]:
    """(split, class name, files) per class folder holding at least one file."""
    split_roots = [(s, root / s) for s in SPLIT_FOLDERS if (root / s).is_dir()]
    if not split_roots:
        split_roots = [(ALL_SPLITS, root)]
    classes = []
    for split, folder in split_roots:
        for class_dir in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
            files = sorted(p for p in class_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
            if files:
                classes.append((split, class_dir.name, files))
    where = ", ".join(s for s, _ in split_roots if s != ALL_SPLITS) or str(root)
    if not classes:
        raise InputError(
            f"no class folders with files in {where}; expected {root}/<class>/<image> or {root}/train/<class>/<image>",
            code="dataset.no_class_folders", where=where, root=str(root),
        )  # fmt: skip
    return classes


def _decode_all(
    root: Path, classes: list[tuple[str, str, list[Path]]], image_size: int, channels: int | None
) -> ClassDataset:
    files = [f for _, _, fs in classes for f in fs]
    channels = channels or (3 if any(_has_colour(f) for f in files) else 1)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        arrays = list(pool.map(lambda path: _decode(path, image_size, channels), files))
    per_class, names, splits, skipped, start = [], [], [], [], 0
    for split, name, fs in classes:
        decoded = arrays[start : start + len(fs)]
        skipped += [p.relative_to(root).as_posix() for p, a in zip(fs, decoded) if a is None]
        start += len(fs)
        if good := [a for a in decoded if a is not None]:
            per_class.append(torch.from_numpy(np.stack(good)))
            names.append(name)
            splits.append(split)
    _check_usable(root, names, skipped)
    scheme = "folders " + "/".join(dict.fromkeys(splits))
    return from_class_lists(f"folder:{root.name}", per_class, names, splits, scheme, tuple(skipped))


def _has_colour(path: Path) -> bool:
    """Whether the file's header says colour (reads no pixels)."""
    if not is_image_name(path):
        return False
    try:
        with Image.open(path) as image:
            return has_colour(image)
    except (OSError, ValueError, SyntaxError):
        return False


def _decode(path: Path, image_size: int, channels: int) -> np.ndarray | None:
    """uint8 [C, S, S] of the file's first frame, or None when it is not a readable image."""
    if not is_image_name(path):
        return None
    try:
        with Image.open(path) as image:
            image.seek(0)
            return to_chw(fit_square(to_mode(image, channels), image_size))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def _check_usable(root: Path, names: list[str], skipped: list[str]) -> None:
    if not names:
        raise InputError(
            f"no readable images in {root} ({len(skipped)} files skipped as not images or "
            f"unreadable, e.g. {', '.join(skipped[:3])}); put .png or .jpg files in one "
            "sub-folder per class",
            code="dataset.no_readable_images", root=str(root), skipped=len(skipped), examples=", ".join(skipped[:3]),
        )  # fmt: skip
    if len(names) < 2:
        raise InputError(
            f"{root} has only one class with images ({names[0]}); few-shot episodes need at "
            "least two classes, so add another sub-folder of images",
            code="dataset.one_class", root=str(root), name=names[0],
        )  # fmt: skip

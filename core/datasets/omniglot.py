"""Omniglot (Lake et al., 2015): 1623 handwritten characters from 50 alphabets, 20 drawings each.

Read from a folder in the original layout (``images_background/`` and
``images_evaluation/``, each ``<Alphabet>/characterNN/*.png``), decoded once to
28x28 with strokes bright on a dark background, and cached. Three class splits:

- ``lake``: Lake's 30 background / 20 evaluation alphabets (rotations optional);
- ``vinyals``: the 1028 / 172 / 423 character split of Vinyals et al. (2016), read
  from ``splits/vinyals/{train,val,test}.txt``, each character rotated by 0, 90, 180
  and 270 degrees into four classes;
- ``seeded``: where the Vinyals lists are missing, 1200 / 423 characters shuffled
  with a seed, as in the MAML reference code; results always name it.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core.datasets.cache import cached, file_list_fingerprint
from core.datasets.class_dataset import ClassDataset, from_class_lists
from core.datasets.images import to_chw

SETS = ("images_background", "images_evaluation")
ROTATIONS = (0, 90, 180, 270)
SPLIT_SCHEMES = ("lake", "vinyals", "seeded")
DOWNLOAD_HELP = (
    "Download images_background.zip and images_evaluation.zip from "
    "https://github.com/brendenlake/omniglot/tree/master/python, unzip both into one "
    "folder so that FOLDER/images_background/<Alphabet>/characterNN/*.png exists, and "
    "pass that folder as the data root (or set OMNIGLOT_ROOT)."
)


def find_omniglot_root() -> Path | None:
    """The first Omniglot folder found: $OMNIGLOT_ROOT, ./data/omniglot, ../shared/data/omniglot."""
    repo = Path(__file__).resolve().parents[2]
    candidates = [
        os.environ.get("OMNIGLOT_ROOT"),
        repo / "data" / "omniglot",
        repo.parent / "shared" / "data" / "omniglot",
    ]
    for candidate in candidates:
        if candidate and (found := _layout_root(Path(candidate))):
            return found
    return None


def _layout_root(root: Path) -> Path | None:
    """``root`` or torchvision's ``root/omniglot-py``, whichever holds both image sets."""
    for folder in (root, root / "omniglot-py"):
        if all((folder / name).is_dir() for name in SETS):
            return folder
    return None


def download_omniglot(root: str | Path) -> Path:
    """Fetch Omniglot with torchvision's downloader into ``root``; says what to do offline."""
    from torchvision.datasets import Omniglot

    try:
        for background in (True, False):
            Omniglot(str(root), background=background, download=True)
    except Exception as error:  # torchvision raises URLError, OSError or RuntimeError
        raise FileNotFoundError(
            f"Could not download Omniglot into {root} ({type(error).__name__}: {error}). " + DOWNLOAD_HELP
        ) from error
    return Path(root) / "omniglot-py"


def load_omniglot(
    root: str | Path | None = None,
    split_scheme: str = "lake",
    rotations: bool | None = None,
    image_size: int = 28,
    download: bool = False,
    seed: int = 0,
) -> ClassDataset:
    """Omniglot as a ClassDataset.

    Args:
        root: folder in the original layout; None looks in the usual places.
        split_scheme: "lake", "vinyals" (falls back to "seeded" without the lists) or "seeded".
        rotations: add 90/180/270-degree rotations as extra classes; default True for
            the vinyals and seeded schemes (as in those papers), False for lake.
        image_size: side of the square images (28 in the papers).
        download: fetch the data with torchvision if ``root`` does not hold it.
        seed: shuffles characters for the seeded split.
    """
    if split_scheme not in SPLIT_SCHEMES:
        raise ValueError(f"split_scheme must be one of {', '.join(SPLIT_SCHEMES)}, got {split_scheme!r}")
    folder = _resolve_root(root, download)
    base = _load_base(folder, image_size)
    if rotations is None:
        rotations = split_scheme != "lake"
    if split_scheme == "lake" and not rotations:
        return base
    if split_scheme == "lake":
        return _with_classes(
            base,
            [(c, r) for r in _angles(rotations) for c in range(base.n_classes)],
            [base.class_splits[c] for r in _angles(rotations) for c in range(base.n_classes)],
            "Lake background/evaluation alphabets" + (" + rotations" if rotations else ""),
        )
    lists = folder / "splits" / "vinyals"
    if split_scheme == "vinyals" and all((lists / f"{s}.txt").is_file() for s in ("train", "val", "test")):
        return _vinyals(base, lists, rotations)
    return _seeded(base, seed, rotations, fallback=split_scheme == "vinyals")


def _resolve_root(root: str | Path | None, download: bool) -> Path:
    if root is None:
        found = find_omniglot_root()
        if found:
            return found
        raise FileNotFoundError("Omniglot was not found. " + DOWNLOAD_HELP)
    root = Path(root).expanduser()
    found = _layout_root(root)
    if found:
        return found
    if download:
        return download_omniglot(root)
    raise FileNotFoundError(
        f"{root} does not hold Omniglot (no images_background/ and images_evaluation/ inside). "
        + DOWNLOAD_HELP
        + " With internet, load_omniglot(root, download=True) fetches it."
    )


def _character_files(folder: Path) -> list[tuple[str, str, list[Path]]]:
    """(set, "Alphabet/characterNN", sorted files) for every character, in a stable order."""
    found = []
    for set_name in SETS:
        for alphabet in sorted(p for p in (folder / set_name).iterdir() if p.is_dir()):
            for character in sorted(p for p in alphabet.iterdir() if p.is_dir()):
                files = sorted(character.glob("*.png"))
                found.append((set_name, f"{alphabet.name}/{character.name}", files))
    return found


def _load_base(folder: Path, image_size: int) -> ClassDataset:
    """All 1623 characters, unrotated, split by Lake's sets (decoded once, cached)."""
    characters = _character_files(folder)
    files = [f for _, _, fs in characters for f in fs]
    # Keyed by relative paths, sizes and times, not by location: a moved or linked copy hits.
    parts = {"files": file_list_fingerprint(folder, files), "size": image_size}

    def decode() -> ClassDataset:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            arrays = list(pool.map(lambda path: _decode(path, image_size), files, chunksize=256))
        per_class, start = [], 0
        for _, _, fs in characters:
            per_class.append(torch.from_numpy(np.stack(arrays[start : start + len(fs)])))
            start += len(fs)
        return from_class_lists(
            "omniglot",
            per_class,
            [name for _, name, _ in characters],
            [s.removeprefix("images_") for s, _, _ in characters],
            "Lake background/evaluation",
        )

    return cached("omniglot", parts, decode)


def _decode(path: Path, image_size: int) -> np.ndarray:
    """A 105x105 1-bit drawing (black on white) -> uint8 [1, S, S], bright strokes on dark."""
    with Image.open(path) as image:
        inverted = Image.eval(image.convert("L"), lambda value: 255 - value)
    return to_chw(inverted.resize((image_size, image_size), Image.Resampling.LANCZOS))


def _angles(rotations: bool) -> tuple[int, ...]:
    return ROTATIONS if rotations else (0,)


def _with_classes(base: ClassDataset, classes: list[tuple[int, int]], splits: list[str], scheme: str) -> ClassDataset:
    """New data set whose class i is base class ``classes[i][0]`` rotated by ``classes[i][1]``."""
    rotated = any(angle for _, angle in classes)
    per_class = [torch.rot90(base.class_images(c), k=angle // 90, dims=(2, 3)) for c, angle in classes]
    names = [base.class_names[c] + (f"/rot{angle:03d}" if rotated else "") for c, angle in classes]
    return from_class_lists("omniglot", per_class, names, splits, scheme)


def _vinyals(base: ClassDataset, lists: Path, rotations: bool) -> ClassDataset:
    index = {name: i for i, name in enumerate(base.class_names)}
    classes, splits = [], []
    for split in ("train", "val", "test"):
        for line in (lists / f"{split}.txt").read_text().split():
            character, _, rotation = line.rpartition("/")
            angle = int(rotation.removeprefix("rot"))
            if character not in index:
                raise ValueError(f"{lists / split}.txt names {character}, which is not in the data")
            if rotations or angle == 0:
                classes.append((index[character], angle))
                splits.append(split)
    scheme = "Vinyals train/val/test" + (" + rotations" if rotations else " (no rotations)")
    return _with_classes(base, classes, splits, scheme)


def _seeded(base: ClassDataset, seed: int, rotations: bool, fallback: bool) -> ClassDataset:
    order = np.random.default_rng(seed).permutation(base.n_classes)
    train = set(order[:1200].tolist())
    characters = sorted(range(base.n_classes), key=lambda c: (c not in train, c))
    classes = [(c, angle) for c in characters for angle in _angles(rotations)]
    splits = ["train" if c in train else "test" for c, _ in classes]
    scheme = f"seeded 1200/423 characters (seed {seed})" + (" + rotations" if rotations else "")
    if fallback:
        scheme += "; Vinyals lists not found"
    return _with_classes(base, classes, splits, scheme)

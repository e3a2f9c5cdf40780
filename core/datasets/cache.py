"""Decode once, then load from disk: a cache of ClassDatasets keyed by their source.

Entries are plain ``.npy`` arrays plus a JSON file (nothing pickled), written to a
temporary folder and renamed into place, so concurrent writers never leave half an
entry behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from core.datasets.class_dataset import ClassDataset

CACHE_ENV = "MLP_CACHE_DIR"
FORMAT_VERSION = 1


def cache_root() -> Path:
    """``$MLP_CACHE_DIR``, else ``~/.cache/meta-learning-playground``."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "meta-learning-playground"


def cache_key(parts: dict) -> str:
    """A short stable hash of everything that determines a data set's contents."""
    text = json.dumps({"format": FORMAT_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def file_list_fingerprint(root: Path, files: list[Path]) -> str:
    """Hash of relative paths, sizes and modification times of ``files``."""
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(f"{path.relative_to(root).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def cached(kind: str, parts: dict, build: Callable[[], ClassDataset]) -> ClassDataset:
    """Return the data set stored under ``(kind, parts)``, building and storing it if absent."""
    entry = cache_root() / f"{kind}-{cache_key({'kind': kind, **parts})}"
    if (entry / "meta.json").exists():
        try:
            return _read(entry)
        except (OSError, ValueError, KeyError):
            shutil.rmtree(entry, ignore_errors=True)  # a damaged entry is rebuilt
    dataset = build()
    try:
        _write(entry, dataset)
    except OSError:
        pass  # a read-only or full disk costs speed next time, not this result
    return dataset


def _write(entry: Path, dataset: ClassDataset) -> None:
    entry.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=entry.parent))
    try:
        np.save(staging / "images.npy", dataset.images.numpy())
        np.save(staging / "labels.npy", dataset.labels.numpy())
        meta = {
            "name": dataset.name,
            "class_names": list(dataset.class_names),
            "class_splits": list(dataset.class_splits),
            "split_scheme": dataset.split_scheme,
            "skipped": list(dataset.skipped),
        }
        (staging / "meta.json").write_text(json.dumps(meta))
        os.replace(staging, entry)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (entry / "meta.json").exists():
            raise


def _read(entry: Path) -> ClassDataset:
    meta = json.loads((entry / "meta.json").read_text())
    images = np.load(entry / "images.npy", allow_pickle=False)
    labels = np.load(entry / "labels.npy", allow_pickle=False)
    return ClassDataset(
        name=meta["name"],
        images=torch.from_numpy(images),
        labels=torch.from_numpy(labels),
        class_names=tuple(meta["class_names"]),
        class_splits=tuple(meta["class_splits"]),
        split_scheme=meta["split_scheme"],
        skipped=tuple(meta["skipped"]),
    )

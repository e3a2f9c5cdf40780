"""What the Omniglot paper-table benchmarks share: the Vinyals split, and results kept run by run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from core.datasets import ClassDataset, DatasetSpec, find_omniglot_root, load_dataset


def vinyals_omniglot(path: str | None) -> ClassDataset:
    """Omniglot with Vinyals et al.'s train/val/test characters and rotations, or exit saying where to put it."""
    root = path or find_omniglot_root()
    if root is None:
        raise SystemExit("Omniglot not found: pass --omniglot PATH or set OMNIGLOT_ROOT")
    return load_dataset(DatasetSpec("omniglot", str(root), "vinyals"))


def record_run(out: Path, benchmark: str, run: str, result: dict, table: Callable[[dict], str]) -> dict:
    """Add ``run`` to ``out/<benchmark>.json`` (runs can be made one at a time) and rebuild ``<benchmark>.md``
    from every recorded run; returns them all."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{benchmark}.json"
    runs = json.loads(path.read_text()) if path.exists() else {}
    runs[run] = result
    path.write_text(json.dumps(runs, indent=2) + "\n")
    (out / f"{benchmark}.md").write_text(table(runs) + "\n")
    return runs

"""The measurements behind the "Which algorithm should I use?" guide, read from the benchmark results."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
COMMAND = "python -m benchmarks.compare_shipped"


@cache
def compare_rows() -> tuple[dict, ...]:
    """Rows of ``benchmarks/results/compare_shipped.json`` (empty when the benchmark has not been run)."""
    path = RESULTS / "compare_shipped.json"
    if not path.exists():
        return ()
    return tuple(json.loads(path.read_text())["rows"])


def block(data: str, trained_on: str) -> list[dict]:
    return [r for r in compare_rows() if r["data"] == data and r["models_trained_on"] == trained_on]


def pivot(rows: list[dict]) -> list[dict]:
    """One row per method: accuracy per setting, then ms per 5-way 1-shot episode and parameters."""
    table: dict[str, dict] = {}
    costs: dict[str, dict] = {}
    for row in rows:
        entry = table.setdefault(row["method"], {"method": row["method"], "kind": row["kind"]})
        setting = f"{row['n_way']}-way {row['n_shot']}-shot"
        entry[setting] = f"{100 * row['accuracy']:.1f} ± {100 * row['ci95']:.1f}" if row["accuracy"] else "—"
        if (row["n_way"], row["n_shot"]) == (5, 1):
            ms = round(row["ms_per_episode"], 1) if row["ms_per_episode"] else None
            costs[row["method"]] = {"ms / episode": ms, "parameters": row["parameters"]}
    return [{**entry, **costs.get(method, {})} for method, entry in table.items()]


def cell(rows: list[dict], method: str, n_way: int, n_shot: int) -> dict | None:
    return next((r for r in rows if r["method"] == method and (r["n_way"], r["n_shot"]) == (n_way, n_shot)), None)


def best(rows: list[dict], n_way: int, n_shot: int) -> dict | None:
    ran = [r for r in rows if (r["n_way"], r["n_shot"]) == (n_way, n_shot) and r["accuracy"] is not None]
    return max(ran, key=lambda r: r["accuracy"], default=None)


def percent(row: dict | None) -> str:
    return f"{100 * row['accuracy']:.1f}%" if row and row["accuracy"] is not None else "not measured"

"""The measurements behind the "Which algorithm should I use?" guide, read from the benchmark results."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from app.i18n import t
from scripts.train_paper_models import sitting_minutes  # the paper JSON's writer

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
COMMAND = "python -m benchmarks.compare_shipped"
# The benchmark's method and kind names, as catalog keys (the algorithms' own names stay as they are).
METHOD_KEYS = {
    "nearest neighbour on pixels": "guide.method_pixels",
    "pre-trained + fine-tuned": "guide.method_finetuned",
    "trained from scratch on the support set": "guide.method_scratch",
    "first-order MAML": "guide.method_first_order",
}
KIND_KEYS = {"baseline": "guide.kind_baseline", "meta-learned": "guide.kind_meta_learned"}


@cache
def compare_rows() -> tuple[dict, ...]:
    """Rows of ``benchmarks/results/compare_shipped.json`` (empty when the benchmark has not been run)."""
    path = RESULTS / "compare_shipped.json"
    if not path.exists():
        return ()
    return tuple(json.loads(path.read_text())["rows"])


def block(data: str, trained_on: str) -> list[dict]:
    return [r for r in compare_rows() if r["data"] == data and r["models_trained_on"] == trained_on]


def method_name(method: str) -> str:
    """A method's name in the visitor's language."""
    return t(METHOD_KEYS[method]) if method in METHOD_KEYS else method


def setting_name(n_way: int, n_shot: int) -> str:
    return t("guide.setting", n_way=n_way, n_shot=n_shot)


def pivot(rows: list[dict]) -> list[dict]:
    """One row per method: accuracy per setting, then ms per 5-way 1-shot episode and parameters."""
    table: dict[str, dict] = {}
    costs: dict[str, dict] = {}
    method_column, kind_column = t("guide.column_method"), t("guide.column_kind")
    for row in rows:
        kind = t(KIND_KEYS[row["kind"]]) if row["kind"] in KIND_KEYS else row["kind"]
        entry = table.setdefault(row["method"], {method_column: method_name(row["method"]), kind_column: kind})
        setting = setting_name(row["n_way"], row["n_shot"])
        entry[setting] = f"{100 * row['accuracy']:.1f} ± {100 * row['ci95']:.1f}" if row["accuracy"] else "—"
        if (row["n_way"], row["n_shot"]) == (5, 1):
            ms = round(row["ms_per_episode"], 1) if row["ms_per_episode"] else None
            costs[row["method"]] = {t("guide.column_ms"): ms, t("guide.column_parameters"): row["parameters"]}
    return [{**entry, **costs.get(method, {})} for method, entry in table.items()]


def cell(rows: list[dict], method: str, n_way: int, n_shot: int) -> dict | None:
    return next((r for r in rows if r["method"] == method and (r["n_way"], r["n_shot"]) == (n_way, n_shot)), None)


def best(rows: list[dict], n_way: int, n_shot: int) -> dict | None:
    ran = [r for r in rows if (r["n_way"], r["n_shot"]) == (n_way, n_shot) and r["accuracy"] is not None]
    return max(ran, key=lambda r: r["accuracy"], default=None)


def percent(row: dict | None) -> str:
    return f"{100 * row['accuracy']:.1f}%" if row and row["accuracy"] is not None else t("guide.not_measured")


PAPER_MODELS = Path(__file__).resolve().parents[1] / "assets" / "paper"
PAPER_ROWS = ("Prototypical Networks", "MAML", "first-order MAML", "Relation Networks")  # the JSON's paper.row


@cache
def paper_records() -> tuple[dict, ...]:
    """The JSON of every paper model in ``assets/paper`` (empty when there are none)."""
    return tuple(json.loads(path.read_text()) for path in sorted(PAPER_MODELS.glob("*.json")))


def paper_table() -> list[dict]:
    """One row per algorithm: each cell as ours ± CI against the paper, and the training minutes behind the row."""
    rows: dict[str, dict] = {}
    minutes: dict[str, float] = {}
    method_column = t("guide.column_method")
    for record in paper_records():
        algorithm = record.get("paper", {}).get("row")
        if algorithm not in PAPER_ROWS:
            continue
        row = rows.setdefault(algorithm, {method_column: method_name(algorithm)})
        for cell in record["paper"]["cells"]:
            test = cell.get("test")
            ours = f"{100 * test['mean']:.1f} ± {100 * test['ci95']:.1f}" if test else "—"
            row[setting_name(cell["n_way"], cell["n_shot"])] = t("guide.paper_cell", ours=ours,
                                                                  paper=cell["published"])  # fmt: skip
        trained = sum(sitting_minutes(s) for s in record["paper"]["sittings"])
        minutes[algorithm] = minutes.get(algorithm, 0) + trained
    columns = [setting_name(n_way, n_shot) for n_way, n_shot in ((5, 1), (5, 5), (20, 1), (20, 5))]
    return [{method_column: rows[name][method_column], **{c: rows[name].get(c, "—") for c in columns},
             t("guide.column_minutes"): round(minutes[name])}
            for name in PAPER_ROWS if name in rows]  # fmt: skip

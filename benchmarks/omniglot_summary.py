"""One table of every algorithm and baseline on Omniglot against the papers, from the recorded runs.

    python -m benchmarks.omniglot_summary

Reads the shipped paper models' JSON files (``assets/paper/*.json``, written by
``scripts/train_paper_models.py``: each cell 1000 seeded test episodes, which
``python -m core eval`` reproduces) and what ``protonet_omniglot``, ``maml_omniglot``,
``relationnet_omniglot`` and ``baselines_omniglot`` wrote to ``benchmarks/results/*.json``
(nothing is re-run), and writes ``omniglot_summary.md``: the cells, then how each shipped
model was trained. All cells are the Vinyals test split with rotations, ± the 95% CI of the
seeded test episodes; "not run" where a run is missing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from benchmarks.maml_omniglot import PAPER as MAML_PAPER
from benchmarks.protonet_omniglot import PAPER as PROTONET_PAPER
from benchmarks.relationnet_omniglot import PAPER as RELATION_PAPER
from scripts.train_paper_models import sitting_minutes

RESULTS = Path(__file__).parent / "results"
PAPER_MODELS = Path(__file__).parents[1] / "assets" / "paper"
ROWS = {"protonet": "Prototypical Networks", "maml": "MAML", "fomaml": "first-order MAML",
        "relationnet": "Relation Networks"}  # fmt: skip
SETTINGS = [(5, 1), (5, 5), (20, 1), (20, 5)]
VINYALS_BASELINES = {  # Vinyals et al. (2016), Table 1
    "Pixels (nearest neighbour)": {(5, 1): 41.7, (5, 5): 63.2, (20, 1): 26.7, (20, 5): 42.6},
    "Baseline classifier (pre-trained features + nearest neighbour)": {
        (5, 1): 80.0, (5, 5): 95.0, (20, 1): 69.5, (20, 5): 89.1,
    },
}  # fmt: skip


def load(name: str) -> dict:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def paper_models() -> list[dict]:
    """The JSON of every shipped paper model, by name."""
    return [{"name": path.stem, **json.loads(path.read_text())} for path in sorted(PAPER_MODELS.glob("*.json"))]


def shipped() -> dict[str, dict[tuple[int, int], dict | None]]:
    """Row -> setting -> the test record of the shipped model that serves that cell."""
    rows: dict[str, dict] = {f"{label}, shipped in assets/paper": dict.fromkeys(SETTINGS) for label in ROWS.values()}
    for model in paper_models():
        label = f"{ROWS[model['name'].split('-')[0]]}, shipped in assets/paper"
        for cell in model["paper"]["cells"]:
            rows[label][(cell["n_way"], cell["n_shot"])] = cell["test"]
    return rows


VALIDATION = re.compile(r"^(\d+)/\d+ .*\bval ([\d.]+)%")


def validation_curve(name: str) -> list[tuple[int, float]]:
    """(step, validation accuracy %) from a paper model's log, every sitting; a step validated twice keeps the last."""
    path = PAPER_MODELS / f"{name}.log"
    points = {}
    for line in path.read_text().splitlines() if path.is_file() else []:
        if match := VALIDATION.match(line.strip()):
            points[int(match[1])] = float(match[2])
    return sorted(points.items())


def last_quarter_gain(curve: list[tuple[int, float]], steps: int) -> float | None:
    """Best validation in the last quarter of the steps minus the best before it (None: too few points)."""
    before = [value for step, value in curve if step <= 0.75 * steps]
    after = [value for step, value in curve if step > 0.75 * steps]
    return max(after) - max(before) if before and after else None


def _curve_text(curve: list[tuple[int, float]], most: int = 5) -> str:
    if not curve:
        return "none logged"
    picked = sorted({round(i * (len(curve) - 1) / (most - 1)) for i in range(most)}) if len(curve) > most else None
    shown = [curve[i] for i in picked] if picked else curve
    return ", ".join(f"{step}: {value:.1f}" for step, value in shown)


def device_time(sittings: list[dict]) -> tuple[float, float]:
    """(GPU minutes, CPU hours) of meta-training over a model's sittings."""
    gpu = sum(sitting_minutes(s) for s in sittings if s["device"] == "cuda")
    cpu = sum(sitting_minutes(s) for s in sittings if s["device"] != "cuda")
    return gpu, cpu / 60


def training_table() -> str:
    """How each shipped paper model was trained: steps, device, minutes, the best validation, the curve."""
    lines = ["| model | cells | steps (x meta-batch) | trained on | GPU minutes | CPU hours | best validation (step) "
             "| validation curve (step: %) | last quarter (points) |",
             "|---|---|---:|---|---:|---:|---|---|---:|"]  # fmt: skip
    for model in paper_models():
        training, sittings = model["training"], model["paper"]["sittings"]
        cells = ", ".join(f"{c['n_way']}-way {c['n_shot']}-shot" for c in model["paper"]["cells"])
        batch = training.get("global_meta_batch", 1)
        steps = f"{training['episodes']}" + (f" x {batch}" if batch > 1 else "")
        machines = dict.fromkeys(f"{s['machine']}, {s['processes_side_by_side']} side by side" for s in sittings)
        gpu_minutes, cpu_hours = device_time(sittings)
        best = training.get("best_val_accuracy")
        best_text = f"{100 * best:.1f}% ({training['best_step']})" if best is not None else "not validated"
        curve = validation_curve(model["name"])
        gain = last_quarter_gain(curve, training["episodes"])
        lines.append(f"| {model['name']} | {cells} | {steps} | {'; '.join(machines)} | {gpu_minutes:g} | "
                     f"{cpu_hours:.1f} | {best_text} | {_curve_text(curve)} | "
                     f"{'—' if gain is None else f'{gain:+.1f}'} |")  # fmt: skip
    return "\n".join(lines)


def ours() -> dict[str, dict[tuple[int, int], dict | None]]:
    """Method -> setting -> {"mean", "ci95", "episodes"}: the shipped paper models, then the recorded runs."""
    protonet, maml, relation = load("protonet_omniglot"), load("maml_omniglot"), load("relationnet_omniglot")
    rows: dict[str, dict] = shipped()
    runs = protonet.get("runs", {})
    rows["Prototypical Networks, benchmark run"] = {s: runs.get(str(s[1]), {}).get("tests", {}).get(_key(s))
                                                    for s in SETTINGS}  # fmt: skip
    for variant, label in (("maml", "MAML"), ("fomaml", "first-order MAML")):
        rows[f"{label}, benchmark run"] = {s: maml.get(f"{variant}-{s[0]}way", {}).get("tests", {}).get(_key(s))
                                           for s in SETTINGS}  # fmt: skip
    rows["Relation Networks, benchmark run"] = {s: relation.get(f"{s[0]}way{s[1]}shot", {}).get("test")
                                                for s in SETTINGS}  # fmt: skip
    rows["nearest neighbour on pixels"] = {s: protonet.get("pixels", {}).get(_key(s)) for s in SETTINGS}
    baselines = load("baselines_omniglot")
    trained = {"scratch": "trained from scratch on the support set", "finetune": "pre-trained + fine-tuned"}
    for run, label in trained.items():
        rows[label] = {s: baselines.get(run, {}).get("tests", {}).get(_key(s)) for s in SETTINGS}
    return rows


def papers() -> dict[str, dict[tuple[int, int], float]]:
    return {
        "Prototypical Networks": PROTONET_PAPER, "MAML": MAML_PAPER["maml"],
        "first-order MAML": MAML_PAPER["fomaml"], "Relation Networks": RELATION_PAPER,
    }  # fmt: skip


def table() -> str:
    measured, published = ours(), papers()
    lines = [
        "| Omniglot, Vinyals test split | " + " | ".join(f"{n}-way {k}-shot" for n, k in SETTINGS) + " |",
        "|---|" + "---:|" * len(SETTINGS),
    ]
    order = [f"{label}, {kind}" for label in ROWS.values() for kind in ("shipped in assets/paper", "benchmark run")]
    for method in order + [name for name in measured if name not in order]:
        cells = measured[method]
        lines.append(f"| {method} | " + " | ".join(_cell(cells[s]) for s in SETTINGS) + " |")
        algorithm = method.split(", ")[0]
        if method.endswith("benchmark run") and algorithm in published:
            lines.append(f"| {algorithm}, paper | " + " | ".join(f"{published[algorithm][s]}" for s in SETTINGS) + " |")
    for method, cells in VINYALS_BASELINES.items():
        lines.append(f"| {method}, Vinyals et al. 2016 | " + " | ".join(f"{cells[s]}" for s in SETTINGS) + " |")
    return "\n".join(lines)


def _key(setting: tuple[int, int]) -> str:
    return f"{setting[0]}-way {setting[1]}-shot"


def _cell(test: dict | None) -> str:
    return f"{100 * test['mean']:.1f} ± {100 * test['ci95']:.1f}" if test else "not run"


def main() -> None:
    text = table() + "\n\nHow the shipped models in assets/paper were trained:\n\n" + training_table()
    (RESULTS / "omniglot_summary.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()

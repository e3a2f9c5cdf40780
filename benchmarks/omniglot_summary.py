"""One table of every algorithm and baseline on Omniglot against the papers, from the recorded runs.

    python -m benchmarks.omniglot_summary

Reads what ``protonet_omniglot``, ``maml_omniglot``, ``relationnet_omniglot`` and
``baselines_omniglot`` wrote
to ``benchmarks/results/*.json`` (nothing is re-run) and writes ``omniglot_summary.md``.
All cells are the Vinyals test split with rotations, ± the 95% CI of the seeded test
episodes; "not run" where a run is missing.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.maml_omniglot import PAPER as MAML_PAPER
from benchmarks.protonet_omniglot import PAPER as PROTONET_PAPER
from benchmarks.relationnet_omniglot import PAPER as RELATION_PAPER

RESULTS = Path(__file__).parent / "results"
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


def ours() -> dict[str, dict[tuple[int, int], dict | None]]:
    """Method -> setting -> {"mean", "ci95", "episodes"} from the recorded runs."""
    protonet, maml, relation = load("protonet_omniglot"), load("maml_omniglot"), load("relationnet_omniglot")
    rows: dict[str, dict] = {}
    runs = protonet.get("runs", {})
    rows["Prototypical Networks"] = {s: runs.get(str(s[1]), {}).get("tests", {}).get(_key(s)) for s in SETTINGS}
    for variant, label in (("maml", "MAML"), ("fomaml", "first-order MAML")):
        rows[label] = {s: maml.get(f"{variant}-{s[0]}way", {}).get("tests", {}).get(_key(s)) for s in SETTINGS}
    rows["Relation Networks"] = {s: relation.get(f"{s[0]}way{s[1]}shot", {}).get("test") for s in SETTINGS}
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
    for method, cells in measured.items():
        lines.append(f"| {method}, ours | " + " | ".join(_cell(cells[s]) for s in SETTINGS) + " |")
        if method in published:
            lines.append(f"| {method}, paper | " + " | ".join(f"{published[method][s]}" for s in SETTINGS) + " |")
    for method, cells in VINYALS_BASELINES.items():
        lines.append(f"| {method}, Vinyals et al. 2016 | " + " | ".join(f"{cells[s]}" for s in SETTINGS) + " |")
    return "\n".join(lines)


def _key(setting: tuple[int, int]) -> str:
    return f"{setting[0]}-way {setting[1]}-shot"


def _cell(test: dict | None) -> str:
    return f"{100 * test['mean']:.1f} ± {100 * test['ci95']:.1f}" if test else "not run"


def main() -> None:
    text = table()
    (RESULTS / "omniglot_summary.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()

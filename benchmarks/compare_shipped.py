"""The Compare page's line-up, measured: every shipped model and both baselines on the same episodes.

    python -m benchmarks.compare_shipped [--episodes 100] [--sources glyphs omniglot]

For each data set (glyphs, and Omniglot's Lake evaluation alphabets when found), the
models shipped for it, nearest neighbour on pixels and a Conv-4 trained from scratch on
each support set run through ``core.compare`` on the same seeded episodes of the
held-out classes (15 queries per class) at 5/20-way 1/5-shot. A last block runs the
glyph-trained models on Omniglot: tasks far from the training tasks. Writes
``benchmarks/results/compare_shipped.json`` (read by the "Which algorithm" page) and
``compare_shipped.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from core.checkpoints import load_checkpoint
from core.compare.contenders import baseline_contenders, display_name, model_contender, unseen_classes_note
from core.compare.runner import compare
from core.datasets import DatasetSpec, find_omniglot_root, load_dataset
from core.datasets.roles import assign_roles
from core.episodes import EpisodeSampler

ASSETS = Path(__file__).resolve().parents[1] / "assets"
RESULTS = Path(__file__).parent / "results"
SETTINGS = [(5, 1), (5, 5), (20, 1), (20, 5)]
ALGORITHMS = ("maml", "fomaml", "protonet", "relationnet", "finetune")


def lineup(trained_on: str, split_scheme: str, split: str, n_way: int) -> list:
    contenders = []
    for name in ALGORITHMS:
        algorithm, metadata = load_checkpoint(ASSETS / f"{name}-{trained_on}")
        note = unseen_classes_note(metadata, split_scheme, split)
        contenders.append(model_contender(display_name(algorithm), algorithm, note))
    return contenders + baseline_contenders(1, 28, n_way)


def run_block(dataset, trained_on: str, settings, episodes: int) -> list[dict]:
    dataset, roles = assign_roles(dataset)
    rows = []
    for n_way, n_shot in settings:
        sampler = EpisodeSampler(dataset, roles.test, n_way, n_shot, 15, seed=0)
        start = time.perf_counter()
        for result in compare(lineup(trained_on, dataset.split_scheme, roles.test, n_way), sampler, episodes):
            accuracy = result.accuracy
            rows.append({
                "data": dataset.name, "models_trained_on": trained_on, "n_way": n_way, "n_shot": n_shot,
                "method": result.name, "kind": result.kind, "parameters": result.parameters,
                "accuracy": accuracy.mean if accuracy else None, "ci95": accuracy.ci95 if accuracy else None,
                "episodes": len(result.per_episode), "ms_per_episode": result.ms_per_episode,
                "peak_mib": result.peak_mib, "skipped": result.skipped, "note": result.note,
            })  # fmt: skip
        print(f"{dataset.name} ({trained_on} models) {n_way}-way {n_shot}-shot: {time.perf_counter() - start:.0f} s",
              flush=True)  # fmt: skip
    return rows


def table(rows: list[dict]) -> str:
    lines = []
    blocks = dict.fromkeys((r["data"], r["models_trained_on"]) for r in rows)
    for data, trained_on in blocks:
        mine = [r for r in rows if r["data"] == data and r["models_trained_on"] == trained_on]
        settings = list(dict.fromkeys((r["n_way"], r["n_shot"]) for r in mine))
        episodes = max(r["episodes"] for r in mine)
        lines += [f"**{data}, held-out classes, models trained on {trained_on}** ({episodes} episodes per cell, "
                  "15 queries per class; ms: median per 5-way 1-shot episode, adaptation included)", "",
                  "| method | " + " | ".join(f"{n}-way {k}-shot" for n, k in settings) + " | ms | parameters |",
                  "|---|" + "---:|" * (len(settings) + 2)]  # fmt: skip
        for method in dict.fromkeys(r["method"] for r in mine):
            cells = {(r["n_way"], r["n_shot"]): r for r in mine if r["method"] == method}
            text = [f"{100 * c['accuracy']:.1f} ± {100 * c['ci95']:.1f}" if c["accuracy"] is not None else "—"
                    for c in (cells[s] for s in settings)]  # fmt: skip
            first = cells[settings[0]]
            ms = f"{first['ms_per_episode']:.1f}" if first["ms_per_episode"] is not None else "—"
            lines.append(f"| {method} | " + " | ".join(text) + f" | {ms} | {first['parameters']:,} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=100, help="episodes per setting")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.manual_seed(0)
    rows = run_block(load_dataset(DatasetSpec("glyphs")), "glyphs", SETTINGS, args.episodes)
    root = find_omniglot_root()
    if root is not None:
        omniglot = load_dataset(DatasetSpec("omniglot", str(root), split_scheme="lake"))
        rows += run_block(omniglot, "omniglot", SETTINGS, args.episodes)
        rows += run_block(omniglot, "glyphs", SETTINGS[:2], args.episodes)
    else:
        print("Omniglot not found (set OMNIGLOT_ROOT): glyphs only")
    result = {"date": time.strftime("%Y-%m-%d"), "episodes": args.episodes, "threads": torch.get_num_threads(),
              "rows": rows}  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "compare_shipped.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / "compare_shipped.md").write_text(table(rows) + "\n")
    print(table(rows))


if __name__ == "__main__":
    main()

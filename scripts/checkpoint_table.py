"""Print the README's table of shipped checkpoints from their JSON (nothing is re-measured).

python -m scripts.checkpoint_table [--algorithm maml]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def describe(record: dict) -> tuple[str, str]:
    """(what the model is, how long it trained) from a checkpoint's JSON."""
    settings, training = record.get("settings", {}), record.get("training", {})
    if record["algorithm"] == "maml":
        kind = "first-order MAML" if settings.get("first_order") else "MAML"
        kind += " + Meta-SGD" if settings.get("meta_sgd") else ""
        kind += f", {settings['n_way']}-way" if settings.get("n_way", 5) != 5 else ""
        until = training.get("config", {}).get("first_order_until", 0)
        if until and not settings.get("first_order"):
            first = "all its steps" if until >= training["episodes"] else f"its first {until} steps"
            kind += f", trained first order for {first}"
        what = (f"{kind}, α {settings['inner_lr']:g}, {settings['train_steps']} step(s) in training, "
                f"{settings['test_steps']} at test")  # fmt: skip
        batch = training.get("config", {}).get("meta_batch", 1)
        length = f"{training['episodes']} × {batch} tasks ({training.get('best_step')})"
    elif record["algorithm"] == "finetune":
        pre = training.get("pretraining", {})
        what = (f"pre-trained on {pre.get('classes')} classes, then {settings['test_steps']} steps "
                f"at α {settings['inner_lr']:g}")  # fmt: skip
        length = f"{pre.get('epochs'):g} epochs"
    else:
        what = f"{record['algorithm']}, {training.get('n_way')}-way {training.get('n_shot')}-shot episodes"
        length = f"{training['episodes']} ({training.get('best_step')})"
    return what, f"{length}, {training.get('seconds', 0) / 60:.0f} min"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algorithm", default=None, help="only this algorithm's checkpoints")
    args = parser.parse_args()
    print("| checkpoint | model | data | steps (best at), time | 5-way 1-shot | 5-way 5-shot | test episodes |")
    print("|---|---|---|---|---:|---:|---:|")
    for path in sorted(ASSETS.glob("*.json")):
        record = json.loads(path.read_text())
        if args.algorithm and record["algorithm"] != args.algorithm:
            continue
        what, length = describe(record)
        data = record["dataset"]
        source = f"{data['source']} ({record['splits']['train']})"
        tests = record.get("test_accuracy", {})
        n_way = record.get("settings", {}).get("n_way", 5)  # MAML's head fixes it; the others are tested 5-way
        label = "" if n_way == 5 else f"{n_way}-way: "  # a 20-way MAML's cells, in the 5-way columns, say so
        cells = [
            f"{label}{100 * tests[k]['mean']:.1f} ± {100 * tests[k]['ci95']:.1f}" if k in tests else "–"
            for k in (f"{n_way}-way 1-shot", f"{n_way}-way 5-shot")
        ]
        episodes = next(iter(tests.values()), {}).get("episodes", "–")
        print(f"| `assets/{path.stem}` | {what} | {source} | {length} | {cells[0]} | {cells[1]} | {episodes} |")


if __name__ == "__main__":
    main()

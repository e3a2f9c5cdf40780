"""Test shipped checkpoints again as ``python -m core train`` does (``core.evaluation.held_out_test``); record it.

    python -m scripts.retest_assets relationnet-glyphs relationnet-omniglot --reason "..."

For when the code that runs a model changes but its weights do not (Relation Networks
rescaling summed features to the training shots, say). The weights are untouched; the
JSON's ``test_accuracy`` is replaced and a ``retested`` entry says when and why.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

from core.checkpoints import load_checkpoint
from core.datasets import DatasetSpec, find_omniglot_root, load_dataset
from core.datasets.roles import assign_roles
from core.evaluation import default_episodes, held_out_test

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def retest(name: str, reason: str) -> dict:
    algorithm, metadata = load_checkpoint(ASSETS / name)
    saved = metadata["dataset"]
    root = saved.get("root") or (str(find_omniglot_root()) if saved["source"] == "omniglot" else None)
    spec = DatasetSpec(saved["source"], root, split_scheme=saved.get("split_scheme", "lake"),
                       image_size=saved.get("image_size"), seed=saved.get("seed", 0))  # fmt: skip
    dataset, roles = assign_roles(load_dataset(spec))
    tests = {}
    for key, old in metadata["test_accuracy"].items():
        n_shot = int(key.split("-way ")[1].split("-shot")[0])
        episodes = old.get("episodes") or default_episodes(dataset.name)
        key, new = held_out_test(algorithm, dataset, roles.test, n_shot, episodes)
        tests[key] = new
        print(f"{name} {key}: {100 * old['mean']:.1f} -> {100 * new['mean']:.1f} ± {100 * new['ci95']:.1f}")
    path = (ASSETS / name).with_suffix(".json")
    record = json.loads(path.read_text())
    record["retested"] = {"date": date.today().isoformat(), "reason": reason, "before": record["test_accuracy"]}
    record["test_accuracy"] = tests
    path.write_text(json.dumps(record, indent=2) + "\n")
    return tests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="+", help="checkpoint names in assets/ (without suffix)")
    parser.add_argument("--reason", required=True, help="what changed, recorded in the JSON")
    args = parser.parse_args()
    for name in args.names:
        retest(name, args.reason)


if __name__ == "__main__":
    main()

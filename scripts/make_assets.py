"""Train the checkpoints shipped in assets/, so every page has a model on arrival.

    python -m scripts.make_assets [--only glyphs|omniglot] [--episodes-scale 1.0]

Each model is made by ``python -m core train`` with the flags below; its JSON records
the data set, split, training settings and the accuracy measured on held-out classes.
Omniglot models are trained on Lake's background alphabets only, so the evaluation
alphabets stay unseen for the pages, the one-shot game and people's drawings.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli import main as core_main

ASSETS = Path(__file__).resolve().parents[1] / "assets"
MODELS = {
    "protonet-glyphs": ["--dataset", "glyphs", "--episodes", "800"],
    "protonet-omniglot": ["--dataset", "omniglot", "--split-scheme", "lake", "--episodes", "2000"],
}
COMMON = ["--algorithm", "protonet", "--n-way", "20", "--n-shot", "5", "--n-query", "5", "--validate-every", "200"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=[name.split("-", 1)[1] for name in MODELS], help="make one model")
    args = parser.parse_args()
    for name, flags in MODELS.items():
        if args.only and not name.endswith(args.only):
            continue
        command = ["train", *COMMON, *flags, "--out", str(ASSETS / name)]
        print("python -m core " + " ".join(command), flush=True)
        if core_main(command) != 0:
            raise SystemExit(f"training {name} failed")


if __name__ == "__main__":
    main()

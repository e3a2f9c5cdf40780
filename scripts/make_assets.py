"""Train the checkpoints shipped in assets/, so every page has a model on arrival.

    python -m scripts.make_assets [--only maml-glyphs ...]

Each model is made by ``python -m core train`` with the flags below; its JSON records
the data set, split, training settings and the accuracy measured on held-out classes.
Omniglot models are trained on Lake's background alphabets only, so the evaluation
alphabets stay unseen for the pages, the one-shot game and people's drawings.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli.commands import main as core_main

ASSETS = Path(__file__).resolve().parents[1] / "assets"
# The ProtoNet and MAML pages replay training from 10 snapshots saved with their models (about 2.2 MB
# more each, in half precision).
SNAPSHOTS = ["--snapshots", "10"]
PROTONET = ["--algorithm", "protonet", "--n-way", "20", "--n-shot", "5", "--n-query", "5", "--validate-every", "200",
            *SNAPSHOTS]  # fmt: skip
# MAML: 5-way (its head fixes n_way), trained on 1-shot tasks as in Finn et al.; one inner
# step at alpha 0.4, three at test. Far fewer iterations than the paper's 60,000 x 32 tasks:
# these are demo models, the paper table is benchmarks/maml_omniglot.py.
MAML = ["--algorithm", "maml", "--n-way", "5", "--n-shot", "1", "--n-query", "5", "--inner-lr", "0.4",
        "--train-steps", "1", "--test-steps", "3", "--lr-decay-every", "100000", "--val-episodes", "100",
        *SNAPSHOTS]  # fmt: skip
# A 20-way MAML (the paper's 20-way settings: five inner steps at alpha 0.1, meta-batch 16) so that the
# one-shot game's 20-way trials and the n_way sweep have MAML in them. Antoniou et al.'s derivative-order
# annealing keeps it in reach of a CPU: first order for the first 1,200 steps, second order after.
MAML_20WAY = ["--algorithm", "maml", "--n-way", "20", "--n-shot", "1", "--n-query", "1", "--inner-lr", "0.1",
              "--train-steps", "5", "--test-steps", "5", "--meta-batch", "16", "--first-order-until", "1200",
              "--lr-decay-every", "100000", "--val-episodes", "100", "--validate-every", "200", *SNAPSHOTS]  # fmt: skip
# Lake's one-shot task (20 characters of one alphabet): 20-way 1-shot episodes, half of them from one
# alphabet (harder negatives), Koch et al.'s distortions and stroke width as augmentation, bf16 where
# the CPU has it, cosine learning rate over 50,000 episodes (80 minutes on one thread of this CPU).
PROTONET_LAKE = ["--algorithm", "protonet", "--n-way", "20", "--n-shot", "1", "--n-query", "5", "--augment",
                 "--within-alphabet", "0.5", "--amp", "--episodes", "50000", "--lr-schedule", "cosine",
                 "--validate-every", "2500", "--max-minutes", "100", "--test-ways", "20",
                 "--test-shots", "1"]  # fmt: skip
# The fine-tuning baseline MAML's page compares with: ordinary training on all training classes.
FINETUNE = ["--algorithm", "finetune", "--epochs", "3", "--tune-adaptation"]
# Relation Networks: 5-way 1-shot with 19 queries per class, as the paper's Omniglot setting
# (summed class features change scale with the shot, so a model is best at the shot it trained on).
RELATION = ["--algorithm", "relationnet", "--n-way", "5", "--n-shot", "1", "--n-query", "19", "--episodes", "2000",
            "--validate-every", "500", "--lr-decay-every", "100000"]  # fmt: skip
# The same at 56 x 56 pixels: the first convolution steps two pixels, so a step costs about what a 28-pixel
# one does, and the first filters see the finer drawing (strokes of one alphabet differ by a few pixels).
PROTONET_LAKE_56 = [*PROTONET_LAKE, "--image-size", "56", "--backbone", "conv4-stride2"]
GLYPHS, OMNIGLOT = ["--dataset", "glyphs"], ["--dataset", "omniglot", "--split-scheme", "lake"]
MODELS = {
    "protonet-glyphs": [*PROTONET, *GLYPHS, "--episodes", "800"],
    "protonet-omniglot": [*PROTONET, *OMNIGLOT, "--episodes", "2000"],
    "maml-glyphs": [*MAML, *GLYPHS, "--episodes", "1500", "--meta-batch", "8", "--validate-every", "250"],
    "fomaml-glyphs": [*MAML, *GLYPHS, "--first-order", "--episodes", "1500", "--meta-batch", "8",
                      "--validate-every", "250"],
    "maml-omniglot": [*MAML, *OMNIGLOT, "--episodes", "800", "--meta-batch", "16", "--validate-every", "200"],
    "maml-20way-omniglot": [*MAML_20WAY, *OMNIGLOT, "--episodes", "1500", "--max-minutes", "40"],
    "protonet-lake-omniglot": [*PROTONET_LAKE, *OMNIGLOT],
    "protonet-lake56-omniglot": [*PROTONET_LAKE_56, *OMNIGLOT],
    "fomaml-omniglot": [*MAML, *OMNIGLOT, "--first-order", "--episodes", "800", "--meta-batch", "16",
                        "--validate-every", "200"],
    "finetune-glyphs": [*FINETUNE, *GLYPHS],
    "finetune-omniglot": [*FINETUNE, *OMNIGLOT],
    "relationnet-glyphs": [*RELATION, *GLYPHS],
    "relationnet-omniglot": [*RELATION, *OMNIGLOT],
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(MODELS), help="make only these models")
    args = parser.parse_args()
    for name, flags in MODELS.items():
        if args.only and name not in args.only:
            continue
        command = ["train", *flags, "--out", str(ASSETS / name)]
        print("python -m core " + " ".join(command), flush=True)
        if core_main(command) != 0:
            raise SystemExit(f"training {name} failed")


if __name__ == "__main__":
    main()

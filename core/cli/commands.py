"""``python -m core train | eval``: the library from the terminal (training itself is in ``core.cli.train``)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from core.algorithms import ALGORITHMS
from core.backbones import BACKBONES
from core.checkpoints import load_checkpoint
from core.cli.train import DIVERGED, announce, dataset_spec, run_train
from core.datasets import SOURCES, load_dataset
from core.datasets.omniglot import SPLIT_SCHEMES
from core.datasets.roles import assign_roles
from core.episodes import EpisodeSampler
from core.evaluation import default_episodes, evaluate
from core.runtime.devices import DEVICE_CHOICES, resolve_device
from core.runtime.distributed import DistributedContext
from core.training.config import LR_SCHEDULES

__all__ = ["DIVERGED", "build_parser", "main"]

HELP = argparse.ArgumentDefaultsHelpFormatter


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.command(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="Train and evaluate few-shot learners.")
    commands = parser.add_subparsers(required=True, metavar="{train,eval}")
    train_parser = commands.add_parser(
        "train",
        help="meta-train a model and save a checkpoint",
        formatter_class=HELP,
        description="Meta-train a model on episodes and save a checkpoint.",
    )
    _data_flags(train_parser)
    train_parser.add_argument(
        "--algorithm",
        choices=sorted(name for name in ALGORITHMS if name != "imagenet"),  # frozen features: nothing to train
        default="protonet",
        help="which algorithm",
    )
    train_parser.add_argument(
        "--distance",
        choices=["euclidean", "cosine"],
        default="euclidean",
        help="Prototypical Networks: distance to the prototypes (the paper: euclidean)",
    )
    train_parser.add_argument(
        "--backbone",
        choices=sorted(BACKBONES),
        default="conv4",
        help="Prototypical Networks: the embedding (conv4-stride2: the first convolution steps two pixels, for "
             "56x56 images at about conv4's cost on 28x28)",
    )  # fmt: skip
    train_parser.add_argument(
        "--relation-loss",
        choices=["mse", "cross_entropy"],
        default="mse",
        help="Relation Networks: loss on the relation scores (the paper: mse against one-hot)",
    )
    maml = train_parser.add_argument_group("MAML")
    maml.add_argument("--inner-lr", type=float, default=0.4, help="inner-loop learning rate alpha")
    maml.add_argument("--test-inner-lr", type=float, default=None, help="inner learning rate at test (default: alpha)")
    maml.add_argument("--train-steps", type=int, default=1, help="inner steps in meta-training")
    maml.add_argument("--test-steps", type=int, default=3, help="inner steps at test time")
    maml.add_argument("--first-order", action="store_true", help="first-order MAML (no second derivatives)")
    maml.add_argument(
        "--per-step-rates", action="store_true",
        help="learn one inner rate per layer and inner step (Antoniou et al. 2019's LSLR); not with --meta-sgd",
    )  # fmt: skip
    maml.add_argument(
        "--per-step-batch-norm", action="store_true",
        help="each inner step its own learned BatchNorm scale and shift, not adapted (Antoniou et al. 2019's BNWB)",
    )  # fmt: skip
    maml.add_argument(
        "--multi-step-loss-until", type=int, default=0,
        help="for this many training steps, weigh the query loss after every inner step, annealed toward the "
             "last (Antoniou et al. 2019's multi-step loss); default 0",
    )  # fmt: skip
    maml.add_argument(
        "--first-order-until", type=int, default=0,
        help="first-order for this many training steps, then second order (Antoniou et al. 2019's derivative-order "
             "annealing); default 0",
    )  # fmt: skip
    maml.add_argument("--meta-sgd", action="store_true", help="Meta-SGD: learn one inner learning rate per weight")
    finetune = train_parser.add_argument_group(
        "fine-tuning baseline (--algorithm finetune: ordinary training on all training classes; "
        "at test a new head, --test-steps steps at --inner-lr)"
    )
    finetune.add_argument(
        "--epochs", type=float, default=5, help="passes over the training classes' images (may be fractional)"
    )
    finetune.add_argument("--batch-size", type=int, default=128, help="images per mini-batch")
    finetune.add_argument("--tune-adaptation", action="store_true",
                          help="choose --test-steps and --inner-lr on validation classes")  # fmt: skip
    _episode_flags(train_parser, n_way=20, n_shot=5, n_query=5)
    train_parser.add_argument("--episodes", type=int, default=2000, help="training steps")
    train_parser.add_argument("--meta-batch", type=int, default=1, help="episodes averaged into one update")
    train_parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    train_parser.add_argument("--lr-decay", type=float, default=0.5, help="learning-rate factor at each decay")
    train_parser.add_argument("--lr-decay-every", type=int, default=2000, help="steps between decays")
    train_parser.add_argument("--validate-every", type=int, default=500, help="steps between validations (0: never)")
    train_parser.add_argument(
        "--val-episodes", type=int, default=200, help="episodes per validation (5-way; MAML: its n_way)"
    )
    train_parser.add_argument(
        "--test-episodes",
        type=int,
        default=None,
        help="5-way test episodes after training (default 1000 for Omniglot, 600 otherwise)",
    )
    train_parser.add_argument(
        "--test-shots", type=int, nargs="+", default=[1, 5], help="after training, test 5-way episodes with these shots"
    )
    train_parser.add_argument(
        "--test-ways", type=int, nargs="+", default=None,
        help="after training, test these n_way (default: the model's own; 5 for all but MAML)",
    )  # fmt: skip
    train_parser.add_argument(
        "--max-minutes", type=float, default=None,
        help="stop meta-training after this long, as Ctrl-C does: test, save, and --resume later",
    )  # fmt: skip
    train_parser.add_argument(
        "--snapshots", type=int, default=0,
        help="keep the weights at about this many evenly spaced steps (at least 2), saved with the checkpoint "
             "in float16 so pages can replay training (a Conv-4 grows by about 230 KB each); default 0: none",
    )  # fmt: skip
    train_parser.add_argument(
        "--lr-schedule", choices=LR_SCHEDULES, default="step",
        help="step: halve every --lr-decay-every steps; cosine: from --lr down to --min-lr at --episodes along half "
             "a cosine (Antoniou et al. 2019)",
    )  # fmt: skip
    train_parser.add_argument("--min-lr", type=float, default=1e-5, help="the cosine schedule's last learning rate")
    train_parser.add_argument(
        "--anneal-from", type=int, default=0,
        help="with --lr-schedule cosine: hold --lr until this step, then fall to --min-lr at --episodes (anneal a "
             "resumed run that has gone flat at a constant rate)",
    )  # fmt: skip
    train_parser.add_argument(
        "--clip-grad-norm", type=float, default=None,
        help="clip each part's gradient norm (e.g. Relation Networks' embedding and relation module) to this, "
             "as Sung et al.'s code does with 0.5; default: no clipping",
    )  # fmt: skip
    train_parser.add_argument(
        "--augment", action="store_true",
        help="distort every training image: Koch et al.'s random affine maps (rotation, shear, scale, shift) "
             "and a one-pixel change of stroke width",
    )  # fmt: skip
    train_parser.add_argument(
        "--within-alphabet", type=float, default=0.0,
        help="share of training episodes (0 to 1) whose classes all come from one alphabet: harder negatives, "
             "as Lake's within-alphabet test; default 0",
    )  # fmt: skip
    train_parser.add_argument(
        "--train-on-val", action="store_true",
        help="train on the training and validation classes together, as Snell et al.'s final models; validation "
             "then draws the curve on seen classes, so the last weights are kept (the test classes stay unseen)",
    )  # fmt: skip
    train_parser.add_argument("--seed", type=int, default=0, help="seeds the weights and the episodes")
    train_parser.add_argument("--out", type=Path, required=True, help="checkpoint path, without suffix")
    train_parser.add_argument("--resume", type=Path, default=None,
                              help="continue the run that saved this checkpoint, up to --episodes steps "
                                   "(same flags as that run; --lr and --episodes may change)")  # fmt: skip
    _device_flag(train_parser)
    train_parser.add_argument(
        "--amp", action="store_true", help="bf16 autocast in meta-training (CUDA, or a CPU with AVX-512 BF16 or AMX)"
    )
    train_parser.set_defaults(command=run_train)

    eval_parser = commands.add_parser(
        "eval",
        help="accuracy with a 95%% CI over seeded test episodes",
        formatter_class=HELP,
        description="Evaluate a checkpoint on seeded episodes of held-out classes.",
    )
    eval_parser.add_argument("--checkpoint", type=Path, required=True, help="checkpoint path (with or without suffix)")
    _data_flags(eval_parser, defaults_from_checkpoint=True)
    eval_parser.add_argument("--split", default=None, help="split to test on (default: the held-out one)")
    _episode_flags(eval_parser, n_way=5, n_shot=1, n_query=15)
    eval_parser.add_argument(
        "--episodes",
        type=int,
        default=None,
        help="test episodes (default 1000 for Omniglot, as the papers; 600 otherwise)",
    )
    eval_parser.add_argument("--seed", type=int, default=0, help="episode seed: equal seeds, equal episodes")
    eval_parser.add_argument("--json", action="store_true", help="print one JSON line instead of a table")
    _device_flag(eval_parser)
    eval_parser.set_defaults(command=run_eval)
    return parser


def _data_flags(parser: argparse.ArgumentParser, defaults_from_checkpoint: bool = False) -> None:
    note = " (default: the checkpoint's)" if defaults_from_checkpoint else ""
    parser.add_argument(
        "--dataset", choices=SOURCES, default=None if defaults_from_checkpoint else "glyphs", help=f"data source{note}"
    )
    parser.add_argument(
        "--data-root",
        default=None,
        help="folder of Omniglot (default: $OMNIGLOT_ROOT or ../shared/data/omniglot) or of images",
    )
    parser.add_argument(
        "--split-scheme",
        choices=SPLIT_SCHEMES,
        default=None,
        help=f"Omniglot class split: lake, vinyals or seeded{note or ' (default: vinyals)'}",
    )
    parser.add_argument("--image-size", type=int, default=None, help="image side (default 28, 84 for folders)")


def _device_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", metavar="{" + ",".join(DEVICE_CHOICES) + "}",
                        help="auto: CUDA, then MPS, then CPU; or cuda:N (torchrun: cuda:LOCAL_RANK)")  # fmt: skip


def _episode_flags(parser: argparse.ArgumentParser, n_way: int, n_shot: int, n_query: int) -> None:
    parser.add_argument("--n-way", type=int, default=n_way, help=f"classes per episode (default {n_way})")
    parser.add_argument("--n-shot", type=int, default=n_shot, help=f"support images per class (default {n_shot})")
    parser.add_argument("--n-query", type=int, default=n_query, help=f"query images per class (default {n_query})")


def run_eval(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    algorithm, record = load_checkpoint(args.checkpoint, device)
    announce(device, DistributedContext())
    saved = record.get("dataset", {})
    spec = dataset_spec(args, saved)
    dataset, roles = assign_roles(load_dataset(spec), seed=record.get("training", {}).get("seed", 0))
    split = args.split or roles.test
    episodes = args.episodes or default_episodes(dataset.name)
    sampler = EpisodeSampler(dataset, split, args.n_way, args.n_shot, args.n_query, seed=args.seed)
    start = time.perf_counter()
    accuracy = evaluate(algorithm, sampler, episodes)
    seconds = time.perf_counter() - start
    result = {"checkpoint": str(args.checkpoint), "algorithm": record["algorithm"], "dataset": dataset.name,
              "split": split, "split_scheme": dataset.split_scheme, "n_way": args.n_way, "n_shot": args.n_shot,
              "n_query": args.n_query, "episodes": episodes, "seed": args.seed, "accuracy": accuracy.mean,
              "ci95": accuracy.ci95, "seconds": round(seconds, 2)}  # fmt: skip
    if args.json:
        print(json.dumps(result))
    else:
        width = max(len(k) for k in result)
        for key, value in result.items():
            shown = f"{100 * value:.2f}%" if key in ("accuracy", "ci95") else value
            print(f"{key:<{width}}  {shown}")
    return 0

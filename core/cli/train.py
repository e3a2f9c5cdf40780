"""``python -m core train``: meta-train or pre-train, resume a run, survive a diverging loss, save."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

from core.algorithms import ALGORITHMS
from core.checkpoints import (
    load_checkpoint,
    load_snapshots,
    read_metadata,
    read_resume_state,
    resume_path,
    save_checkpoint,
    save_resume_state,
)
from core.cli.progress import bar, drive
from core.datasets import DatasetSpec, find_omniglot_root, load_dataset
from core.datasets.roles import assign_roles, validation_sampler
from core.episodes import EpisodeSampler
from core.evaluation import default_episodes, held_out_test
from core.preprocessing import fitted_preprocessing
from core.runtime.devices import describe_device
from core.runtime.distributed import DistributedContext, from_environment, main_first, start, stop
from core.training import TrainConfig, check_precision, train
from core.training.pretraining import choose_adaptation, pretrain

DIVERGED = 3  # exit status when a non-finite loss stopped training (Ctrl-C: 130, bad flags: 2)


def dataset_spec(args: argparse.Namespace, saved: dict | None = None) -> DatasetSpec:
    saved = saved or {}
    source = args.dataset or saved.get("source", "glyphs")
    root = args.data_root or (saved.get("root") if source == saved.get("source") else None)
    if source == "omniglot" and (root is None or not Path(root).exists()):
        root = args.data_root or find_omniglot_root()
    scheme = (args.split_scheme or saved.get("split_scheme") or "vinyals") if source == "omniglot" else "lake"
    return DatasetSpec(source, str(root) if root else None, scheme, args.image_size or saved.get("image_size"))


def run_train(args: argparse.Namespace) -> int:
    context = from_environment()
    if args.algorithm == "finetune" and args.train_on_val:
        raise ValueError("--train-on-val is for meta-training; finetune pre-trains on the training classes: drop it")
    if args.backbone != "conv4" and args.algorithm != "protonet":
        raise ValueError(
            f"--backbone {args.backbone} is for Prototypical Networks; {args.algorithm} uses conv4: drop it"
        )
    if args.algorithm == "finetune" and (context.enabled or args.amp):
        raise ValueError(
            f"finetune pre-trains in one process without --amp: drop {'--amp' if args.amp else 'torchrun'}"
        )
    device = start(context, args.device)  # under torchrun: joins the process group
    try:
        check_precision(args.amp, device)  # before minutes of decoding a data set
        torch.manual_seed(args.seed)
        spec = dataset_spec(args)
        with main_first(context):  # one rank per node decodes and caches the data set, then the others read it
            dataset, roles = assign_roles(load_dataset(spec), seed=args.seed)
        announce(device, context)
        preprocessing = fitted_preprocessing(dataset.split_images(roles.train), bright_on_dark=spec.source != "folder")
        algorithm = ALGORITHMS[args.algorithm](preprocessing, **_settings(args)).to(device)
        if args.resume:
            algorithm = _resumed_model(algorithm, spec, args, context, device)
        resume_state, snapshots = None, ()
        if args.algorithm == "finetune":
            interrupted, training = _pretrain(algorithm, dataset, roles, args)
        else:
            interrupted, training, resume_state, snapshots = _meta_train(algorithm, dataset, roles, args, context)
        training |= {"device": device.type, "world_size": context.world_size}
    finally:
        stop(context)  # the tests and the checkpoint below are rank 0's alone
    if not context.is_main:
        return 130 if interrupted else 0
    test_episodes = args.test_episodes or default_episodes(dataset.name)
    tests = {}
    try:
        for n_way in args.test_ways or [None]:
            for n_shot in args.test_shots:
                key, tests[key] = held_out_test(algorithm, dataset, roles.test, n_shot, test_episodes, n_way)
    except KeyboardInterrupt:  # a second Ctrl-C skips the tests, never the save
        interrupted = True
    metadata = {
        # the root only when given: a found one is machine-specific, and eval finds it again
        "dataset": {**asdict(spec), "root": args.data_root, "split_scheme_used": dataset.split_scheme},
        "splits": asdict(roles),
        "training": {**training, "interrupted": interrupted, "seed": args.seed},
        "test_accuracy": tests,
    }
    weights, _ = save_checkpoint(args.out, algorithm, metadata, snapshots)
    if resume_state is not None:
        save_resume_state(args.out, resume_state)
    best = f" (best validation at step {training['best_step']})" if training.get("best_step") else ""
    print(
        f"\nsaved {weights}{best}; test on {roles.test}: "
        + (", ".join(f"{k} {100 * v['mean']:.1f} ± {100 * v['ci95']:.1f}%" for k, v in tests.items()) or "skipped")
    )
    return 130 if interrupted else DIVERGED if training.get("stopped_because") else 0


def _resumed_model(algorithm, spec: DatasetSpec, args: argparse.Namespace, context: DistributedContext, device):
    """The checkpoint's model, once its algorithm, settings, data and episodes are checked against the flags."""
    if args.algorithm == "finetune":
        raise ValueError("--resume continues meta-training; finetune pre-trains in one go: drop --resume")
    record = read_metadata(args.resume)
    training, data = record.get("training", {}), record.get("dataset", {})
    saved = {"algorithm": record["algorithm"], "settings": record.get("settings"),
             "dataset": data.get("source"), "image size": data.get("image_size"),
             "n_way": training.get("n_way"), "n_shot": training.get("n_shot"), "n_query": training.get("n_query"),
             "seed": training.get("seed"), "global meta-batch": training.get("global_meta_batch", 1),
             "train on val": training.get("trained_on", "").endswith("+val"),
             "within alphabet": training.get("within_alphabet", 0.0)}  # fmt: skip
    wanted = {"algorithm": args.algorithm, "settings": json.loads(json.dumps(algorithm.settings)),
              "dataset": spec.source, "image size": spec.image_size, "n_way": args.n_way, "n_shot": args.n_shot,
              "n_query": args.n_query, "seed": args.seed,
              "global meta-batch": args.meta_batch * context.world_size, "train on val": args.train_on_val,
              "within alphabet": args.within_alphabet}  # fmt: skip
    differ = [f"{key} {saved[key]!r} (flags: {wanted[key]!r})" for key in wanted if saved[key] != wanted[key]]
    if differ:
        raise ValueError(f"--resume {args.resume}: that run used other settings: {'; '.join(differ)}. "
                         "Pass the same flags as the first run, or train a new model without --resume")  # fmt: skip
    if not resume_path(args.resume).is_file():
        raise ValueError(f"--resume {args.resume}: {resume_path(args.resume).name} is missing beside it (only "
                         "`python -m core train` writes one); train a new model without --resume")  # fmt: skip
    resumed, _ = load_checkpoint(args.resume, device)
    return resumed.train()


def announce(device: torch.device, context: DistributedContext) -> None:
    if context.is_main:
        processes = f", {context.world_size} processes" if context.enabled else ""
        print(f"device: {describe_device(device)}{processes}", file=sys.stderr)


def _meta_train(algorithm, dataset, roles, args: argparse.Namespace, context: DistributedContext) -> tuple:
    split = training_split(roles, args)
    sampler = EpisodeSampler(dataset, split, args.n_way, args.n_shot, args.n_query, seed=args.seed,
                             within_alphabet=args.within_alphabet)  # fmt: skip
    # validate at the n_way the model is for: MAML's head, else the first --test-ways, else 5
    test_n_way = algorithm.settings.get("n_way") or (args.test_ways or [5])[0]
    validation = validation_sampler(dataset, roles, args.n_shot, 15, seed=args.seed + 1, n_way=test_n_way)
    config = TrainConfig(args.episodes, args.meta_batch, args.lr, args.lr_decay, args.lr_decay_every,
                         args.validate_every, args.val_episodes, args.amp, snapshots=args.snapshots,
                         keep_best=not args.train_on_val, clip_grad_norm=args.clip_grad_norm,
                         lr_schedule=args.lr_schedule, min_learning_rate=args.min_lr, anneal_from=args.anneal_from,
                         first_order_until=args.first_order_until,
                         multi_step_loss_until=args.multi_step_loss_until, augment=args.augment)  # fmt: skip
    run = train(algorithm, sampler, config, validation, context)
    if args.resume:
        saved = read_metadata(args.resume).get("training", {})
        best = (saved["best_step"], saved["best_val_accuracy"]) if saved.get("best_step") is not None else None
        run.resume(saved.get("episodes", 0), read_resume_state(args.resume), best)
    global_batch = args.meta_batch * context.world_size
    per_step = f", {global_batch} per step" if global_batch > 1 else ""
    if context.is_main:
        print(f"training {args.algorithm} on {dataset.name} ({dataset.split_scheme}), split {roles.train}: "
              f"{args.n_way}-way {args.n_shot}-shot {args.n_query}-query, {args.episodes} episodes{per_step}",
              file=sys.stderr)  # fmt: skip
    stopped_because = None
    try:
        interrupted = drive(_until(run, args.max_minutes), args.episodes, show=context.is_main)
    except FloatingPointError as error:  # raised before the step: the weights are the last good ones
        interrupted, stopped_because = False, f"non-finite loss: {error}"
        if context.is_main:
            print(f"\nstopped: {error} (for example --lr {args.lr / 10:g}); saving the last good weights. "
                  f"Continue with --resume {args.out} --lr {args.lr / 10:g}", file=sys.stderr)  # fmt: skip
    run.finish()
    resume_state = run.resume_state()  # the last weights, not the best validated ones finish() put back
    # a resumed run keeps the earlier sittings' snapshots from before its own first one
    first_new = run.snapshots[0].step if run.snapshots else run.step
    earlier = [s for s in load_snapshots(args.resume) if s.step < first_new] if args.resume else []
    return interrupted, {"n_way": args.n_way, "n_shot": args.n_shot, "n_query": args.n_query, "episodes": run.step,
                         "trained_on": sampler.split, "within_alphabet": args.within_alphabet,
                         "config": asdict(config), "best_step": run.best_step, "best_val_accuracy": run.best_accuracy,
                         "seconds": round(run.seconds, 1), "global_meta_batch": global_batch,
                         "stopped_because": stopped_because, "max_minutes": args.max_minutes,
                         "resumed_from": str(args.resume) if args.resume else None,
                         }, resume_state, (*earlier, *run.snapshots)  # fmt: skip


def training_split(roles, args: argparse.Namespace) -> str:
    """The split episodes are drawn from: the training classes, with the validation ones under --train-on-val."""
    return f"{roles.train}+{roles.val}" if args.train_on_val else roles.train


def _until(run, minutes: float | None):
    """The run's records until ``minutes`` have passed (all of them when None)."""
    deadline = None if minutes is None else time.monotonic() + 60 * minutes
    for record in run:
        yield record
        if deadline is not None and time.monotonic() > deadline:
            print(f"\nstopped after the {minutes:g} minutes asked for (--max-minutes); continue with --resume",
                  file=sys.stderr)  # fmt: skip
            return


def _pretrain(algorithm, dataset, roles, args: argparse.Namespace) -> tuple[bool, dict]:
    classes = len(dataset.classes_in(roles.train))
    print(f"pre-training on all {classes} classes of {roles.train} ({dataset.name}), {args.epochs} epochs",
          file=sys.stderr)  # fmt: skip
    record, interrupted = None, False
    try:
        for record in pretrain(algorithm, dataset, roles.train, args.epochs, args.batch_size, args.lr, args.seed):
            if record.step % 10 == 0 or record.step == record.steps:
                bar(record, record.steps, "", unit="batches")
    except KeyboardInterrupt:
        print("\ninterrupted: keeping the weights so far", file=sys.stderr)
        interrupted = True
    algorithm.eval()
    info = {"pretraining": {"classes": classes, "epochs": args.epochs, "batch_size": args.batch_size,
                            "learning_rate": args.lr, "batches": record.step if record else 0},
            "seconds": round(record.seconds, 1) if record else 0.0}  # fmt: skip
    validation = validation_sampler(dataset, roles, args.n_shot, 15, seed=args.seed + 1)
    if args.tune_adaptation and validation is not None and not interrupted:
        scores = choose_adaptation(algorithm, validation)
        info["adaptation_chosen_on_validation"] = {f"{steps} steps at {rate}": round(accuracy, 4)
                                                   for (steps, rate), accuracy in scores.items()}  # fmt: skip
        print(f"adaptation chosen on validation: {algorithm.test_steps} steps at {algorithm.inner_lr}", file=sys.stderr)
    return interrupted, info


def _settings(args: argparse.Namespace) -> dict:
    """Constructor settings of the chosen algorithm from its flags."""
    if args.algorithm == "maml":
        return {"n_way": args.n_way, "inner_lr": args.inner_lr, "train_steps": args.train_steps,
                "test_steps": args.test_steps, "first_order": args.first_order, "meta_sgd": args.meta_sgd,
                "test_inner_lr": args.test_inner_lr, "per_step_rates": args.per_step_rates,
                "per_step_batch_norm": args.per_step_batch_norm}  # fmt: skip
    if args.algorithm == "finetune":
        return {"inner_lr": args.inner_lr, "test_steps": args.test_steps}
    if args.algorithm == "relationnet":
        return {"loss": args.relation_loss, "train_shots": args.n_shot}
    return {"distance": args.distance, "backbone": args.backbone}

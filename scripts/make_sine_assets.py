"""Train the sine-wave pair the MAML regression page shows on arrival: MAML and joint training.

    python -m scripts.make_sine_assets [--steps 5000] [--meta-lr 0.003] [--snapshots 10]

Both 1-40-40-1 networks see the same tasks (``core.sinusoid.meta_train`` / ``joint_train``
with one ``SineTrainConfig``). Each is saved as ``assets/sine/<name>.safetensors`` with a JSON
beside it: the settings, steps, seconds, date and the grid MSE of both networks on held-out
tasks before adapting and after 1 and 10 steps (``core.sinusoid.mean_grid_mse``). The script
refuses to write a pair where MAML is not better than joint training after one step.

The weights at about ``--snapshots`` evenly spaced steps (the start and the end included) go into
the same file as ``snapshot.<step>.<name>`` tensors, their steps listed in the JSON: the page
replays training from them (``core.training.replay.sine_fits``). Each snapshot is 7 KB.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from core.checkpoints import snapshot_tensors
from core.sinusoid import SineTrainConfig, joint_train, mean_grid_mse, meta_train, regressor
from core.training.snapshots import Snapshot, SnapshotKeeper

OUT = Path(__file__).resolve().parents[1] / "assets" / "sine"
FORMAT = "meta-learning-playground/sine-regressor-v1"
HELD_OUT_TASKS, HELD_OUT_SEED, HELD_OUT_STEPS = 100, 10_000, (0, 1, 10)
TRAINERS = {"maml": meta_train, "joint": joint_train}


def train(name: str, config: SineTrainConfig, snapshots: int) -> tuple[torch.nn.Module, dict, tuple[Snapshot, ...]]:
    """One network trained by ``name``'s loop; the model, what its JSON records about the run, and its snapshots."""
    model = regressor(config.seed)
    keeper = SnapshotKeeper(snapshots, config.steps)
    keeper.offer(0, model)
    for last in TRAINERS[name](model, config):
        keeper.offer(last.step, model)
    keeper.finish(last.step, model)
    run = {"steps": last.step, "seconds": round(last.seconds, 1), "final_query_mse": round(last.loss_after, 4)}
    return model, run, keeper.snapshots


def held_out_record(config: SineTrainConfig, grid_mse: dict) -> dict:
    """How the pair was judged: the held-out tasks and both networks' grid MSE after each step count."""
    return {"tasks": HELD_OUT_TASKS, "seed": HELD_OUT_SEED, "n_shot": config.n_shot, "steps": list(HELD_OUT_STEPS),
            "grid_mse": grid_mse}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--meta-lr", type=float, default=0.003)
    parser.add_argument("--snapshots", type=int, default=10, help="weights kept along the way (at least 2)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = SineTrainConfig(steps=args.steps, meta_lr=args.meta_lr)
    trained = {name: train(name, config, args.snapshots) for name in TRAINERS}
    held_out = {name: [round(v, 4) for v in mean_grid_mse(model, config.n_shot, HELD_OUT_STEPS, HELD_OUT_TASKS,
                                                             HELD_OUT_SEED)]
                for name, (model, _, _) in trained.items()}  # fmt: skip
    if held_out["maml"][1] >= held_out["joint"][1]:
        raise SystemExit(f"MAML is not better than joint training after 1 step: {held_out}; train longer")
    args.out.mkdir(parents=True, exist_ok=True)
    date = datetime.date.today().isoformat()
    for name, (model, run, snapshots) in trained.items():
        state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
        save_file(state | snapshot_tensors(snapshots), str(args.out / f"{name}.safetensors"))
        metadata = {
            "format": FORMAT,
            "trainer": name,
            "made_by": "python -m scripts.make_sine_assets "
            + f"--steps {args.steps} --meta-lr {args.meta_lr} --snapshots {args.snapshots}",
            "network": "1-40-40-1 ReLU (core.sinusoid.regressor)",
            "config": dataclasses.asdict(config),
            **run,
            "threads": 1,
            "date": date,
            "held_out": held_out_record(config, held_out),
            "snapshots": {"steps": [snapshot.step for snapshot in snapshots], "dtype": "float32"},
        }
        (args.out / f"{name}.json").write_text(json.dumps(metadata, indent=2) + "\n")
        print(f"{name}: {run['steps']} steps in {run['seconds']} s, grid MSE {held_out[name]}", flush=True)


if __name__ == "__main__":
    main()

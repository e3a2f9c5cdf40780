import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from core.algorithms import PrototypicalNetworks
from core.checkpoints import load_checkpoint, read_metadata, read_resume_state
from core.cli.commands import DIVERGED, build_parser, main
from core.cli.progress import ProgressBar, drive
from core.training import Progress

ROOT = Path(__file__).resolve().parents[1]
SMALL_RUN = ["--dataset", "glyphs", "--n-way", "5", "--n-shot", "1", "--n-query", "2", "--validate-every", "4",
             "--val-episodes", "5", "--test-episodes", "10"]  # fmt: skip


def test_help_explains_every_flag():
    for command in ("train", "eval"):
        subparser = build_parser()._subparsers._group_actions[0].choices[command]
        for action in subparser._actions:
            assert action.help, f"{command} {action.option_strings} has no help"


@pytest.mark.slow
def test_train_then_eval_as_table_and_json(tmp_path, capsys):
    out = tmp_path / "model"
    assert main(["train", *SMALL_RUN, "--episodes", "8", "--out", str(out)]) == 0
    progress = capsys.readouterr().err
    assert "\r" not in progress  # stderr is not a terminal here: whole lines, the last one the last step
    assert re.search(r"^8/8 \(100%\) .*loss \d\.\d{3}, acc [\d.]+%, val [\d.]+%", progress, re.M), progress
    record = read_metadata(out)
    assert record["training"]["episodes"] == 8 and record["training"]["best_step"] in (4, 8)
    assert record["dataset"]["source"] == "glyphs" and record["splits"]["test"] == "evaluation"
    assert set(record["test_accuracy"]) == {"5-way 1-shot", "5-way 5-shot"}
    assert 0 <= record["test_accuracy"]["5-way 1-shot"]["mean"] <= 1
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(out), "--episodes", "6", "--n-way", "3"]) == 0
    table = capsys.readouterr().out
    assert "accuracy" in table and "n_way         3" in table
    assert main(["eval", "--checkpoint", str(out) + ".json", "--episodes", "6", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["episodes"] == 6 and result["n_way"] == 5 and 0 <= result["accuracy"] <= 1


def _records(steps: int, validate_every: int):
    for step in range(1, steps + 1):
        validated = step % validate_every == 0
        yield Progress(step, loss=1 / step, accuracy=step / steps, seconds=0.01 * step, learning_rate=1e-3,
                       val_accuracy=0.5 + step / 1000 if validated else None, best=validated)  # fmt: skip


LINE = re.compile(r"^(\d+)/200 \(\d+%\) \[.*(ep/s)\] loss \d\.\d{3}, acc \d+\.\d%(, val \d+\.\d%\*)?$")


def test_progress_off_a_terminal_is_one_line_per_5_percent_and_each_validation(capsys):
    assert drive(_records(200, validate_every=50), 200) is False
    err = capsys.readouterr().err
    assert "\r" not in err and err.endswith("\n")
    lines = err.splitlines()
    assert all(LINE.match(line) for line in lines), lines
    assert [int(LINE.match(line)[1]) for line in lines] == [1, *range(10, 201, 10)]  # 50, 100... are on the grid
    assert "val" not in lines[4] and lines[5].endswith("loss 0.020, acc 25.0%, val 55.0%*")  # step 40, then 50
    assert lines[-1].startswith("200/200 (100%)") and "acc 100.0%" in lines[-1]


def test_progress_shows_a_validation_as_soon_as_it_happens(capsys):
    drive(_records(200, validate_every=7), 200)
    steps = [int(LINE.match(line)[1]) for line in capsys.readouterr().err.splitlines()]
    assert set(range(7, 201, 7)) <= set(steps)  # off the 5% grid, still shown (a log shows every validation)


def test_progress_on_a_terminal_is_one_bar_redrawn_with_rate_and_postfix():
    screen = io.StringIO()
    with ProgressBar(200, file=screen, interactive=True) as progress:
        for record in _records(200, validate_every=50):
            progress.update(record)
    frames = screen.getvalue().split("\r")
    assert len(frames) > 2 and screen.getvalue().count("\n") == 1  # redrawn in place, one line left at the end
    assert re.search(r"200/200 \[.*ep/s, loss 0\.005, acc 100\.0%, val 70\.0%\*\]", frames[-1])


def test_progress_of_the_other_ranks_prints_nothing(capsys):
    assert drive(_records(20, validate_every=5), 20, show=False) is False
    assert capsys.readouterr().err == ""


def test_impossible_requests_are_reported_not_raised(tmp_path, capsys):
    assert main(["train", *SMALL_RUN, "--n-way", "5000", "--episodes", "1", "--out", str(tmp_path / "m")]) == 2
    assert "choose n_way <=" in capsys.readouterr().err
    assert main(["eval", "--checkpoint", str(tmp_path / "absent")]) == 2
    assert "absent.json is missing" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT semantics")
def test_ctrl_c_keeps_the_best_checkpoint_so_far(tmp_path):
    out = tmp_path / "interrupted"
    command = [sys.executable, "-m", "core", "train", *SMALL_RUN, "--episodes", "100000", "--out", str(out)]
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    seen = ""
    deadline = time.monotonic() + 300  # generous: CI machines may be busy
    while not re.search(r"val \d", seen) and time.monotonic() < deadline:  # a first validation
        seen += process.stderr.read(1)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=300)  # keep draining stderr: a child blocked on a full pipe never exits
    assert process.returncode == 130
    record = read_metadata(out)
    assert record["training"]["interrupted"] is True
    assert record["training"]["best_step"] is not None and record["training"]["episodes"] >= 4


def test_maml_trains_from_the_cli_with_its_own_flags(tmp_path):
    out = tmp_path / "maml"
    flags = ["--algorithm", "maml", "--episodes", "4", "--meta-batch", "2", "--inner-lr", "0.1", "--train-steps", "2",
             "--test-steps", "3", "--first-order", "--test-shots", "1"]  # fmt: skip
    assert main(["train", *SMALL_RUN, *flags, "--out", str(out)]) == 0
    record = read_metadata(out)
    assert record["algorithm"] == "maml"
    assert record["settings"] == {"n_way": 5, "hidden": 64, "inner_lr": 0.1, "train_steps": 2, "test_steps": 3,
                                  "first_order": True, "meta_sgd": False, "test_inner_lr": None}  # fmt: skip
    assert set(record["test_accuracy"]) == {"5-way 1-shot"}


def test_relation_networks_train_from_the_cli_with_their_loss(tmp_path):
    out = tmp_path / "relation"
    flags = ["--algorithm", "relationnet", "--relation-loss", "cross_entropy", "--episodes", "4", "--test-shots", "1"]
    assert main(["train", *SMALL_RUN, *flags, "--out", str(out)]) == 0
    record = read_metadata(out)
    assert record["algorithm"] == "relationnet" and record["settings"]["loss"] == "cross_entropy"


def _noise_folder(root: Path, size: int) -> Path:
    """Grayscale noise images in train/val/test class folders (5 classes each, 16 images a class: test's 1 + 15)."""
    generator = np.random.default_rng(0)
    for split in ("train", "val", "test"):
        for label in range(5):
            (root / split / f"c{label}").mkdir(parents=True)
            for index in range(16):
                pixels = generator.integers(0, 256, (size, size), dtype=np.uint8)
                Image.fromarray(pixels, mode="L").save(root / split / f"c{label}" / f"{index}.png")
    return root


def test_prototypical_networks_train_on_56_pixel_images_with_the_stride_two_backbone(tmp_path, capsys):
    out = tmp_path / "fine"
    data = ["--dataset", "folder", "--data-root", str(_noise_folder(tmp_path / "data", 56)), "--image-size", "56"]
    flags = ["--n-way", "5", "--n-shot", "1", "--n-query", "2", "--backbone", "conv4-stride2", "--episodes", "4",
             "--validate-every", "0", "--test-shots", "1", "--test-episodes", "2"]  # fmt: skip
    assert main(["train", *data, *flags, "--out", str(out)]) == 0
    model, record = load_checkpoint(out)
    assert record["settings"]["backbone"] == "conv4-stride2" and model.preprocessing.image_size == 56
    assert model.backbone.blocks[0][0].stride == (2, 2)
    capsys.readouterr()
    assert main(["train", *SMALL_RUN, "--algorithm", "maml", "--backbone", "conv4-stride2", "--episodes", "1",
                 "--out", str(tmp_path / "maml")]) == 2  # fmt: skip
    assert "--backbone conv4-stride2 is for Prototypical Networks" in capsys.readouterr().err


RESUMABLE = [*SMALL_RUN, "--validate-every", "0", "--test-episodes", "2", "--test-shots", "1"]


def _last_weights(out: Path) -> dict:
    return {k: v for k, v in read_resume_state(out).items() if k.startswith("model.")}


def test_a_resumed_run_equals_an_uninterrupted_one(tmp_path):
    assert main(["train", *RESUMABLE, "--episodes", "6", "--out", str(tmp_path / "whole")]) == 0
    assert main(["train", *RESUMABLE, "--episodes", "3", "--out", str(tmp_path / "half")]) == 0
    resumed = ["--episodes", "6", "--resume", str(tmp_path / "half"), "--out", str(tmp_path / "resumed")]
    assert main(["train", *RESUMABLE, *resumed]) == 0
    record = read_metadata(tmp_path / "resumed")
    assert record["training"]["episodes"] == 6 and record["training"]["resumed_from"] == str(tmp_path / "half")
    whole, again = read_resume_state(tmp_path / "whole"), read_resume_state(tmp_path / "resumed")
    assert set(whole) == set(again) and any(k.startswith("adam.") for k in whole)
    for key, value in whole.items():
        assert torch.allclose(value.float(), again[key].float(), atol=1e-6), key


def test_resume_refuses_flags_that_differ_from_the_first_run(tmp_path, capsys):
    assert main(["train", *RESUMABLE, "--episodes", "2", "--out", str(tmp_path / "first")]) == 0
    capsys.readouterr()
    flags = ["--n-way", "4", "--distance", "cosine", "--episodes", "4", "--resume", str(tmp_path / "first")]
    assert main(["train", *RESUMABLE, *flags, "--out", str(tmp_path / "second")]) == 2
    error = capsys.readouterr().err
    assert "that run used other settings" in error and "n_way 5 (flags: 4)" in error and "'cosine'" in error
    assert main(["train", *RESUMABLE, "--episodes", "2", "--resume", str(tmp_path / "first"),
                 "--out", str(tmp_path / "third")]) == 2  # fmt: skip
    assert "trained 2 steps already; ask for more with --episodes" in capsys.readouterr().err


def test_a_diverging_loss_saves_the_last_good_weights_and_advises_a_smaller_rate(tmp_path, capsys, monkeypatch):
    assert main(["train", *RESUMABLE, "--episodes", "3", "--out", str(tmp_path / "clean")]) == 0
    capsys.readouterr()
    calls, episode_loss = [], PrototypicalNetworks.episode_loss

    def blows_up_at_step_4(self, episode):  # the algorithm's loss, not the training loop, goes wrong
        loss, accuracy = episode_loss(self, episode)
        calls.append(1)
        return (loss * float("nan"), accuracy) if len(calls) == 4 else (loss, accuracy)

    monkeypatch.setattr(PrototypicalNetworks, "episode_loss", blows_up_at_step_4)
    assert main(["train", *RESUMABLE, "--episodes", "8", "--out", str(tmp_path / "diverged")]) == DIVERGED
    error = capsys.readouterr().err
    assert "smaller learning rate" in error and "--lr 0.0001" in error and "--resume" in error
    record = read_metadata(tmp_path / "diverged")
    assert record["training"]["stopped_because"].startswith("non-finite loss") and record["training"]["episodes"] == 3
    clean, diverged = _last_weights(tmp_path / "clean"), _last_weights(tmp_path / "diverged")
    assert all(
        torch.isfinite(v.float()).all() and torch.allclose(v.float(), clean[k].float()) for k, v in diverged.items()
    )
    model, _ = load_checkpoint(tmp_path / "diverged")
    assert all(torch.isfinite(v.float()).all() for v in model.state_dict().values())


def test_snapshots_are_saved_with_the_checkpoint_and_a_resumed_run_keeps_the_earlier_ones(tmp_path):
    from core.checkpoints import load_snapshots

    assert main(["train", *RESUMABLE, "--episodes", "8", "--snapshots", "3", "--out", str(tmp_path / "half")]) == 0
    assert [s.step for s in load_snapshots(tmp_path / "half")] == [0, 4, 8]
    resumed = [
        "--episodes",
        "16",
        "--snapshots",
        "3",
        "--resume",
        str(tmp_path / "half"),
        "--out",
        str(tmp_path / "all"),
    ]
    assert main(["train", *RESUMABLE, *resumed]) == 0
    steps = [s.step for s in load_snapshots(tmp_path / "all")]
    assert steps[:2] == [0, 4] and steps[-1] == 16 and steps == sorted(set(steps)), steps
    assert (
        load_snapshots(tmp_path / "half")[-1].state.keys() == load_checkpoint(tmp_path / "all")[0].state_dict().keys()
    )
    assert main(["train", *RESUMABLE, "--episodes", "2", "--out", str(tmp_path / "none")]) == 0
    assert load_snapshots(tmp_path / "none") == ()


def test_a_ctrl_c_that_lands_in_a_finaliser_still_stops_the_run_after_that_step():
    """Python prints and ignores a KeyboardInterrupt raised inside __del__; the flag drive() sets is not lost."""
    import gc

    from core.cli.progress import drive

    class PressesCtrlC:
        def __del__(self):
            signal.raise_signal(signal.SIGINT)

    def steps():
        for step in range(1, 11):
            if step == 3:
                PressesCtrlC()
                gc.collect()
            yield SimpleNamespace(step=step, loss=0.0, accuracy=0.0)
            seen.append(step)

    seen: list[int] = []
    assert drive(steps(), 10, show=False) is True
    assert seen == [1, 2]  # the step under way when Ctrl-C came was shown, then the run stopped


def test_train_on_val_draws_from_both_splits_and_keeps_the_last_weights_not_the_best(tmp_path, capsys):
    out = tmp_path / "trainval"
    assert main(["train", *SMALL_RUN, "--validate-every", "2", "--episodes", "6", "--train-on-val",
                 "--out", str(out)]) == 0  # fmt: skip
    record = read_metadata(out)
    assert record["training"]["trained_on"] == f"{record['splits']['train']}+val"
    assert record["training"]["config"]["keep_best"] is False
    model, _ = load_checkpoint(out)
    last = _last_weights(out)
    for key, value in model.state_dict().items():
        assert torch.equal(value, last[f"model.{key}"].to(value.dtype)), key
    capsys.readouterr()
    assert main(["train", *SMALL_RUN, "--validate-every", "2", "--episodes", "8",
                 "--resume", str(out), "--out", str(tmp_path / "again")]) == 2  # fmt: skip
    assert "train on val True (flags: False)" in capsys.readouterr().err


def test_maml_trains_with_every_antoniou_improvement_and_its_checkpoint_reloads_them(tmp_path, capsys):
    out = tmp_path / "maml_plus"
    flags = ["--algorithm", "maml", "--train-steps", "2", "--meta-batch", "2", "--per-step-rates",
             "--per-step-batch-norm", "--multi-step-loss-until", "3", "--first-order-until", "2",
             "--lr-schedule", "cosine", "--anneal-from", "1", "--test-shots", "1", "--test-episodes", "4"]  # fmt: skip
    assert main(["train", *SMALL_RUN, *flags, "--episodes", "4", "--out", str(out)]) == 0
    model, metadata = load_checkpoint(out)
    assert model.settings["per_step_rates"] and model.settings["per_step_batch_norm"]
    assert model.step_lrs.shape == (2, len(model.initial_params()))
    config = metadata["training"]["config"]
    keys = ("lr_schedule", "anneal_from", "first_order_until", "multi_step_loss_until")
    assert [config[key] for key in keys] == ["cosine", 1, 2, 3]
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(out), "--episodes", "3", "--json"]) == 0

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.checkpoints import read_metadata
from core.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
SMALL_RUN = ["--dataset", "glyphs", "--n-way", "5", "--n-shot", "1", "--n-query", "2", "--validate-every", "4",
             "--val-episodes", "5", "--test-episodes", "10"]  # fmt: skip


def test_help_explains_every_flag():
    for command in ("train", "eval"):
        subparser = build_parser()._subparsers._group_actions[0].choices[command]
        for action in subparser._actions:
            assert action.help, f"{command} {action.option_strings} has no help"


def test_train_then_eval_as_table_and_json(tmp_path, capsys):
    out = tmp_path / "model"
    assert main(["train", *SMALL_RUN, "--episodes", "8", "--out", str(out)]) == 0
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

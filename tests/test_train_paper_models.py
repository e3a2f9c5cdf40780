import argparse
import json
from pathlib import Path

from scripts.train_paper_models import annotate, command, improvements, runs


def _args(tmp_path: Path, **flags) -> argparse.Namespace:
    defaults = {"out": tmp_path, "episodes": 10, "minutes": 1.0, "test_episodes": 5, "device": "cpu",
                "data_root": None, "resume": False, "amp": False, "train_on_val": False, "anneal_from": 0,
                "antoniou": False}  # fmt: skip
    return argparse.Namespace(**{**defaults, **flags})


def test_a_sitting_passes_amp_and_train_on_val_to_the_cli_and_resumes_only_what_exists(tmp_path):
    run = runs()["protonet-60way-5shot"]
    plain = command("protonet-60way-5shot", run, _args(tmp_path))
    assert "--amp" not in plain and "--train-on-val" not in plain and "--resume" not in plain
    line = command("protonet-60way-5shot", run, _args(tmp_path, amp=True, train_on_val=True, resume=True))
    assert "--amp" in line and "--train-on-val" in line and "--resume" not in line  # nothing to resume yet
    (tmp_path / "protonet-60way-5shot.json").write_text("{}")
    resumed = command("protonet-60way-5shot", run, _args(tmp_path, resume=True))
    assert resumed[resumed.index("--resume") + 1] == str(tmp_path / "protonet-60way-5shot")


def test_the_json_names_train_on_val_among_the_improvements_only_when_used():
    assert improvements({"training": {"trained_on": "train"}}) == []
    assert improvements({}) == []
    assert "Snell" in improvements({"training": {"trained_on": "train+val"}})[0]


def test_relation_networks_clip_as_the_reference_code_and_the_json_says_so(tmp_path):
    line = command("relationnet-20way-1shot", runs()["relationnet-20way-1shot"], _args(tmp_path))
    assert line[line.index("--clip-grad-norm") + 1] == "0.5"
    used = improvements({"training": {"config": {"clip_grad_norm": 0.5}, "trained_on": "train"}})
    assert len(used) == 1 and "clipped at 0.5" in used[0]


def test_an_anneal_sitting_asks_the_cli_for_the_cosine_from_its_step_and_the_json_says_so(tmp_path):
    run = runs()["maml-5way-1shot"]
    assert "--lr-schedule" not in command("maml-5way-1shot", run, _args(tmp_path))
    line = command("maml-5way-1shot", run, _args(tmp_path, anneal_from=7385, episodes=11000))
    assert line[line.index("--lr-schedule") + 1] == "cosine" and line[line.index("--anneal-from") + 1] == "7385"
    assert line[line.index("--episodes") + 1] == "11000"
    config = {"lr_schedule": "cosine", "anneal_from": 7385, "episodes": 11000, "min_learning_rate": 1e-5}
    used = improvements({"training": {"config": config, "trained_on": "train"}})
    assert len(used) == 1 and "from step 7385 to 11000" in used[0] and "Antoniou" in used[0]
    assert improvements({"training": {"config": {**config, "lr_schedule": "step"}, "trained_on": "train"}}) == []


def test_a_sitting_records_the_minutes_it_trained_not_only_those_it_asked_for(tmp_path):
    path = tmp_path / "maml-20way-1shot.json"
    test = {"mean": 0.845, "ci95": 0.003, "episodes": 1000, "split": "test"}
    path.write_text(json.dumps({"training": {"seconds": 2584.6, "trained_on": "train"},
                                "test_accuracy": {"20-way 1-shot": test}}))  # fmt: skip
    earlier = {"device": "cuda", "minutes_asked": 4.5}
    record = annotate(path, "maml-20way-1shot", runs()["maml-20way-1shot"],
                      {"device": "cpu", "minutes_asked": 120, "exit_code": 130}, [earlier])  # fmt: skip
    assert record["paper"]["sittings"] == [earlier, {"device": "cpu", "minutes_asked": 120, "exit_code": 130,
                                                     "training_minutes": 43.1}]  # fmt: skip
    assert record["paper"]["cells"] == [{"n_way": 20, "n_shot": 1, "published": 95.8, "test": test}]
    assert json.loads(path.read_text()) == record


def test_antoniou_runs_ask_for_every_improvement_of_how_to_train_your_maml_and_the_json_names_them(tmp_path):
    args = _args(tmp_path, antoniou=True, episodes=6000)
    line = command("maml-20way-1shot", runs()["maml-20way-1shot"], args)
    assert "--per-step-rates" in line and "--per-step-batch-norm" in line
    assert line[line.index("--multi-step-loss-until") + 1] == "600" == line[line.index("--first-order-until") + 1]
    assert line[line.index("--lr-schedule") + 1] == "cosine" and line[line.index("--episodes") + 1] == "6000"
    first_order = command("fomaml-20way-1shot", runs()["fomaml-20way-1shot"], args)
    assert "--per-step-rates" in first_order and "--first-order-until" not in first_order
    assert "--per-step-rates" not in command("protonet-60way-1shot", runs()["protonet-60way-1shot"], args)
    record = {"settings": {"per_step_rates": True, "per_step_batch_norm": True}, "training": {"trained_on": "train",
              "config": {"multi_step_loss_until": 600, "first_order_until": 600}}}  # fmt: skip
    used = improvements(record)
    assert len(used) == 4 and all("Antoniou" in text for text in used)
    assert any("LSLR" in text for text in used) and any("BNWB" in text for text in used)

"""The host's limits: training runs, time and uploads per visit, and the public-demo mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.checkpoint_upload import load_uploaded
from app.server_limits import (
    PUBLIC_DEMO_LIMITS,
    TRAINING_SLOTS,
    ServerLimits,
    TrainingSlots,
    image_limits,
    limit_problem_text,
    read_limits,
)
from core.checkpoints import CheckpointError

ROOT = Path(__file__).resolve().parents[1]
ENTRY = str(ROOT / "streamlit_app.py")
PROTONET = "pages/2_Prototypical_Networks.py"
SINUSOID = "pages/4_MAML_regression.py"


def english(problems) -> list[str]:
    return [limit_problem_text(problem, "en") for problem in problems]


def test_without_settings_the_defaults_hold():
    limits, problems = read_limits({})
    assert limits == ServerLimits() and problems == []
    assert limits.folder_paths and limits.training_runs == 2 and limits.torch_threads >= 1


def test_public_demo_is_stricter_and_refuses_looser_overrides():
    limits, problems = read_limits({"PLAYGROUND_PUBLIC_DEMO": "yes", "PLAYGROUND_MAX_TRAINING_SECONDS": "60",
                                    "PLAYGROUND_MAX_TRAINING_EPISODES": "100000"})  # fmt: skip
    assert limits.public_demo and not limits.folder_paths
    assert limits.training_seconds == 60  # stricter than the demo's own: taken
    assert limits.training_episodes == PUBLIC_DEMO_LIMITS["training_episodes"]  # looser: refused, and said so
    assert english(problems) == [
        "PLAYGROUND_MAX_TRAINING_EPISODES=100000 is looser than the public demo allows; using 500"
    ]
    no_limit, problems = read_limits({"PLAYGROUND_PUBLIC_DEMO": "1", "PLAYGROUND_MAX_TRAINING_SECONDS": "0"})
    assert no_limit.training_seconds == PUBLIC_DEMO_LIMITS["training_seconds"] and len(problems) == 1


def test_unreadable_values_are_reported_and_the_default_kept():
    limits, problems = read_limits({"PLAYGROUND_MAX_TRAINING_RUNS": "two", "PLAYGROUND_TORCH_THREADS": "0",
                                    "PLAYGROUND_MAX_TRAINING_SECONDS": "0"})  # fmt: skip
    assert limits.training_runs == 2 and limits.torch_threads == ServerLimits().torch_threads
    assert limits.training_seconds == 0  # 0 s means no limit, and is allowed
    assert sorted(english(problems)) == [
        "PLAYGROUND_MAX_TRAINING_RUNS='two' is not a whole number of at least 1; using 2",
        f"PLAYGROUND_TORCH_THREADS='0' is not a whole number of at least 1; using {ServerLimits().torch_threads}",
    ]


def test_a_misspelt_public_demo_switch_errs_on_the_safe_side():
    limits, problems = read_limits({"PLAYGROUND_PUBLIC_DEMO": "ture"})
    assert limits.public_demo and "the public-demo mode is ON" in english(problems)[0]
    assert "公开演示模式" in limit_problem_text(problems[0], "zh")


def test_training_slots_admit_at_most_the_capacity():
    slots = TrainingSlots()
    assert slots.try_take(2) and slots.try_take(2) and not slots.try_take(2)
    slots.give_back()
    assert slots.running == 1 and slots.try_take(2)


def open_page(page: str, **query: object) -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = str(value)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def start_protonet_training(episodes: int) -> AppTest:
    at = open_page(PROTONET)
    at.radio(key="protonet_model_source").set_value("train now").run()
    at.number_input(key="protonet_train_episodes").set_value(episodes).run()
    at.number_input(key="protonet_train_n_way").set_value(5).run()
    at.button(key="protonet_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_run_stops_at_the_servers_time_limit_and_keeps_its_model(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_MAX_TRAINING_SECONDS", "1")
    at = start_protonet_training(episodes=20_000)
    assert at.radio(key="protonet_model_source").value == "trained in this session"
    warnings = [w.value for w in at.warning]
    assert any("1 s is this server's limit per run" in w and "selectable" in w for w in warnings), warnings
    assert TRAINING_SLOTS.running == 0


def test_a_visits_training_time_runs_out(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_MAX_SESSION_TRAINING_SECONDS", "1")
    at = start_protonet_training(episodes=20_000)
    assert any("this visit's 1 s of training is used up" in w.value for w in at.warning)
    at.radio(key="protonet_model_source").set_value("train now").run()
    at.button(key="protonet_train").click().run()
    assert any("This visit has used its 1 s of training" in w.value for w in at.warning), [w.value for w in at.warning]
    assert len(at.session_state["trained_models"]) == 1


def test_a_full_server_says_so_instead_of_training(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_MAX_TRAINING_RUNS", "1")
    assert TRAINING_SLOTS.try_take(1)  # another visitor's run
    try:
        at = start_protonet_training(episodes=3)
    finally:
        TRAINING_SLOTS.give_back()
    assert any("already running 1 training run, as many as its host allows" in w.value for w in at.warning)
    assert not at.session_state["trained_models"]  # made empty by the model picker
    assert "1 run at a time across all visitors" in " ".join(c.value for c in at.caption)


def test_the_regression_page_honours_the_time_limit(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_MAX_TRAINING_SECONDS", "1")
    at = open_page(SINUSOID)
    at.number_input(key="sine_steps").set_value(20_000).run()
    at.button(key="sine_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(w.value.startswith("Stopped after") and "1 s is this server's limit per run" in w.value
               for w in at.warning), [w.value for w in at.warning]  # fmt: skip


def train_with_broken_weights():
    """A page whose model starts with infinite weights: its first loss is not a number."""
    import torch

    from app.training_panel import training_panel
    from core.algorithms import PrototypicalNetworks
    from core.datasets import DatasetSpec, load_dataset
    from core.datasets.roles import assign_roles

    def broken(preprocessing, n_way, n_shot):
        model = PrototypicalNetworks(preprocessing)
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.fill_(float("inf"))
        return model

    dataset, roles = assign_roles(load_dataset(DatasetSpec("glyphs")))
    training_panel("broken", dataset, roles, broken)


def test_a_diverging_run_stops_with_advice_instead_of_a_traceback():
    at = AppTest.from_function(train_with_broken_weights, default_timeout=120).run()
    at.number_input(key="broken_train_n_way").set_value(5).run()
    at.button(key="broken_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = [w.value for w in at.warning]
    assert any("the loss became nan at step 1; try a smaller learning rate" in w for w in warnings), warnings
    assert TRAINING_SLOTS.running == 0


def test_public_demo_offers_no_folders_even_from_a_link(monkeypatch, tmp_path):
    monkeypatch.setenv("PLAYGROUND_PUBLIC_DEMO", "1")
    at = open_page("pages/1_Episodes.py", dataset="folder", folder=str(tmp_path))
    options = at.sidebar.selectbox(key="dataset").options
    assert "folder" not in options
    # the page's own default instead: Omniglot where it is present, else glyphs
    assert at.sidebar.selectbox(key="dataset").value == ("omniglot" if "omniglot" in options else "glyphs")
    assert any("opens no folders on its server" in c.value for c in at.sidebar.caption)
    assert any("dataset=folder, which is not a valid choice" in w.value for w in at.warning)


def test_public_demo_caps_checkpoint_uploads(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_PUBLIC_DEMO", "1")
    big = {"model.json": b"{}", "model.safetensors": b"\0" * (6 * 2**20)}
    with pytest.raises(CheckpointError, match="6.0 MB, over the 5 MB limit"):
        load_uploaded(big)


def test_public_demo_caps_image_uploads(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_PUBLIC_DEMO", "1")
    assert image_limits().max_file_bytes == 2_000_000
    monkeypatch.delenv("PLAYGROUND_PUBLIC_DEMO")
    assert image_limits().max_file_bytes == 10_000_000

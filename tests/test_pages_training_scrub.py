"""AppTest: the reusable scrub slider, and snapshots kept for a model trained in a page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import open_page
from streamlit.testing.v1 import AppTest

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def scrub_script() -> None:
    import streamlit as st

    from app.training_scrub import scrub_snapshots

    steps = st.session_state.get("steps", [0, 50, 100])
    scrub_snapshots(steps, lambda step: st.markdown(f"drawn at step {step}"), key="demo_scrub", label="step")


def drawn(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("drawn at")]


def test_the_scrub_slider_starts_at_the_last_step_and_draws_the_chosen_one():
    at = AppTest.from_function(scrub_script, default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    assert drawn(at) == ["drawn at step 100"]
    at.select_slider(key="demo_scrub").set_value(50).run()
    assert drawn(at) == ["drawn at step 50"]
    at.session_state["steps"] = [0, 7, 14]  # a new run: the old step is gone, so the slider goes to the end
    at.run()
    assert drawn(at) == ["drawn at step 14"] and at.select_slider(key="demo_scrub").value == 14


def test_the_scrub_slider_draws_nothing_without_steps():
    at = AppTest.from_function(scrub_script, default_timeout=30)
    at.session_state["steps"] = []
    at.run()
    assert not at.exception and not drawn(at) and not at.select_slider


def chart(at: AppTest, key: str) -> dict:
    return json.loads(next(c for c in at.get("plotly_chart") if key in c.proto.id).proto.spec)


def title(figure: dict) -> str:
    return figure["layout"]["title"]["text"]


def replay_captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption if c.value.startswith("Replay needs a model trained here")]


def test_a_model_trained_in_the_protonet_page_keeps_its_snapshots_and_replays_the_episode_map():
    at = open_page("pages/2_Prototypical_Networks.py")
    at.radio(key="protonet_model_source").set_value("train now").run()
    at.number_input(key="protonet_train_episodes").set_value(6).run()
    at.number_input(key="protonet_train_n_way").set_value(5).run()
    at.button(key="protonet_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    name = at.selectbox(key="protonet_session_model").value
    snapshots = at.session_state["protonet_snapshots"][name]
    assert [s.step for s in snapshots] == [0, 1, 2, 3, 4, 5, 6]
    assert not all((snapshots[0].state[k] == snapshots[-1].state[k]).all() for k in snapshots[0].state if "weight" in k)
    assert not [s for s in at.select_slider if s.key == "protonet_replay_step"]  # computed once opened
    at.session_state["protonet_replay_open"] = True  # the visitor opens "Replay training"
    at.run()

    slider = at.select_slider(key="protonet_replay_step")
    assert slider.options == [str(step) for step in range(7)] and slider.value == 6
    trained = chart(at, "protonet_replay_map")
    assert title(trained).startswith("Step 6: accuracy ") and not replay_captions(at)
    at.select_slider(key="protonet_replay_step").set_value(0).run()
    assert not at.exception, [e.value for e in at.exception]
    untrained = chart(at, "protonet_replay_map")
    assert title(untrained).startswith("Step 0: accuracy ")
    assert untrained["data"][-1]["x"] != trained["data"][-1]["x"]  # the points moved between the two steps


def test_the_shipped_models_replay_their_training_and_one_without_snapshots_says_how_to_get_it():
    at = open_page("pages/2_Prototypical_Networks.py")
    if at.radio(key="protonet_model_source").value != "shipped checkpoint":
        pytest.skip("no shipped Prototypical Networks checkpoint (make_assets has not run)")
    name = at.selectbox(key="protonet_shipped").value
    steps = json.loads((ASSETS / f"{name}.json").read_text())["snapshots"]["steps"]
    at.session_state["protonet_replay_open"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    slider = at.select_slider(key="protonet_replay_step")
    assert slider.options == [f"{step:,}" for step in steps] and slider.value == steps[-1] and len(steps) == 10
    assert title(chart(at, "protonet_replay_map")).startswith(f"Step {steps[-1]:,}: accuracy ")

    at.switch_page("pages/3_MAML.py").run()
    assert not at.exception, [e.value for e in at.exception]
    if at.radio(key="maml_model_source").value != "shipped checkpoint":
        return
    name = at.selectbox(key="maml_shipped").value
    steps = json.loads((ASSETS / f"{name}.json").read_text())["snapshots"]["steps"]
    at.session_state["maml_replay_open"] = True
    at.run()
    assert at.select_slider(key="maml_replay_step").options == [f"{step:,}" for step in steps]
    assert title(chart(at, "maml_replay_loss")).startswith(f"Step {steps[-1]:,}: query loss ")
    without = [n for n in at.selectbox(key="maml_shipped").options if n.startswith("fomaml")]
    at.selectbox(key="maml_shipped").set_value(without[0]).run()  # first-order MAML is shipped without snapshots
    assert not at.exception, [e.value for e in at.exception]
    assert len(replay_captions(at)) == 1
    assert not [s for s in at.select_slider if s.key == "maml_replay_step"]


def test_a_maml_model_trained_in_the_page_replays_the_inner_loop_at_each_kept_step():
    at = open_page("pages/3_MAML.py")
    at.radio(key="maml_model_source").set_value("train now").run()
    at.number_input(key="maml_train_episodes").set_value(3).run()
    at.button(key="maml_train").click().run()
    at.session_state["maml_replay_open"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    slider = at.select_slider(key="maml_replay_step")
    assert slider.options == ["0", "1", "2", "3"] and slider.value == 3
    trained = chart(at, "maml_replay_loss")
    assert title(trained).startswith("Step 3: query loss ") and len(trained["data"]) == 1
    at.select_slider(key="maml_replay_step").set_value(0).run()
    assert not at.exception, [e.value for e in at.exception]
    untrained = chart(at, "maml_replay_loss")
    assert title(untrained).startswith("Step 0: query loss ")
    assert [line["name"] for line in untrained["data"]] == ["from step 0", "from step 3 (last kept)"]
    assert untrained["data"][0]["y"] != trained["data"][0]["y"]
    assert untrained["data"][1]["y"] == trained["data"][0]["y"]  # the last step's curve, drawn again beside
    assert title(chart(at, "maml_replay_accuracy")).startswith("Step 0: query accuracy ")

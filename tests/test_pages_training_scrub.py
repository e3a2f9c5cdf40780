"""AppTest: the reusable scrub slider, and snapshots kept for a model trained in a page."""

from __future__ import annotations

from conftest import open_page
from streamlit.testing.v1 import AppTest


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


def test_a_model_trained_in_the_protonet_page_keeps_its_snapshots():
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

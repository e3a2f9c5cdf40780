"""AppTest: the MAML regression page trains both networks and compares them on a new task."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/4_MAML_regression.py"


def open_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def plotly_titles(at: AppTest) -> list[str]:
    return [json.loads(chart.proto.spec)["layout"].get("title", {}).get("text", "") for chart in at.get("plotly_chart")]


def trained_page() -> AppTest:
    at = open_page()
    at.number_input(key="sine_steps").set_value(60).run()
    at.button(key="sine_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_shows_the_shipped_pair_on_a_new_task_before_any_click():
    at = open_page()
    assert any("shipped pair" in info.value and "Meta-train" in info.value for info in at.info)
    titles = plotly_titles(at)
    assert any(t.startswith("MAML") for t in titles) and any(t.startswith("joint training") for t in titles)
    assert list(at.dataframe[0].value["steps"]) == [0, 1, 10]
    assert [m.label for m in at.metric] == ["MAML, MSE after 1 step", "joint training, MSE after 1 step"]


def test_page_asks_to_meta_train_when_no_pair_is_shipped(monkeypatch):
    import app.sinusoid_view as view

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    monkeypatch.setattr(view, "SHIPPED", ROOT / "no-such-folder")
    view.shipped_pair.clear()
    try:
        at.switch_page(PAGE).run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("Press **Meta-train**" in info.value for info in at.info)
        assert not at.get("plotly_chart") and not at.metric
    finally:
        view.shipped_pair.clear()


def test_meta_training_in_the_page_shows_the_comparison():
    at = trained_page()
    assert "Finished after 60 of 60 steps" in at.success[0].value
    titles = plotly_titles(at)
    assert any(t.startswith("Query MSE during training") for t in titles)
    assert any(t.startswith("MAML") for t in titles) and any(t.startswith("joint training") for t in titles)
    table = at.dataframe[0].value
    assert list(table["steps"]) == [0, 1, 10] and list(table.columns) == ["steps", "MAML MSE", "joint training MSE"]
    assert [m.label for m in at.metric] == ["MAML, MSE after 1 step", "joint training, MSE after 1 step"]
    assert any("Over 50 new tasks" in caption.value for caption in at.caption)

    at.button(key="sine_new_task").click().run()  # a rerun does not retrain: the same run is kept
    assert not at.exception and "Finished after 60 of 60 steps" in at.success[0].value
    at.radio(key="sine_n_shot").set_value(5).run()
    at.slider(key="sine_amplitude").set_value(0.5).run()
    at.slider(key="sine_phase").set_value(3.0).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("trained with K = 10" in info.value for info in at.info)
    spec = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert any(trace["name"] == "the 5 points (K)" for trace in spec["data"])


def test_no_step_count_chosen_is_explained():
    at = trained_page()
    at.multiselect(key="sine_fine_tune_steps").set_value([]).run()
    assert not at.exception and any("at least one number" in info.value for info in at.info)


def test_an_interrupted_run_is_kept_as_stopped():
    at = trained_page()
    run = at.session_state["sine_run"]
    del run["maml_records"][40:], run["joint_records"][40:], run["held_out"]
    run["finished"] = False  # what a Stop click leaves behind: the loop never reached its end
    at.session_state["sine_run"] = run
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Stopped after 40 of 60 steps" in at.success[0].value
    assert at.dataframe[0].value.shape == (3, 3)


def scrub_figure(at: AppTest) -> dict:
    return next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if json.loads(c.proto.spec)["layout"]["title"]["text"].startswith("At meta-iteration"))  # fmt: skip


def test_the_scrub_slider_replays_the_shipped_pairs_training():
    at = open_page()
    shipped = json.loads((ROOT / "assets" / "sine" / "maml.json").read_text())["snapshots"]["steps"]
    slider = at.select_slider(key="sine_scrub_step")
    assert list(slider.options) == [f"{step:,}" for step in shipped] and slider.value == shipped[-1]
    last = scrub_figure(at)
    assert last["layout"]["title"]["text"].startswith(f"At meta-iteration {shipped[-1]:,} of {shipped[-1]:,}")
    slider.set_value(shipped[1]).run()
    assert not at.exception, [e.value for e in at.exception]
    early = scrub_figure(at)
    assert early["layout"]["title"]["text"].startswith(f"At meta-iteration {shipped[1]:,} of")
    names = [trace["name"] for trace in early["data"]]
    assert any(name.startswith("MAML, after 1 step") for name in names)
    assert names != [trace["name"] for trace in last["data"]]  # the MSEs in the legend moved with the weights


def test_a_pair_trained_in_the_page_can_be_scrubbed_up_to_where_it_stopped():
    at = trained_page()
    assert at.select_slider(key="sine_scrub_step").value == 60
    run = at.session_state["sine_run"]
    steps = [snapshot.step for snapshot in run["snapshots"]["maml"]]
    assert steps[0] == 0 and steps[-1] == 60 and 2 < len(steps) <= 10
    assert [snapshot.step for snapshot in run["snapshots"]["joint"]] == steps
    assert len(run["snapshot_mse"]["maml"]) == len(steps)

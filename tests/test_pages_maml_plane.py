"""AppTest: MAML in 2-D draws the plane on arrival, and θ, α, the tasks and Step each change the figure."""

from __future__ import annotations

import base64
import json

import numpy as np
from conftest import open_page

PAGE = "pages/13_MAML_in_2D.py"


def values(data) -> np.ndarray:
    """A plotly array from the JSON spec (plotly stores numpy arrays as base64 ``bdata``)."""
    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), data["dtype"])
    return np.asarray(data, dtype=float)


def plane(at) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def trace_points(at, name: str) -> np.ndarray:
    trace = next(t for t in plane(at)["data"] if t.get("name") == name)
    return np.stack([values(trace["x"]), values(trace["y"])], axis=1)


def words(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**What you see.**"))


def test_the_plane_shows_tasks_theta_arrows_and_both_points_before_any_click():
    at = open_page(PAGE)
    figure = plane(at)
    assert "inner steps" in figure["layout"]["title"]["text"]
    names = {trace.get("name") for trace in figure["data"]}
    assert {"θ", "MAML's point", "joint training's point", "outer step ×3, second order (exact)",
            "outer step ×3, first order"} <= names  # fmt: skip
    assert sum(trace["type"] == "contour" for trace in figure["data"]) == 4
    np.testing.assert_allclose(trace_points(at, "θ"), [[3.5, 0.0]])
    assert "Why ★ is not ◆" in words(at)
    assert at.metric[0].value == "0 of 40"


def test_moving_theta_and_alpha_redraws_the_plane():
    at = open_page(PAGE)
    inner_before = trace_points(at, "θ′1 (task 1 after the inner steps)")
    at.slider(key="plane_x").set_value(2.0).run()
    assert not at.exception
    np.testing.assert_allclose(trace_points(at, "θ"), [[2.0, 0.0]])
    moved = trace_points(at, "θ′1 (task 1 after the inner steps)")
    assert not np.allclose(moved, inner_before)
    at.slider(key="plane_alpha").set_value(0.1).run()
    assert "α = 0.1" in words(at)
    assert not np.allclose(trace_points(at, "θ′1 (task 1 after the inner steps)"), moved)
    at.slider(key="plane_steps").set_value(3).run()
    assert len(trace_points(at, "θ′1 (task 1 after the inner steps)")) == 3


def test_step_meta_trains_one_outer_step_and_reset_returns_to_the_start():
    at = open_page(PAGE)
    at.button(key="plane_one").click().run()
    assert at.metric[0].value == "1 of 40"
    maml = trace_points(at, "MAML (meta-training)")
    assert len(maml) == 2 and not np.allclose(maml[1], [3.5, 0.0])
    np.testing.assert_allclose(trace_points(at, "θ"), maml[1:])
    assert len(at.get("plotly_chart")) == 2  # the loss curves appear after the first step
    at.button(key="plane_reset").click().run()
    assert at.metric[0].value == "0 of 40"
    np.testing.assert_allclose(trace_points(at, "θ"), [[3.5, 0.0]])


def test_play_runs_to_the_last_outer_step_and_ends_near_mamls_point():
    at = open_page(PAGE)
    at.button(key="plane_play").click().run()
    assert at.metric[0].value == "40 of 40"
    end = trace_points(at, "MAML (meta-training)")[-1]
    np.testing.assert_allclose(end, trace_points(at, "MAML's point")[0], atol=0.05)
    np.testing.assert_allclose(trace_points(at, "joint training")[-1],
                               trace_points(at, "joint training's point")[0], atol=0.05)  # fmt: skip


def test_other_task_families_explain_themselves():
    at = open_page(PAGE)
    at.selectbox(key="plane_family").set_value("equal_bowls").run()
    assert "(1 − α)^1 = 0.60" in words(at)
    at.selectbox(key="plane_family").set_value("wells").run()
    assert not at.exception and "Non-convex" in words(at)
    names = {trace.get("name") for trace in plane(at)["data"]}
    assert "MAML's point" not in names  # no closed form for the wells: the paths show where training ends
    assert at.slider(key="plane_alpha").value == 1.5  # the family's own α


def test_too_large_a_beta_stops_play_with_a_warning_not_an_error():
    at = open_page(PAGE)
    at.slider(key="plane_beta").set_value(5.0).run()
    at.button(key="plane_play").click().run()
    assert not at.exception
    assert any("diverged at outer step" in warning.value for warning in at.warning)
    assert at.metric[0].value != "40 of 40"


def test_the_page_reads_chinese_with_lang_zh():
    at = open_page(PAGE, lang="zh")
    assert at.title[0].value == "二维 MAML"
    figure = plane(at)
    assert figure["layout"]["title"]["text"] == "四个任务、θ、各任务的内循环步与 MAML 的外循环步"
    names = {trace.get("name") for trace in figure["data"]}
    assert {"MAML 的终点", "联合训练的终点", "外循环步 ×3，二阶（精确）", "外循环步 ×3，一阶",
            "θ′1（任务 1 经过内循环之后）"} <= names  # fmt: skip
    hovers = " ".join(trace.get("hovertemplate", "") for trace in figure["data"])
    assert "任务 1: 最小值点" in hovers and "点击把 θ 移到这里" in hovers and "<br>损失 " in hovers
    assert at.selectbox(key="plane_family").options == ["碗形，曲率各不相同", "碗形，曲率相同", "高斯井（非凸）"]
    assert at.metric[0].label == "外循环步" and at.metric[0].value == "0/40 步"
    assert any(m.value.startswith("**图中是什么。**") for m in at.markdown)
    at.button(key="plane_one").click().run()
    assert not at.exception
    losses = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert losses["layout"]["title"]["text"] == "每个外循环步上各任务的平均损失"
    assert [trace["name"] for trace in losses["data"]][:2] == ["MAML，内循环之后", "MAML，适应之前"]

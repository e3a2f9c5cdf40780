"""AppTest of the Relation Networks page: heat map, one query beside ProtoNet, diagram, formula, training here."""

from __future__ import annotations

import base64
import io
import json
from types import SimpleNamespace

import numpy as np
from conftest import colour_classes, open_page
from PIL import Image
from streamlit.testing.v1 import AppTest

from app.relation_view import FIRST_SCREEN_HEATMAP_PX

RELATION_PAGE = "pages/5_Relation_Networks.py"


def titles(at: AppTest) -> list[str]:
    return [json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "") for c in at.get("plotly_chart")]


def relation_with_model(**query: object) -> AppTest:
    """The page with its default model: the shipped one, or (before make_assets ran) a tiny one trained here."""
    at = open_page(RELATION_PAGE, **query)
    if at.radio(key="relation_model_source").value == "train now":
        at.number_input(key="relation_train_episodes").set_value(3).run()
        at.button(key="relation_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_heat_map_query_bars_protonet_distances_diagram_and_formula():
    at = relation_with_model(n_way=5, n_query=2)
    assert at.metric[0].label == "Query accuracy"
    found = titles(at)
    assert any(t.startswith("Relation scores, query × class") for t in found)
    assert any("relation scores (learned)" in t for t in found)
    assert any("distances of protonet-glyphs" in t for t in found)  # ProtoNet on the same episode
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    heatmap = next(spec for spec in specs if spec["data"][0]["type"] == "heatmap")
    scores = heatmap["data"][0]["z"]
    assert len(scores) == 10 and all(len(row) == 5 and all(0 <= v <= 1 for v in row) for row in scores)
    assert len(heatmap["layout"]["images"]) == 10 + 5  # a thumbnail per query row and per class column
    dot = at.get("graphviz_chart")[0].proto.spec
    assert "64×5×5" in dot and "128×5×5" in dot  # the shapes of this episode's tensors
    assert len(at.latex) >= 3


def test_choosing_another_query_updates_its_bars():
    at = relation_with_model(n_way=3, n_query=2)
    at.selectbox(key="relation_query").set_value(4).run()
    assert not at.exception and any(t.startswith("q4: relation scores") for t in titles(at))


def test_training_here_on_colour_images_with_cross_entropy(tmp_path):
    at = open_page(RELATION_PAGE, dataset="folder", folder=str(colour_classes(tmp_path)), n_way=3, n_query=2)
    at.radio(key="relation_loss").set_value("cross_entropy").run()
    at.radio(key="relation_model_source").set_value("train now").run()
    for key, value in (("relation_train_episodes", 3), ("relation_train_n_way", 3)):
        at.number_input(key=key).set_value(value).run()
    at.button(key="relation_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="relation_model_source").value == "trained in this session"
    dot = at.get("graphviz_chart")[0].proto.spec
    assert "3×84×84" in dot and "64×19×19" in dot and "64×3×3" in dot  # colour, 84 pixels: the paper's sizes


def test_formula_follows_the_code_and_the_learn_page_query_first_then_class():
    at = relation_with_model(n_way=3, n_query=2)
    latex = [e.value for e in at.latex]
    assert any(r"r_{i,k} = g_\phi\big(\mathcal{C}(C_k,\ f_\varphi(x_i))\big)" in v for v in latex)
    assert any(r"\big(r_{i,k} - \mathbf{1}(y_i = k)\big)^2" in v for v in latex)
    assert not any("r_{i,j}" in v for v in latex)
    query = at.selectbox(key="relation_query").value
    assert any(f"r_{{{query},0}} = " in v for v in latex)  # this query's score for class 0


def metric(at: AppTest, label: str) -> float:
    return float(next(m for m in at.metric if m.label == label).value)


def values(data: list | dict) -> np.ndarray:
    """A plotly JSON array: a list, or numpy's bytes (plotly >= 6 stores arrays as base64 with their dtype)."""
    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), data["dtype"])
    return np.asarray(data)


def chart(at: AppTest, title: str) -> dict:
    return next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "").startswith(title))  # fmt: skip


def test_probe_opens_on_the_pair_whose_two_orders_differ_most_and_marks_it_in_the_scatter():
    at = relation_with_model(n_way=5, n_query=2)
    forward, backward = metric(at, "r(a, b)"), metric(at, "r(b, a)")
    assert forward != backward and 0 <= forward <= 1 and 0 <= backward <= 1
    scatter = chart(at, "Every pair of this episode")
    probe = scatter["data"][-1]
    assert probe["text"] == ["r(a, b)", "r(b, a)"]
    np.testing.assert_allclose(probe["y"], [forward, backward], atol=6e-4)  # the metrics show 3 decimals
    assert probe["x"][0] == probe["x"][1]
    assert abs(probe["x"][0] - metric(at, "ProtoNet d(a, b) = d(b, a)")) < 6e-3  # shown with 2 decimals
    n_images = 5 + 10
    drawn = sum(len(values(trace["y"])) for trace in scatter["data"][1:3])
    assert drawn == n_images * (n_images - 1)  # every ordered pair of the episode
    assert any("the relation score is right" in m.value for m in at.markdown)


def test_picking_two_other_images_changes_the_scores_and_swapping_them_swaps_the_scores():
    at = relation_with_model(n_way=5, n_query=2)
    at.selectbox(key="relation_probe_a").set_value("s0").run()
    at.selectbox(key="relation_probe_b").set_value("q9").run()
    assert not at.exception, [e.value for e in at.exception]
    forward, backward = metric(at, "r(a, b)"), metric(at, "r(b, a)")
    at.selectbox(key="relation_probe_a").set_value("q9").run()
    at.selectbox(key="relation_probe_b").set_value("s0").run()
    assert (metric(at, "r(a, b)"), metric(at, "r(b, a)")) == (backward, forward)


def canvas_png() -> bytes:
    """A dark stroke on white, as the drawing canvas sends it."""
    picture = Image.new("RGB", (220, 220), "white")
    picture.paste((0, 0, 0), (60, 40, 80, 180))
    picture.paste((0, 0, 0), (60, 160, 170, 180))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_drawing_can_take_either_place_of_the_probe(monkeypatch):
    import app.relation_probe

    at = relation_with_model(n_way=3, n_query=2)
    at.selectbox(key="relation_probe_a").set_value("drawing").run()
    assert any(i.value.startswith("Draw on the canvas") for i in at.info)  # the canvas is still empty
    monkeypatch.setattr(app.relation_probe, "st_canvas", lambda key, **_: SimpleNamespace(
        json_data={"objects": [{"type": "path"}]}, image_bytes=canvas_png()))  # fmt: skip
    at.selectbox(key="relation_probe_b").set_value("s1").run()
    assert not at.exception, [e.value for e in at.exception]
    forward, backward = metric(at, "r(a, b)"), metric(at, "r(b, a)")
    assert 0 <= forward <= 1 and 0 <= backward <= 1
    probe = chart(at, "Every pair of this episode")["data"][-1]
    np.testing.assert_allclose(probe["y"], [forward, backward], atol=6e-4)


def test_twenty_way_heat_map_fits_the_first_screen_without_its_thumbnails():
    at = relation_with_model(n_way=20, n_query=3)
    assert at.toggle(key="relation_thumbnails_large").value is False  # 60 rows: images too small to read
    heatmap = chart(at, "Relation scores, query × class")
    assert heatmap["layout"]["height"] <= FIRST_SCREEN_HEATMAP_PX and not heatmap["layout"].get("images")
    at.toggle(key="relation_thumbnails_large").set_value(True).run()
    heatmap = chart(at, "Relation scores, query × class")
    assert len(heatmap["layout"]["images"]) == 60 + 20 and heatmap["layout"]["height"] <= FIRST_SCREEN_HEATMAP_PX


def test_the_page_reads_chinese_with_lang_zh_and_sends_its_images_inline():
    at = relation_with_model(lang="zh", n_way=3, n_query=2)
    assert at.title[0].value == "关系网络（Relation Networks）"
    assert at.metric[0].label == "查询集准确率"
    found = titles(at)
    assert any(t.startswith("关系得分（查询样本 × 类别）") for t in found), found
    assert any(t.endswith("：关系得分（学习得到）") for t in found), found
    assert "本任务中的每一对：学习得到的关系得分与原型网络的距离" in found
    heatmap = chart(at, "关系得分（查询样本 × 类别）")
    assert heatmap["layout"]["xaxis"]["ticktext"] == ["类别 0", "类别 1", "类别 2"]
    assert heatmap["data"][0]["hovertemplate"].startswith("查询样本 %{y} 与类别 %{x}")
    source = at.radio(key="relation_model_source")
    assert "现在训练" in source.options and source.value in ("shipped checkpoint", "trained in this session")
    assert "嵌入模块 f_φ" in at.get("graphviz_chart")[0].proto.spec
    (code,) = [e for e in at.expander if e.label == "代码"]
    assert any("# 每个查询样本对应一个类别编号" in block.value for block in code.code)
    urls = [picture.url for element in at.image for picture in element.proto.imgs]
    assert urls and all(url.startswith("data:image/png;base64,") for url in urls)  # no /media/ file to go stale

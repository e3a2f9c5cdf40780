"""The Prototypical Networks page in AppTest: pushing prototypes, the n_shot animation, explaining a mistake."""

from __future__ import annotations

import base64
import io
import json
import sys
from types import SimpleNamespace

import numpy as np
from conftest import open_page
from streamlit.testing.v1 import AppTest

PROTONET = "pages/2_Prototypical_Networks.py"
ROLES = ("regions", "dropped", "support", "outlier", "drawing", "query", "sampled", "prototype")


def charts(at: AppTest) -> dict[str, dict]:
    """Each plotly chart's spec by the start of its title."""
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    return {spec["layout"].get("title", {}).get("text", ""): spec for spec in specs}


def the_map(at: AppTest) -> dict:
    return next(spec for title, spec in charts(at).items() if title.startswith("Embeddings in 2-D by PCA"))


def values(array) -> np.ndarray:
    """A plotly array from a spec: a list, or plotly's base64 {"dtype", "bdata"} form."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), array["dtype"])
    return np.asarray(array)


def role(spec: dict, name: str) -> dict:
    return spec["data"][ROLES.index(name)]


def metric_delta(at: AppTest) -> str:
    return at.metric[0].proto.delta


def test_ticking_a_class_out_moves_the_map_the_accuracy_and_the_query_to_inspect():
    at = open_page(PROTONET)  # glyphs, 5-way 1-shot, the shipped model
    before = the_map(at)
    assert [trace["name"] for trace in before["data"]][:1] == ["decision regions"]
    assert len(values(role(before, "prototype")["x"])) == 5 and at.metric[0].value == "100.0%"
    assert not metric_delta(at)
    at.button_group(key="protonet_keep").set_value([0, 1, 3, 4]).run()  # class 2's only support image, ticked out
    assert not at.exception, [e.value for e in at.exception]
    after = the_map(at)
    assert list(role(after, "prototype")["text"]) == ["0", "1", "3", "4"]
    assert len(values(role(after, "dropped")["x"])) == 1 and "2" not in set(values(after["data"][0]["z"]).astype(str))
    assert at.metric[0].value == "80.0%" and metric_delta(at) == "-20% vs the episode as sampled"
    assert any("No prototype for class 2" in w.value for w in at.warning)
    assert at.selectbox(key="protonet_query").value == 10  # the first mistake: the first query of class 2
    assert any(e.label.startswith("Why q10 was given class") for e in at.expander)
    worked = [e.value for e in at.latex if e.value.lstrip("$\n").startswith("p(y = ")]
    assert any("p(y = 2 " in w for w in worked) and not all("p(y = 2 " in w for w in worked)


def test_an_outlier_joins_the_class_it_is_given_and_reset_restores_the_episode():
    at = open_page(PROTONET, n_shot=2)
    unseen = at.selectbox(key="protonet_outlier").options[0]
    assert unseen.startswith("unseen class:")
    at.selectbox(key="protonet_outlier_class").set_value(1).run()
    at.button(key="protonet_add_outlier").click().run()
    spec = the_map(at)
    assert len(values(role(spec, "outlier")["x"])) == 1 and values(role(spec, "outlier")["customdata"])[0][0] == "1"
    assert len(values(role(spec, "sampled")["x"])) == 1  # class 1's prototype moved, the others did not
    at.button(key="protonet_push_reset").click().run()
    spec = the_map(at)
    assert len(values(role(spec, "outlier")["x"])) == 0 and len(values(role(spec, "sampled")["x"])) == 0


def test_a_drawing_from_the_canvas_joins_its_class(monkeypatch):
    from PIL import Image, ImageDraw

    at = open_page(PROTONET)
    picture = Image.new("RGBA", (180, 180), "white")
    ImageDraw.Draw(picture).line((30, 30, 150, 150), fill="black", width=14)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    drawn = SimpleNamespace(json_data={"objects": [{"type": "path"}]}, image_bytes=buffer.getvalue(),
                            image_data=np.asarray(picture))  # fmt: skip
    monkeypatch.setattr(sys.modules["app.protonet_push"], "st_canvas", lambda **_: drawn)
    at.selectbox(key="protonet_drawing_class").set_value(3).run()
    at.button(key="protonet_add_drawing").click().run()
    assert not at.exception, [e.value for e in at.exception]
    drawing = role(the_map(at), "drawing")
    assert len(values(drawing["x"])) == 1 and values(drawing["customdata"])[0][0] == "3"
    assert any("Added: 0 outlier(s), 1 drawing(s)" in c.value for c in at.caption)


def test_the_shots_animation_runs_from_one_to_ten_shots_on_twenty_classes():
    at = open_page(PROTONET, n_way=20)
    spec = next(spec for title, spec in charts(at).items() if "shot(s) per class" in title)
    assert [frame["name"] for frame in spec["frames"]] == [str(k) for k in range(1, 11)]
    accuracies = values(spec["data"][len(ROLES)]["y"])
    assert len(accuracies) == 10 and accuracies[-1] >= accuracies[0]
    legend = [trace["name"] for trace in the_map(at)["data"]]
    assert len(legend) == len(ROLES)  # one entry per role, not per class and role
    colours = values(role(the_map(at), "prototype")["marker"]["color"])
    assert len(set(colours)) == 20


def test_the_map_stays_while_a_new_model_is_being_set_up_for_training():
    at = open_page(PROTONET)
    at.radio(key="protonet_model_source").set_value("train now").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(title.startswith("Embeddings in 2-D by PCA") for title in charts(at))
    assert any("kept while you train a new one" in c.value for c in at.caption)


def test_the_page_reads_chinese_with_lang_zh():
    at = open_page(PROTONET, lang="zh")
    assert at.title[0].value == "原型网络（Prototypical Networks）"
    titles = charts(at)
    the_map = next(spec for title, spec in titles.items() if title.startswith("嵌入的二维 PCA 图"))
    assert [trace["name"] for trace in the_map["data"]][:3] == ["决策区域", "已取消勾选", "支持样本"]
    assert "类别 %{customdata[0]}" in role(the_map, "prototype")["hovertemplate"]
    assert "到每个原型的欧氏距离平方" in titles and "各类别的概率" in titles
    assert at.metric[0].label == "本任务查询样本上的准确率"
    assert at.subheader[0].value == "更多样本：原型逐渐稳定"
    assert at.selectbox(key="protonet_query").options[0] == "q0：类别 0"


def test_the_images_on_the_map_come_back_when_a_big_episode_gives_way_to_a_small_one():
    at = open_page(PROTONET, n_way=20, n_shot=5)  # 20 x (5 + 15) points and 20 prototypes: images off
    assert at.toggle(key="protonet_thumbnails_large").value is False
    at.number_input(key="n_way").set_value(5).run()
    at.number_input(key="n_shot").set_value(1).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.toggle(key="protonet_thumbnails_small").value is True  # not left off by the big episode
    at.toggle(key="protonet_thumbnails_small").set_value(False).run()  # the visitor's choice for small episodes
    at.number_input(key="n_shot").set_value(2).run()
    assert at.toggle(key="protonet_thumbnails_small").value is False

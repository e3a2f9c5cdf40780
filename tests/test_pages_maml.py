"""AppTest of the MAML page: stepping the inner loop, many episodes, other starting points, training here."""

from __future__ import annotations

import json

from conftest import colour_classes, open_page
from streamlit.testing.v1 import AppTest

MAML_PAGE = "pages/3_MAML.py"


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def chart_traces(at: AppTest, key: str) -> list[str]:
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith(key) or key in c.proto.id)
    return [trace.get("name", "") for trace in json.loads(chart.proto.spec)["data"]]


def maml_with_model(**query: object) -> AppTest:
    """The page with its default model: the shipped one, or (before make_assets ran) a tiny one trained here."""
    at = open_page(MAML_PAGE, **query)
    if at.radio(key="maml_model_source").value == "train now":
        at.number_input(key="maml_train_episodes").set_value(3).run()
        at.button(key="maml_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_one_step_play_and_reset_walk_the_inner_loop():
    at = maml_with_model()
    assert metrics(at)["inner step"] == "0 of 5"
    at.button(key="maml_one").click().run()
    assert metrics(at)["inner step"] == "1 of 5"
    at.button(key="maml_one").click().run()
    assert metrics(at)["inner step"] == "2 of 5"
    at.button(key="maml_play").click().run()
    assert not at.exception and metrics(at)["inner step"] == "5 of 5"
    at.button(key="maml_one").click().run()  # past the end stays at the end
    assert metrics(at)["inner step"] == "5 of 5"
    at.button(key="maml_reset").click().run()
    assert metrics(at)["inner step"] == "0 of 5"
    assert len(at.image) == 1  # the 25 queries in one picture, each framed green or red
    assert any("Query predictions after step 0" in m.value and "wrong" in m.value for m in at.markdown)


def test_many_episodes_and_the_comparison_of_starting_points():
    at = maml_with_model()
    if at.radio(key="maml_model_source").value == "shipped checkpoint":  # MAML itself, not first-order
        assert at.selectbox(key="maml_shipped").value == "maml-glyphs"
    names = {t.get("name", "") for c in at.get("plotly_chart") for t in json.loads(c.proto.spec)["data"]}
    assert "mean of 20 episodes" in names and "mean ± 1 std" in names
    assert {"MAML's initialisation", "random initialisation"} <= names
    at.slider(key="maml_many_count").set_value(5).run()
    names = {t.get("name", "") for c in at.get("plotly_chart") for t in json.loads(c.proto.spec)["data"]}
    assert "mean of 5 episodes" in names
    assert len(at.latex) >= 2  # the inner and the outer update
    assert any("BatchNorm always uses the statistics of the batch" in c.value for c in at.caption)


def test_a_model_of_another_n_way_is_explained_and_one_click_fixes_it():
    at = maml_with_model(n_way=7)
    assert any("classifies 5-way episodes" in w.value for w in at.warning), [w.value for w in at.warning]
    at.button(key="maml_fix_n_way").click().run()
    assert not at.exception and at.number_input(key="n_way").value == 5
    assert metrics(at)["inner step"] == "0 of 5"


def test_training_here_with_maml_settings_and_a_pretrained_comparison(tmp_path):
    at = open_page(MAML_PAGE, dataset="folder", folder=str(colour_classes(tmp_path)), n_way=3, n_query=2)
    at.radio(key="maml_model_source").set_value("train now").run()
    for key, value in (("maml_train_episodes", 4), ("maml_train_n_way", 3), ("maml_meta_batch", 2),
                       ("maml_test_steps", 2)):  # fmt: skip
        at.number_input(key=key).set_value(value).run()
    at.toggle(key="maml_first_order").set_value(True).run()
    at.button(key="maml_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="maml_model_source").value == "trained in this session"
    assert "4 episodes" in at.selectbox(key="maml_session_model").value
    assert metrics(at)["inner step"] == "0 of 5"
    assert any("First-order" in c.value for c in at.caption)
    at.button(key="maml_pretrain").click().run()  # no shipped pre-trained network for a folder
    assert not at.exception, [e.value for e in at.exception]
    names = {t.get("name", "") for c in at.get("plotly_chart") for t in json.loads(c.proto.spec)["data"]}
    assert any(name.startswith("pre-trained (trained here") for name in names)


def test_update_chart_shows_each_layers_change_relative_to_its_size():
    at = maml_with_model()
    at.button(key="maml_one").click().run()
    chart = next(c for c in at.get("plotly_chart") if "maml_updates" in c.proto.id)
    layout = json.loads(chart.proto.spec)["layout"]
    assert layout["yaxis"]["title"]["text"] == "‖Δθ_layer‖ / ‖θ_layer‖"
    assert "relative to its size" in layout["title"]["text"]


def test_outer_update_names_what_is_learned():
    at = maml_with_model()
    latex = [e.value for e in at.latex]
    assert any(r"\theta \leftarrow \theta -" in v for v in latex)  # plain MAML: the initialisation only
    assert not any(r"\boldsymbol{\alpha})" in v for v in latex)


def curves(at: AppTest) -> dict:
    chart = next(c for c in at.get("plotly_chart") if "maml_curves" in c.proto.id)
    return json.loads(chart.proto.spec)


def test_alpha_slider_starts_at_the_meta_trained_alpha_and_a_large_one_makes_the_loss_grow():
    at = maml_with_model()
    slider = next(s for s in at.select_slider if s.key.startswith("maml_alpha_"))
    trained = float(slider.key.removeprefix("maml_alpha_"))
    assert slider.value == trained and "★" in slider.format_func(trained)
    assert "Why a large α diverges" in "".join(m.value for m in at.markdown)
    at.button(key="maml_play").click().run()
    start = metrics(at)
    names = [trace.get("name") for trace in curves(at)["data"]]
    assert not any("meta-trained" in (name or "") for name in names)  # no reference at the trained α itself
    slider.set_value(10.0).run()
    assert not at.exception, [e.value for e in at.exception]
    after = metrics(at)
    assert after["inner step"] == "5 of 5" and after["support loss"] != start["support loss"]
    figure = curves(at)
    assert figure["layout"]["title"]["text"].endswith("α = 10")
    assert any(f"at α = {trained:g} (meta-trained)" in (trace.get("name") or "") for trace in figure["data"])
    explanation = "".join(m.value for m in at.markdown)
    assert "the support loss grew at step" in explanation, explanation


def test_the_page_reads_chinese_with_lang_zh_and_its_query_picture_travels_inline():
    at = maml_with_model(lang="zh")
    assert at.title[0].value == "MAML：模型无关的元学习"
    assert [s.value for s in at.subheader][:2] == ["模型与任务", "同样的内循环，放到许多任务上看"]
    assert metrics(at)["内循环步"] == "0/5 步" and "支持集损失" in metrics(at)
    assert at.button(key="maml_one").label == "走一步" and at.button(key="maml_play").label == "播放"
    figure = curves(at)
    assert figure["layout"]["title"]["text"].endswith("时的每个内循环步")
    assert figure["layout"]["xaxis"]["title"]["text"] == "内循环步"
    support, query = figure["data"][0], figure["data"][1]
    assert (support["name"], support["line"]["dash"]) == ("支持集损失", "dot") and query["name"] == "查询损失"
    names = {t.get("name", "") for c in at.get("plotly_chart") for t in json.loads(c.proto.spec)["data"]}
    assert {"20 个任务的均值", "均值 ± 1 个标准差", "MAML 的初始化", "随机初始化"} <= names
    assert any(r"\text{支持集}" in e.value for e in at.latex) and any(r"\text{查询集}" in e.value for e in at.latex)
    assert any("第 0 步之后的查询预测" in m.value for m in at.markdown)
    assert any(i.value.startswith("第 0 步就是元学习得到的初始化本身") for i in at.info)
    urls = [picture.url for element in at.image for picture in element.proto.imgs]
    assert urls and all(url.startswith("data:image/png;base64,") for url in urls)  # no /media/ file to go stale

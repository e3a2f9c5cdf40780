"""AppTest of the Relation Networks page: heat map, one query beside ProtoNet, diagram, formula, training here."""

from __future__ import annotations

import json

from conftest import colour_classes, open_page
from streamlit.testing.v1 import AppTest

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
    assert at.metric[0].label == "Accuracy on this episode's queries"
    found = titles(at)
    assert any(t.startswith("Relation score of every query (rows) with every class") for t in found)
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

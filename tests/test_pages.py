"""AppTest: every page runs without an exception, and the Episodes page does what it says."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import colour_classes, open_page
from PIL import Image
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
EPISODES = "pages/1_Episodes.py"
LEARN = "pages/10_Learn_meta-learning.py"
SECTIONS = ["Start", "Algorithms", "Your data", "Compare and play", "Learn"]


def support_rows(at: AppTest) -> list[str]:
    """The Episodes page's class tiles' headings (HTML: "class k" and the name, on one line)."""
    return [m.value for m in at.markdown if 'class="mlp-class-name"' in m.value]


def support_captions(at: AppTest) -> list[str]:
    return [image.caption for image in at.image[0].proto.imgs]


def home_classes(at: AppTest) -> list[str]:
    """The class names on Home's probability bars (the episode's classes)."""
    return json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["x"]


def home_probabilities(at: AppTest) -> list[float]:
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    values = spec["data"][0]["y"]
    if isinstance(values, dict):  # plotly >= 6 stores arrays as base64
        values = np.frombuffer(base64.b64decode(values["bdata"]), values["dtype"])
    return [float(v) for v in values]


def test_home_opens_on_an_episode_answered_by_the_shipped_protonet():
    at = open_page()
    assert len(support_captions(at)) == 5 and support_captions(at) == [f"class {k}" for k in range(5)]
    assert len(at.image) == 2 and at.image[1].proto.imgs[0].caption.startswith("truly class ")
    probabilities = home_probabilities(at)
    assert len(probabilities) == 5 and abs(sum(probabilities) - 1) < 1e-4
    verdict = [s.value for s in at.success] + [e.value for e in at.error]
    assert len(verdict) == 1 and verdict[0].startswith(("Right: class", "Wrong: it said class"))
    assert at.query_params["episode"] == "0"
    algorithm_pages = {link.proto.page for link in at.main.get("page_link")}
    assert algorithm_pages == {"Prototypical_Networks", "MAML", "MAML_regression", "Relation_Networks"}


def test_home_new_episode_draws_other_classes_and_goes_into_the_url():
    at = open_page()
    first = home_classes(at)
    at.button(key="home_new_episode").click().run()
    assert not at.exception
    assert home_classes(at) != first
    assert at.query_params["episode"] == "1"


def test_a_home_link_reproduces_its_episode():
    shown = home_classes(open_page(episode=3))
    assert shown == home_classes(open_page(episode=3))
    assert shown != home_classes(open_page(episode=4))


def test_the_old_home_text_is_on_the_learn_page_not_home():
    home_text = " ".join(m.value for m in open_page().markdown)
    assert "Siamese" not in home_text and "Where to start" in [h.value for h in open_page().subheader]
    text = " ".join(m.value for m in open_page(LEARN).markdown)
    for member in ("Siamese", "Matching", "Prototypical", "Relation", "Memory-Augmented", "SNAIL", "MAML",
                   "Meta-SGD", "Reptile", "Learned optimisers"):  # fmt: skip
        assert member in text
    assert "base learner" in text and "meta-learner" in text and "Transfer learning" in text
    assert "playground always shows it" not in text and "the Compare page and the You vs the model game" in text


@pytest.mark.parametrize("page", [None, *PAGES])
def test_every_sidebar_links_every_page_by_title_under_section_captions(page):
    at = open_page(page, lang="en")
    links = at.sidebar.get("page_link")
    labels = [link.proto.label for link in links]
    assert labels[:2] == ["Home", "Episodes"] and len(labels) == len(PAGES) + 1
    assert not any("streamlit app" in label.lower() for label in labels)
    assert all(link.proto.icon.startswith(":material/") for link in links)
    assert {"Prototypical Networks", "MAML", "Relation Networks", "Your images", "Compare"} <= set(labels)
    captions = [c.value for c in at.sidebar.caption]
    assert [c for c in captions if c in SECTIONS] == SECTIONS
    assert all(link.proto.query_string == "lang=en" for link in links)


def test_sidebar_links_carry_nothing_when_the_url_has_no_lang():
    at = open_page(EPISODES, dataset="glyphs", n_way=3)
    assert all(link.proto.query_string == "" for link in at.sidebar.get("page_link"))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_an_exception(page):
    open_page(page)


def test_episode_shows_one_row_per_class_and_a_query_grid():
    at = open_page(EPISODES, dataset="glyphs")
    assert len(support_rows(at)) == 5
    assert len(at.image) == 5 + 1  # one strip per class, one grid of queries
    at.number_input(key="n_way").set_value(8).run()
    assert not at.exception
    assert len(support_rows(at)) == 8 and len(at.image) == 9


def test_new_episode_draws_other_classes():
    at = open_page(EPISODES, dataset="glyphs")
    before = support_rows(at)
    next(b for b in at.button if b.label == "New episode").click().run()
    assert at.number_input(key="episode").value == 1
    assert support_rows(at) != before


def test_a_link_reproduces_the_same_episode():
    link = {"dataset": "glyphs", "split": "background", "n_way": 4, "n_shot": 2, "n_query": 3, "seed": 9, "episode": 5}
    first, second = open_page(EPISODES, **link), open_page(EPISODES, **link)
    assert support_rows(first) == support_rows(second) and len(support_rows(first)) == 4
    assert "Episode 5 of seed 9 · split `background`" in first.caption[0].value
    other = open_page(EPISODES, **{**link, "episode": 6})
    assert support_rows(other) != support_rows(first)


def test_an_invalid_link_value_is_reported_not_crashed():
    at = open_page(EPISODES, dataset="glyphs", n_shot=0)
    assert any("n_shot=0" in w.value for w in at.warning)
    assert len(support_rows(at)) == 5


def test_more_ways_than_classes_says_what_to_change():
    at = open_page(EPISODES, dataset="glyphs", n_way=5000)
    assert "choose n_way <= 831" in at.error[0].value


def test_more_images_than_a_class_has_says_what_to_change():
    at = open_page(EPISODES, dataset="glyphs", n_query=30)
    assert "lower n_shot or n_query" in at.error[0].value


def _folder_page(path: Path) -> AppTest:
    return open_page(EPISODES, dataset="folder", folder=str(path))


def test_folder_that_does_not_exist(tmp_path):
    at = _folder_page(tmp_path / "missing")
    assert "is not a folder" in at.error[0].value


def test_folder_with_one_class(tmp_path):
    (tmp_path / "cats").mkdir()
    Image.new("RGB", (20, 20)).save(tmp_path / "cats" / "1.png")
    assert "only one class" in _folder_page(tmp_path).error[0].value


def test_folder_without_images(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "notes.txt").write_text("not an image")
    assert "no readable images" in _folder_page(tmp_path).error[0].value


def test_folder_of_colour_images_shows_an_episode(tmp_path):
    for name in ("red", "green", "blue"):
        (tmp_path / name).mkdir()
        for i in range(3):
            Image.new("RGB", (50, 40), {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255)}[name]).save(
                tmp_path / name / f"{i}.jpg"
            )
    (tmp_path / "red" / "readme.md").write_text("skip me")
    at = open_page(EPISODES, dataset="folder", folder=str(tmp_path), n_way=3, n_shot=1, n_query=2)
    assert not at.error and len(support_rows(at)) == 3
    assert any("1 files skipped" in e.label for e in at.expander)


def test_omniglot_is_offered_when_found(omniglot_path, monkeypatch):
    monkeypatch.setenv("OMNIGLOT_ROOT", str(omniglot_path))
    at = open_page(EPISODES, dataset="omniglot", split_scheme="vinyals", n_way=20)
    assert "split `test` (1692 classes to draw from)" in at.caption[0].value
    assert len(support_rows(at)) == 20


def test_episodes_opens_on_omniglot_when_it_is_found(omniglot_path, monkeypatch):
    monkeypatch.setenv("OMNIGLOT_ROOT", str(omniglot_path))
    at = open_page(EPISODES)
    assert at.selectbox(key="dataset").value == "omniglot"
    assert all("/character" in row for row in support_rows(at)) and len(support_rows(at)) == 5


def test_episodes_opens_on_glyphs_without_omniglot(monkeypatch, tmp_path):
    import app.datasets

    monkeypatch.setenv("OMNIGLOT_ROOT", str(tmp_path / "omniglot"))
    monkeypatch.setattr(app.datasets, "find_omniglot_root", lambda: None)
    at = open_page(EPISODES)
    assert at.selectbox(key="dataset").value == "glyphs" and "omniglot" not in at.selectbox(key="dataset").options
    assert len(support_rows(at)) == 5


def test_a_class_name_is_one_escaped_line_with_the_full_name_on_hover():
    from app.episode_view import class_label

    heading = class_label(3, 'Bengali/<b>"long"</b>')
    assert 'title="Bengali/&lt;b&gt;&quot;long&quot;&lt;/b&gt;"' in heading
    assert "white-space:nowrap" in heading and "text-overflow:ellipsis" in heading and "<b>" not in heading


PROTONET = "pages/2_Prototypical_Networks.py"


def plotly_titles(at: AppTest) -> list[str]:
    import json

    return [json.loads(chart.proto.spec)["layout"].get("title", {}).get("text", "") for chart in at.get("plotly_chart")]


def protonet_with_model(**query: object) -> AppTest:
    """The page with its default model: the shipped one, or (before make_assets ran) a tiny one trained here."""
    at = open_page(PROTONET, **query)
    if at.radio(key="protonet_model_source").value == "train now":
        at.number_input(key="protonet_train_episodes").set_value(4).run()
        at.button(key="protonet_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_protonet_page_explains_the_episode_with_a_model():
    at = protonet_with_model()
    assert not at.exception and at.metric[0].label == "Accuracy on this episode's queries"
    titles = plotly_titles(at)
    assert any(t.startswith("Embeddings in 2-D by") for t in titles)
    assert any("distance" in t for t in titles) and any("Probability" in t for t in titles)
    assert any("probabilities" in t for t in titles)  # the one-query bar chart
    assert len(at.latex) >= 3  # the prototype and softmax formulas, and this query's numbers


def test_protonet_map_is_pca_for_any_episode_and_tsne_only_when_chosen():
    large = protonet_with_model(n_way=5, n_query=10)
    assert any(t.startswith("Embeddings in 2-D by PCA") for t in plotly_titles(large))
    large.radio(key="protonet_map").set_value("tsne").run()
    assert any(t.startswith("Embeddings in 2-D by t-SNE") and "neighbourhood view" in t for t in plotly_titles(large))


def test_protonet_short_training_in_the_page_becomes_a_downloadable_session_model():
    at = open_page(PROTONET)
    at.radio(key="protonet_model_source").set_value("train now").run()
    at.number_input(key="protonet_train_episodes").set_value(6).run()
    at.number_input(key="protonet_train_n_way").set_value(5).run()
    at.button(key="protonet_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="protonet_model_source").value == "trained in this session"
    assert "6 episodes" in at.selectbox(key="protonet_session_model").value
    assert any(b.proto.label == "Download checkpoint" for b in at.get("download_button"))
    assert at.metric[0].label == "Accuracy on this episode's queries"


def test_protonet_works_on_a_folder_of_colour_images(tmp_path):
    at = open_page(PROTONET, dataset="folder", folder=str(colour_classes(tmp_path)), n_way=3, n_query=2)
    at.radio(key="protonet_model_source").set_value("train now").run()
    for key, value in (("protonet_train_episodes", 3), ("protonet_train_n_way", 3), ("protonet_train_n_shot", 1)):
        at.number_input(key=key).set_value(value).run()
    at.button(key="protonet_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.metric[0].label == "Accuracy on this episode's queries"


def test_protonet_training_settings_that_cannot_work_are_explained(tmp_path):
    at = open_page(PROTONET, dataset="folder", folder=str(colour_classes(tmp_path)), n_way=3, n_query=2)
    at.radio(key="protonet_model_source").set_value("train now").run()
    at.number_input(key="protonet_train_episodes").set_value(2).run()
    at.button(key="protonet_train").click().run()  # 20-way training, but only 7 training classes
    assert not at.exception
    assert any("Cannot train with these settings" in e.value and "choose n_way <= 7" in e.value for e in at.error), [
        e.value for e in at.error
    ]


def test_protonet_on_omniglot_uses_the_omniglot_checkpoint(omniglot_path, monkeypatch):
    monkeypatch.setenv("OMNIGLOT_ROOT", str(omniglot_path))
    at = open_page(PROTONET, dataset="omniglot", split_scheme="lake", n_way=5, n_shot=1)
    if at.radio(key="protonet_model_source").value != "shipped checkpoint":
        pytest.skip("assets/protonet-omniglot is not there (python -m scripts.make_assets makes it)")
    assert at.selectbox(key="protonet_shipped").value == "protonet-omniglot"
    assert at.metric[0].label == "Accuracy on this episode's queries"


def test_pages_open_on_held_out_classes_whatever_page_came_first():
    at = open_page(EPISODES)
    assert at.selectbox(key="split").value == "evaluation"
    at.switch_page(PROTONET).run()
    assert not at.exception and at.selectbox(key="split").value == "evaluation"


def protonet_map_spec(at: AppTest) -> dict:
    import json

    return json.loads(at.get("plotly_chart")[0].proto.spec)  # the map comes first on the page


def test_protonet_default_map_is_pca_with_regions_and_a_caption_that_counts_agreement():
    at = protonet_with_model()  # the default episode: 5-way 1-shot, 35 points
    assert at.radio(key="protonet_map").value == "pca"
    spec = protonet_map_spec(at)
    assert spec["layout"]["title"]["text"].startswith("Embeddings in 2-D by PCA")
    assert spec["data"][0]["type"] == "heatmap" and spec["data"][0]["name"] == "decision regions"
    captions = " ".join(c.value for c in at.caption)
    assert "regions of the projected prototypes" in captions and re.search(r"for \d+ of 25 queries", captions)
    assert "With one shot the prototype is the support image itself" in captions


def test_protonet_tsne_map_says_stars_are_not_means_and_draws_no_regions():
    at = protonet_with_model(n_shot=5)
    at.radio(key="protonet_map").set_value("tsne").run()
    spec = protonet_map_spec(at)
    assert all(trace["type"] == "scatter" for trace in spec["data"])
    captions = " ".join(c.value for c in at.caption)
    assert "neighbourhood view" in captions and "not the mean of its dots" in captions
    assert "With one shot" not in captions


def test_protonet_worked_example_is_for_the_predicted_class_and_the_true_one_when_wrong():
    at = protonet_with_model()
    query = len(at.selectbox(key="protonet_query").options) - 1  # the last query: of the last class, not class 0
    at.selectbox(key="protonet_query").set_value(query).run()
    latex = [e.value.strip("$\n") for e in at.latex]
    worked = [v for v in latex if v.startswith("p(y = ") and f"q_{{{query}}}" in v]
    label = at.selectbox(key="protonet_query").options[query]
    true = int(re.search(r"class (\d+)", label).group(1))
    if "misclassified" in label:
        assert len(worked) == 2 and worked[1].startswith(f"p(y = {true} ")
        assert not worked[0].startswith(f"p(y = {true} ")
    else:
        assert len(worked) == 1 and worked[0].startswith(f"p(y = {true} ")

"""AppTest: the three Learn pages render their sections, equations and links to existing pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.learn_text import section, section_names

ROOT = Path(__file__).resolve().parents[1]
MEANING, ALGORITHMS, APPLICATIONS = (
    "pages/10_Learn_meta-learning.py",
    "pages/11_Learn_algorithms.py",
    "pages/12_Learn_applications.py",
)
LEARN_PAGES = (MEANING, ALGORITHMS, APPLICATIONS)


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_text(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [box.value for box in at.info])


def url_name(page_file: Path) -> str:
    """The URL path Streamlit gives a file in pages/: the name without its number prefix."""
    return re.sub(r"[_ ]+", "_", re.sub(r"^[0-9]*[_ -]*", "", page_file.stem))


@pytest.fixture(scope="module")
def rendered() -> dict[str, AppTest]:
    return {page: open_page(page) for page in LEARN_PAGES}


@pytest.mark.parametrize("page", LEARN_PAGES)
def test_every_page_link_points_to_a_page_file_that_exists(rendered, page):
    existing = {url_name(path) for path in (ROOT / "pages").glob("*.py")}
    links = rendered[page].main.get("page_link")  # the sidebar's navigation is tested in test_pages.py
    assert links
    for link in links:
        assert link.proto.page_script_hash and link.proto.page in existing, link.proto.page
        assert link.proto.icon.startswith(":material/")


def test_meta_learning_page_tells_the_history_from_schmidhuber_1987(rendered):
    at = rendered[MEANING]
    assert at.title[0].value.startswith("Learn")
    history = next(m.value for m in at.markdown if "Schmidhuber" in m.value)
    assert "| 1987 | Jürgen Schmidhuber" in history
    rows = [line for line in history.splitlines() if re.match(r"\| (19|20)\d\d \|", line)]
    years = [int(row[2:6]) for row in rows]
    assert years == sorted(years) and years[0] == 1987 and years[-1] == 2021
    for name in ("Bengio", "Thrun", "Hochreiter", "Koch", "Santoro", "Vinyals", "Ravi", "Finn", "Snell", "Sung",
                 "Nichol", "Chen", "Tian", "Triantafillou", "Hospedales"):  # fmt: skip
        assert name in history


def test_meta_learning_page_explains_the_vocabulary_families_and_questions(rendered):
    at = rendered[MEANING]
    text = shown_text(at)
    for term in ("base learner", "meta-learner", "support set", "query set", "`n_way`", "`n_shot`", "`n_query`"):
        assert term in text
    assert [h.value for h in at.header] == [
        "Where it came from", "Three families", "Questions", "In short", "What each page shows"
    ]  # fmt: skip
    for family in ("#### Metric-based", "#### Model-based", "#### Optimisation-based"):
        assert family in text
    assert [e.label for e in at.expander] == [
        "How do I choose an algorithm?",
        "Why does meta-learning help with few samples?",
        "How are meta-learning and reinforcement learning related?",
    ]
    assert "RL²" in text and "Learning to reinforcement learn" in text and "half-cheetah" in text
    pages = {link.proto.page for link in at.main.get("page_link")}
    assert {"Compare", "Which_algorithm", "Learn_algorithms"} <= pages


def test_algorithms_page_has_principle_steps_equations_and_a_try_it_link_per_algorithm(rendered):
    at = rendered[ALGORITHMS]
    headers = [h.value for h in at.header]
    assert headers == ["Prototypical Networks", "Relation Networks", "MAML, first-order MAML and Meta-SGD", "Baselines"]
    equations = "\n".join(latex.value for latex in at.latex)
    assert r"c_k = \frac{1}{|S_k|}" in equations and r"\exp\big(-d(f_\varphi(x), c_k)\big)" in equations
    assert r"r_{i,k} = g_\phi" in equations and r"\mathbf{1}(y_i = k)\big)^2" in equations  # the MSE objective
    assert r"\theta'_i = \theta - \alpha" in equations and r"\nabla^2_\theta" in equations
    assert "first order" in equations and r"\boldsymbol{\alpha} \odot" in equations  # Meta-SGD's vector of rates
    assert "pixels" in equations and "pre-training" in equations
    text = shown_text(at)
    assert text.count("**Principle.**") == 3 and text.count("**Strengths.**") == 4
    assert text.count("**Weaknesses.**") == 4 and "1. " in text
    labels = [link.label for link in at.main.get("page_link")]
    assert all(label.startswith("Try it") for label in labels)
    pages = {link.proto.page for link in at.main.get("page_link")}
    assert {"Prototypical_Networks", "Relation_Networks", "MAML", "MAML_regression"} <= pages


def test_applications_page_ties_each_application_to_a_page_and_lists_resources(rendered):
    at = rendered[APPLICATIONS]
    assert [s.value for s in at.subheader][:3] == ["Medical image analysis", "Robotics and control", "Recommendation"]
    text = shown_text(at)
    assert "`root/<class>/<image>`" in text and "MeLU" in text
    libraries = next(m.value for m in at.markdown if "learn2learn" in m.value)
    for library in ("higher", "torchmeta", "easyfsl", "LibFewShot"):
        assert f"**{library}**" in libraries
    torchmeta = next(line for line in libraries.splitlines() if "**torchmeta**" in line)
    assert "No longer maintained" in torchmeta
    datasets = next(m.value for m in at.markdown if "| data set | size |" in m.value)
    for dataset in ("Omniglot", "mini-ImageNet", "tiered-ImageNet", "CUB-200-2011", "CIFAR-FS", "Meta-Dataset"):
        assert f"**{dataset}**" in datasets
    for challenge in ("across domains", "pre-training baselines", "second-order", "saturation", "calibration",
                      "task distribution", "in-context learning"):  # fmt: skip
        assert challenge in text
    pages = [link.proto.page for link in at.main.get("page_link")]
    assert {"Episodes", "Your_images", "MAML_regression"} <= set(pages)


def test_every_learn_section_is_shown_on_some_page(rendered):
    shown = "\n".join(shown_text(at) for at in rendered.values())
    missing = [name for name in section_names() if section(name) not in shown]
    assert not missing


@pytest.mark.parametrize("name", section_names())
def test_every_table_row_has_as_many_cells_as_its_header(name):
    """A bare "|" inside a cell (even in backticks) splits it and shifts the rest of the row."""
    rows = [line for line in section(name).splitlines() if line.startswith("|")]
    cells = [len(re.findall(r"(?<!\\)\|", row)) for row in rows]
    assert len(set(cells)) <= 1, [row for row, n in zip(rows, cells) if n != cells[0]]


def test_an_unknown_section_is_refused_with_the_names_there_are():
    with pytest.raises(ValueError, match=r"no Learn section named 'nope'; there are: .*history"):
        section("nope")


def test_meta_learning_page_says_where_the_tutorial_is_wrong(rendered):
    boxes = [box.value for box in rendered[MEANING].info]
    (box,) = [b for b in boxes if "differs from the tutorial" in b]
    assert "optimisation-based" in box and "squared Euclidean" in box and "interpretable" in box


def test_one_notation_on_every_page_varphi_embeds_and_phi_relates():
    from app import relation_view
    from app.i18n import text

    steps = [text(language, key) for language in ("en", "zh") for key in ("protonet.page.steps", "relation.steps")]
    texts = [section(name) for name in section_names()] + [*steps, relation_view.RELATION_SCORE]
    for shown in texts:
        assert "f_\\phi" not in shown and "g_\\varphi" not in shown and "r_{i,j}" not in shown
    assert "only difference from MAML" not in section("baselines") and "zero" in section("baselines")
    assert "\\nabla_{(\\theta, \\alpha)}" in section("maml_variants")

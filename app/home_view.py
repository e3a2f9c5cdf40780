"""Home's live episode: a support set, one query, and the shipped Prototypical Network's answer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from app.charts import show_chart
from app.datasets import cached_dataset
from app.i18n import t
from app.models import load_shipped, shipped_checkpoints
from app.page import carried_params
from core.datasets import DatasetSpec, find_omniglot_root
from core.episodes import Episode, EpisodeSampler
from core.figures.common import probability_bars
from core.figures.montage import display_scale, png_data_url, to_display
from core.preprocessing import adapt_episode

N_WAY, N_SHOT = 5, 1
SPLIT = "evaluation"  # classes the shipped models never saw in training
EPISODE_KEY = "home_episode"
ALGORITHM_PAGES = [  # (page, its name in the catalog's nav table, icon)
    ("pages/2_Prototypical_Networks.py", "protonet", ":material/scatter_plot:"),
    ("pages/3_MAML.py", "maml", ":material/timeline:"),
    ("pages/4_MAML_regression.py", "maml_regression", ":material/ssid_chart:"),
    ("pages/5_Relation_Networks.py", "relationnet", ":material/grid_on:"),
]  # fmt: skip


@dataclass(frozen=True)
class HomeAnswer:
    """One query of one episode and the model's class probabilities [n_way] for it."""

    episode: Episode
    query: int
    probabilities: np.ndarray

    @property
    def true_label(self) -> int:
        return int(self.episode.query_y[self.query])

    @property
    def predicted(self) -> int:
        return int(self.probabilities.argmax())


def _new_episode() -> None:
    st.session_state[EPISODE_KEY] += 1


def episode_index() -> int:
    """The episode number: from the URL on arrival, then from session state; written back to the URL."""
    if EPISODE_KEY not in st.session_state:
        raw = st.query_params.get("episode", "0")
        st.session_state[EPISODE_KEY] = int(raw) if raw.isdigit() else 0
        if not raw.isdigit():  # not report_unused_link_values: that would use up the link for the next page
            st.warning(t("home.bad_episode_link", raw=raw))
    index = st.session_state[EPISODE_KEY]
    st.query_params["episode"] = str(index)
    return index


def data_source() -> str:
    """glyphs, or Omniglot's evaluation alphabets when Omniglot is on disk and the link says ``dataset=omniglot``.

    Read from the URL, not a widget: a URL-bound widget here would claim ``dataset`` and the
    parameters beside it before the page a link points to could read them.
    """
    if st.query_params.get("dataset") == "omniglot" and find_omniglot_root():
        return "omniglot"
    return "glyphs"


def dataset_spec(source: str) -> DatasetSpec:
    return DatasetSpec("omniglot", str(find_omniglot_root())) if source == "omniglot" else DatasetSpec("glyphs")


def answer(source: str, index: int) -> HomeAnswer | None:
    """Episode ``index`` (seed 0) of the held-out classes, answered by the shipped ProtoNet; None if it is missing."""
    path = shipped_checkpoints("protonet").get(f"protonet-{source}")
    loaded = load_shipped(path) if path else None
    if loaded is None:
        st.info(t("home.no_model", source=source))
        return None
    model = loaded[0]
    with st.spinner(t("home.loading")):
        dataset = cached_dataset(dataset_spec(source))
    episode = EpisodeSampler(dataset, SPLIT, N_WAY, N_SHOT, n_query=1, seed=0).episode(index)
    query = index % N_WAY  # each new episode asks about another of its classes
    trace = model.explain(adapt_episode(episode, model.preprocessing))
    return HomeAnswer(episode, query, trace.probabilities[query].numpy())


def short_names(episode: Episode) -> list[str]:
    """Class names without their alphabet folder (Omniglot's are ``alphabet/character``)."""
    return [name.split("/")[-1] for name in episode.class_names]


def show_answer(result: HomeAnswer) -> None:
    """Support set, query, probabilities and the verdict, side by side."""
    episode = result.episode
    support, query, chart = st.columns([5, 1.4, 4], vertical_alignment="top")
    with support:
        st.markdown(t("home.support", n_way=episode.n_way))
        scale = display_scale(episode.support_x.shape[-1], target=56)
        st.image([png_data_url(image) for image in to_display(episode.support_x, scale)],
                 caption=[t("home.class", label=k) for k in range(episode.n_way)])  # fmt: skip
    with query:
        st.markdown(t("home.query"))
        scale = display_scale(episode.query_x.shape[-1], target=96)
        st.image(png_data_url(to_display(episode.query_x[result.query : result.query + 1], scale)[0]),
                 caption=t("home.truly", label=result.true_label))  # fmt: skip
    with chart:
        names = short_names(episode)
        title = t("home.chart_title")
        bars = probability_bars(result.probabilities, names, result.true_label, title, t("protonet.view.probability"))
        show_chart(bars, key="home_bars")
        confidence = f"{100 * result.probabilities[result.predicted]:.0f}%"
        if result.predicted == result.true_label:
            st.success(t("home.right", label=result.predicted, confidence=confidence), icon=":material/check_circle:")
        else:
            st.error(t("home.wrong", label=result.predicted, confidence=confidence, truth=result.true_label),
                     icon=":material/cancel:")  # fmt: skip


def new_episode_button() -> None:
    st.button(
        t("home.new_episode"), on_click=_new_episode, type="primary", icon=":material/casino:", key="home_new_episode"
    )


def algorithm_links() -> None:
    """One link into each algorithm page, keeping the visitor's language."""
    carried = carried_params() or None
    for column, (page, name, icon) in zip(st.columns(len(ALGORITHM_PAGES)), ALGORITHM_PAGES, strict=True):
        column.page_link(page, label=t(f"nav.{name}"), icon=icon, query_params=carried)

"""The sidebar controls that choose an episode, shared by every page that shows one."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app.datasets import split_control
from app.errors import explain
from app.i18n import t
from app.page import report_unused_link_values
from core.datasets import ClassDataset, DatasetSpec
from core.episodes import Episode, EpisodeSampler


@dataclass(frozen=True)
class EpisodeChoice:
    split: str
    n_way: int
    n_shot: int
    n_query: int
    seed: int
    index: int


def _next_episode() -> None:
    st.session_state["episode"] = st.session_state.get("episode", 0) + 1


def episode_controls(spec: DatasetSpec, dataset: ClassDataset, n_query_default: int = 5) -> EpisodeChoice:
    """Split, n_way, n_shot, n_query, seed and episode number; all bound to the URL."""
    split = split_control(dataset)
    sidebar = st.sidebar
    n_way = sidebar.number_input(t("controls.n_way"), min_value=2, value=5, key="n_way", bind="query-params")
    n_shot = sidebar.number_input(t("controls.n_shot"), min_value=1, value=1, key="n_shot", bind="query-params")
    n_query = sidebar.number_input(t("controls.n_query"), min_value=1, value=n_query_default, key="n_query",
                                   bind="query-params")  # fmt: skip
    seed = sidebar.number_input(t("controls.seed"), min_value=0, value=0, key="seed", bind="query-params")
    sidebar.button(t("home.new_episode"), on_click=_next_episode, type="primary", icon=":material/casino:")
    index = sidebar.number_input(t("controls.episode"), min_value=0, value=0, key="episode", bind="query-params")
    choice = EpisodeChoice(split, int(n_way), int(n_shot), int(n_query), int(seed), int(index))
    report_unused_link_values({"dataset": spec.source, **choice.__dict__, "episode": choice.index})
    return choice


def sample_or_explain(dataset: ClassDataset, choice: EpisodeChoice) -> Episode | None:
    """The chosen episode, or None after saying in the page what to change."""
    try:
        sampler = EpisodeSampler(dataset, choice.split, choice.n_way, choice.n_shot, choice.n_query, seed=choice.seed)
    except ValueError as error:
        st.error(t("controls.cannot_sample", reason=explain(error)))
        return None
    st.caption(t("controls.episode_caption", index=choice.index, seed=choice.seed, split=choice.split,
                 eligible=len(sampler.eligible), n_way=choice.n_way, n_shot=choice.n_shot,
                 n_query=choice.n_query))  # fmt: skip
    return sampler.episode(choice.index)

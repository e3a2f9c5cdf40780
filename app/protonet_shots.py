"""n_shot from 1 to 10 on the episode's classes: the prototypes settle and the accuracy rises."""

from __future__ import annotations

import streamlit as st

from app.algorithm_inputs import AlgorithmInputs
from app.charts import show_chart
from app.i18n import t
from app.protonet_push import episode_key, legend
from app.protonet_view import short_names, template
from core.algorithms.prototype_push import PushTrace, push_space, same_classes_episode, settle
from core.episodes import Episode
from core.figures.prototypes import shots_animation
from core.preprocessing import adapt_episode

STATE = "protonet_shots"
MAX_SHOTS = 10


def show_shots(inputs: AlgorithmInputs, episode: Episode) -> list[PushTrace] | None:
    """The animation below the map; returns its frames' traces (None when the classes are too small)."""
    st.subheader(t("protonet.shots.heading"))
    counts = [int(inputs.dataset.class_counts[c]) for c in episode.class_ids]
    max_shot = min(MAX_SHOTS, min(counts) - episode.n_query)
    if max_shot < 2:
        st.info(t("protonet.shots.too_few", n_query=episode.n_query))
        return None
    traces = _settled(inputs, episode, max_shot)
    st.caption(t("protonet.shots.intro", max_shot=max_shot, n_query=episode.n_query))
    figure = shots_animation(
        traces,
        list(short_names(episode.class_names)),
        legend(),
        template("protonet.shots.frame_title", n_shot="", accuracy=".0%"),
        t("protonet.shots.accuracy"),
        t("protonet.shots.play", max_shot=max_shot),
    )
    show_chart(figure, key="protonet_shots")
    st.caption(t("protonet.shots.summary", first=traces[0].accuracy, last=traces[-1].accuracy, max_shot=max_shot))
    return traces


def _settled(inputs: AlgorithmInputs, episode: Episode, max_shot: int) -> list[PushTrace]:
    """Computed once per episode and model in this session (the animation does not change with pushes)."""
    key = episode_key(inputs, episode)
    state = st.session_state.get(STATE)
    if state is None or state["key"] != key:
        model = inputs.model.algorithm
        more = adapt_episode(same_classes_episode(inputs.dataset, episode, max_shot), model.preprocessing)
        state = {"key": key, "traces": settle(push_space(model, more), max_shot)}
        st.session_state[STATE] = state
    return state["traces"]

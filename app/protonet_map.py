"""The Prototypical Networks page's key figure: the map, with the controls that push it beside it."""

from __future__ import annotations

import streamlit as st
import torch

from app.algorithm_inputs import AlgorithmInputs
from app.charts import show_chart
from app.i18n import t
from app.page import key_by_size
from app.protonet_push import accuracy_metric, draw_pushed_map, pushed_map
from app.protonet_view import (
    draw_embedding_map,
    map_method,
    pick_query,
    show_distances_and_probabilities,
    show_query,
)
from core.algorithms.protonet import PrototypeTrace
from core.algorithms.prototype_push import PushTrace, as_prototype_trace
from core.episodes import Episode

LAST_MAP = "protonet_last_map"


@st.fragment
def pushed_sections(inputs: AlgorithmInputs, episode: Episode, sampled: PrototypeTrace) -> None:
    """Everything a push changes, rerun on its own when a push control moves (the rest of the page waits):
    the map and its controls, the distances and probabilities, the inspected query and its formulas."""
    trace, support_images = show_map_section(inputs, episode, sampled)
    distance = inputs.model.algorithm.distance
    show_distances_and_probabilities(trace, distance)
    query = pick_query(trace, episode)
    show_query(trace, episode, query, distance, support_images)


def show_map_section(
    inputs: AlgorithmInputs, episode: Episode, sampled: PrototypeTrace
) -> tuple[PrototypeTrace, torch.Tensor]:
    """The map (left) and its controls (right); returns the pushed episode as the model's trace, with the
    images behind its support embeddings."""
    map_column, controls = st.columns([3, 2], gap="medium")
    with controls:
        metric = st.empty()
        left, right = st.columns([3, 2])
        method = map_method(left)
        n_points = len(sampled.support_y) + len(sampled.query_y)
        thumbnails = right.toggle(t("protonet.map.thumbnails"), value=n_points <= 150,
                                  key=key_by_size("protonet_thumbnails", n_points <= 150))  # fmt: skip
        if method == "tsne":
            perplexity = st.slider(t("protonet.view.perplexity"), 2, 50, 10, key="protonet_perplexity")
            regions = "plane"
        else:
            regions = st.radio(t("protonet.map.regions"), ["plane", "slice"], horizontal=True, key="protonet_regions",
                               format_func=lambda r: t(f"protonet.map.regions_{r}"),
                               help=t("protonet.map.regions_help"))  # fmt: skip
        pushed = pushed_map(inputs, episode, thumbnails, regions)
    trace = as_prototype_trace(pushed.trace, pushed.space, inputs.model.algorithm)
    with metric:
        accuracy_metric(pushed.trace, len(sampled.query_y), inputs.model.display_name)
    with map_column:
        if method == "tsne":
            draw_embedding_map(sampled, episode, method, perplexity, thumbnails)
            st.caption(t("protonet.map.tsne_note"))
        else:
            figure = draw_pushed_map(pushed, episode)
            st.session_state[LAST_MAP] = figure
            st.caption(push_caption(pushed.trace, regions, sampled.prototypes.shape[1], episode.n_shot))
    return trace, pushed.member_images


def push_caption(trace: PushTrace, regions: str, dim: int, n_shot: int) -> str:
    """What the map's shading means, with how often it agrees with the model's own answers."""
    text = t(f"protonet.map.{regions}", dim=dim, agree=trace.agreement, n_query=len(trace.query_y))
    return text + (t("protonet.map.one_shot") if n_shot == 1 else "")


def show_last_map_while_training() -> None:
    """While a model trains (the picker shows no model yet), the last map stays in view, said to be old."""
    figure = st.session_state.get(LAST_MAP)
    if figure is not None and st.session_state.get("protonet_model_source") == "train now":
        show_chart(figure, key="protonet_stale_map")
        st.caption(t("protonet.map.stale"))

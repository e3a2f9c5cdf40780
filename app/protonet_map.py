"""The Prototypical Networks page's key figure: the map, with the controls that push it beside it."""

from __future__ import annotations

import streamlit as st
import torch

from app.algorithm_inputs import AlgorithmInputs
from app.charts import show_chart
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
REGION_OPTIONS = {"plane": "nearest ★", "slice": "the model's, on the plane"}
TEXT = {
    "regions": "shaded regions",
    "regions_help": "Nearest ★: what the eye reads, each ★ in its own region. The model's decisions: measured in all "
    "dimensions, exact for an embedding lying in this plane (real queries lie off it).",
    "thumbnails": "images",
    "stale": "The map of the model shown before, kept while you train a new one.",
    "tsne_note": "t-SNE shows the episode as sampled; pushes show on the PCA map.",
    "one_shot": " With one shot the prototype is the support image itself (each ★ sits on its only ●): pick 5 "
    "shots to see a mean.",
    "plane": "PCA is linear, so each ★ is the mean of its ● here too, and the plane was fitted once to every "
    "embedding of this episode, so pushing never turns the map. Shaded: the regions of the projected prototypes "
    "(nearest ★ in this plane). The model measures in all {dim} dimensions; its answer is the marker (✕: wrong), "
    "and the shade under a query matches it only as far as two dimensions keep the geometry: here for {agree} of "
    "{n_query} queries.",
    "slice": "PCA is linear, so each ★ is the mean of its ● here too, and the plane was fitted once to every "
    "embedding of this episode. Shaded: the model's own decision, measured in all {dim} dimensions to the full "
    "prototypes, for an embedding lying in this plane: exact there. Real embeddings lie off the plane, so a ★ can "
    "sit outside its region, and the shade under a query matches the model's answer for {agree} of {n_query}.",
}


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
        thumbnails = right.toggle(TEXT["thumbnails"], value=n_points <= 150, key="protonet_thumbnails")
        if method == "tsne":
            perplexity = st.slider("t-SNE perplexity", 2, 50, 10, key="protonet_perplexity")
            regions = "plane"
        else:
            regions = st.radio(TEXT["regions"], list(REGION_OPTIONS), format_func=REGION_OPTIONS.get, horizontal=True,
                               key="protonet_regions", help=TEXT["regions_help"])  # fmt: skip
        pushed = pushed_map(inputs, episode, thumbnails, regions)
    trace = as_prototype_trace(pushed.trace, pushed.space, inputs.model.algorithm)
    with metric:
        accuracy_metric(pushed.trace, len(sampled.query_y), inputs.model.label)
    with map_column:
        if method == "tsne":
            draw_embedding_map(sampled, episode, method, perplexity, thumbnails)
            st.caption(TEXT["tsne_note"])
        else:
            figure = draw_pushed_map(pushed, episode)
            st.session_state[LAST_MAP] = figure
            st.caption(push_caption(pushed.trace, regions, sampled.prototypes.shape[1], episode.n_shot))
    return trace, pushed.member_images


def push_caption(trace: PushTrace, regions: str, dim: int, n_shot: int) -> str:
    """What the map's shading means, with how often it agrees with the model's own answers."""
    text = TEXT[regions].format(dim=dim, agree=trace.agreement, n_query=len(trace.query_y))
    return text + (TEXT["one_shot"] if n_shot == 1 else "")


def show_last_map_while_training() -> None:
    """While a model trains (the picker shows no model yet), the last map stays in view, said to be old."""
    figure = st.session_state.get(LAST_MAP)
    if figure is not None and st.session_state.get("protonet_model_source") == "train now":
        show_chart(figure, key="protonet_stale_map")
        st.caption(TEXT["stale"])

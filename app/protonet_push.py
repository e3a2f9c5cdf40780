"""Prototypes you can push: the PCA map beside the controls that change the support set."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch
from streamlit_drawable_canvas import st_canvas

from app.algorithm_inputs import AlgorithmInputs
from app.charts import show_chart
from app.errors import explain
from app.i18n import t
from app.protonet_view import short_names, template
from app.server_limits import image_limits
from app.your_images import CANVAS
from core.algorithms.prototype_push import (
    Push,
    PushSpace,
    PushTrace,
    outside_images,
    push,
    push_space,
)
from core.episodes import Episode
from core.figures.montage import display_scale, png_data_url, to_display
from core.figures.prototypes import prototype_map
from core.user import UserImageError, decode_image, prepare_for_model

STATE = "protonet_push"
EPISODE_WIDGETS = ("protonet_keep", "protonet_outlier", "protonet_outlier_class", "protonet_drawing_class")
N_UNSEEN = 4  # outlier candidates from classes outside the episode
LEGEND_KEYS = ("regions", "dropped", "support", "outlier", "drawing", "query", "sampled", "prototype", "hover_member",
               "hover_query", "none")  # fmt: skip


def legend() -> dict[str, str]:
    """The map's names of each role and its hover texts (``core.figures.prototypes``), in the visitor's language."""
    hover = {"role": "", "k": "", "name": "", "predicted": ""}
    return {key: template(f"protonet.legend.{key}", **hover) if key.startswith("hover") else t(f"protonet.legend.{key}")
            for key in LEGEND_KEYS}  # fmt: skip


@dataclass(frozen=True, eq=False)
class PushedEpisode:
    """A computed push with what drawing it needs: the space, the images behind the trace's members."""

    trace: PushTrace
    space: PushSpace
    member_images: torch.Tensor  # [M, C, H, W]
    thumbnails: bool


def episode_key(inputs: AlgorithmInputs, episode: Episode) -> tuple:
    """What identifies one episode under one model: a change of it resets the push."""
    return (
        id(inputs.model.algorithm),
        inputs.spec,
        inputs.choice.split,
        episode.class_ids,
        episode.seed,
        episode.index,
        episode.n_shot,
        episode.n_query,
    )


def _state(inputs: AlgorithmInputs, episode: Episode) -> dict:
    """This session's push of this episode, emptied (space recomputed, ticks restored) when the episode changes."""
    key = episode_key(inputs, episode)
    state = st.session_state.get(STATE)
    if state is None or state["key"] != key:
        for widget in EPISODE_WIDGETS:  # their values index this episode's images and classes
            st.session_state.pop(widget, None)
        extra_x, extra_names = outside_images(
            inputs.dataset, inputs.choice.split, episode.class_ids, N_UNSEEN, episode.seed * 100_003 + episode.index
        )
        extra_x = _model_form(extra_x, inputs)
        space = push_space(inputs.model.algorithm, episode, extra_x)
        state = {
            "key": key,
            "space": space,
            "extra_x": extra_x,
            "extra_names": extra_names,
            "outliers": [],
            "drawings": [],
            "drawing_y": [],
            "canvas": 0,
        }
        st.session_state[STATE] = state
    return state


def _model_form(images: torch.Tensor, inputs: AlgorithmInputs) -> torch.Tensor:
    preprocessing = inputs.model.algorithm.preprocessing
    target = (preprocessing.channels, preprocessing.image_size, preprocessing.image_size)
    if tuple(images.shape[1:]) == target:
        return images
    return preprocessing.prepare(images) if len(images) else images.new_zeros((0, *target))


def pushed_map(inputs: AlgorithmInputs, episode: Episode, thumbnails: bool, regions: str) -> PushedEpisode:
    """The controls (in the current column) and the push they describe, computed."""
    state = _state(inputs, episode)
    space: PushSpace = state["space"]
    names = list(short_names(episode.class_names))
    support, outlier, draw = st.tabs(
        [t("protonet.push.tab_support"), t("protonet.push.tab_outlier"), t("protonet.push.tab_draw")]
    )
    with support:
        kept = _support_ticks(episode)
    with outlier:
        _outlier_picker(state, episode, names)
    with draw:
        _drawing_pad(state, inputs, names)
    if state["outliers"] or state["drawings"] or not all(kept):
        st.button(t("protonet.push.reset"), key="protonet_push_reset", on_click=_reset, args=(len(kept),))
    drawings = inputs.model.algorithm.embed(torch.cat(state["drawings"])) if state["drawings"] else None
    change = Push(kept=tuple(kept), outliers=tuple(state["outliers"]))
    trace = push(space, change, drawings, torch.tensor(state["drawing_y"], dtype=torch.long), regions=regions)
    return PushedEpisode(trace, space, _member_images(state, episode, kept), thumbnails)


def _reset(n_support: int) -> None:
    """Back to the episode as sampled (a callback: it runs before the widgets exist)."""
    st.session_state[STATE].update(outliers=[], drawings=[], drawing_y=[])
    st.session_state["protonet_keep"] = list(range(n_support))


def _support_ticks(episode: Episode) -> list[bool]:
    """One pill per support image (class, or class·shot), all ticked at first; returns a flag per image."""
    n_shot, n_support = episode.n_shot, len(episode.support_y)
    label = (lambda i: f"{i}") if n_shot == 1 else (lambda i: f"{i // n_shot}·{i % n_shot + 1}")
    chosen = st.pills(t("protonet.push.keep_many" if n_shot > 1 else "protonet.push.keep_one"),
                      list(range(n_support)), selection_mode="multi", default=list(range(n_support)),
                      format_func=label, key="protonet_keep", help=t("protonet.push.keep_help"))  # fmt: skip
    return [i in chosen for i in range(n_support)]


def _outlier_picker(state: dict, episode: Episode, names: list[str]) -> None:
    n_support, n_shot = len(episode.support_y), episode.n_shot
    labels = [
        t("protonet.push.outlier_support", shot=i % n_shot + 1, k=i // n_shot, name=names[i // n_shot])
        for i in range(n_support)
    ] + [t("protonet.push.outlier_unseen", name=n) for n in state["extra_names"]]
    order = list(range(n_support, len(labels))) + list(range(n_support))  # unseen classes first
    left, right = st.columns([1, 2], vertical_alignment="bottom")
    chosen = right.selectbox(t("protonet.push.outlier"), order, format_func=labels.__getitem__, key="protonet_outlier")
    pool = torch.cat([episode.support_x, state["extra_x"]])
    left.image(png_data_url(to_display(pool[chosen : chosen + 1], display_scale(pool.shape[-1], 56))[0]))
    own = int(episode.support_y[chosen]) if chosen < n_support else -1
    given = st.selectbox(
        t("protonet.push.give_to"),
        [k for k in range(len(names)) if k != own],
        format_func=lambda k: t("protonet.push.class", k=k, name=names[k]),
        key="protonet_outlier_class",
    )
    if st.button(t("protonet.push.add_outlier"), key="protonet_add_outlier", icon=":material/add:"):
        state["outliers"].append((int(chosen), int(given)))
    _added(state)


def _drawing_pad(state: dict, inputs: AlgorithmInputs, names: list[str]) -> None:
    st.caption(t("protonet.push.draw_help"))
    drawing = st_canvas(key=f"protonet_canvas_{state['canvas']}", **{**CANVAS, "height": 180, "width": 180})
    given = st.selectbox(
        t("protonet.push.give_to"),
        list(range(len(names))),
        key="protonet_drawing_class",
        format_func=lambda k: t("protonet.push.class", k=k, name=names[k]),
    )
    if st.button(t("protonet.push.add_drawing"), key="protonet_add_drawing", icon=":material/add:"):
        if drawing is None or not drawing.json_data or not drawing.json_data.get("objects"):
            st.warning(t("protonet.push.empty_canvas"))
            return
        try:
            image = decode_image("drawing.png", drawing.image_bytes, image_limits()).image
        except UserImageError as error:
            st.error(explain(error))
            return
        state["drawings"].append(prepare_for_model([image], inputs.model.algorithm.preprocessing))
        state["drawing_y"].append(int(given))
        state["canvas"] += 1  # a fresh, empty canvas from the next redraw on (no rerun: redraws stay quick)
    _added(state)


def _added(state: dict) -> None:
    if state["outliers"] or state["drawings"]:
        st.caption(t("protonet.push.added", outliers=len(state["outliers"]), drawings=len(state["drawings"])))


def _member_images(state: dict, episode: Episode, kept: list[bool]) -> torch.Tensor:
    """Images in the order of the trace's members: kept support images, outliers, drawings."""
    pool = torch.cat([episode.support_x, state["extra_x"]])
    parts = [episode.support_x[torch.tensor(kept)], pool[[i for i, _ in state["outliers"]]], *state["drawings"]]
    return torch.cat(parts)


def draw_pushed_map(pushed: PushedEpisode, episode: Episode, key: str = "protonet_embedding_map") -> go.Figure:
    """The map of ``pushed``, a warning for classes left without a prototype; returns the figure drawn."""
    trace = pushed.trace
    thumbnails = None
    if pushed.thumbnails:
        scale = display_scale(episode.query_x.shape[-1], target=28)
        pictures = to_display(torch.cat([pushed.member_images, episode.query_x]), scale)
        coords = np.concatenate([trace.member_coords, trace.query_coords])
        thumbnails = [(float(x), float(y), p) for (x, y), p in zip(coords, pictures, strict=True)]
    wrong = int((trace.predictions != trace.query_y).sum())
    title = t("protonet.push.title", explained=trace.explained, wrong=wrong)
    figure = prototype_map(trace, list(short_names(episode.class_names)), title, legend(), thumbnails)
    show_chart(figure, key=key)
    missing = np.flatnonzero(~trace.has_prototype)
    if len(missing):
        st.warning(t("protonet.push.no_prototype", classes=", ".join(str(k) for k in missing)))
    return figure


def accuracy_metric(trace: PushTrace, n_queries: int, model_label: str) -> None:
    change = trace.accuracy - trace.sampled_accuracy
    changed = trace.n_changed > 0 or abs(change) > 1e-9
    correct = int((trace.predictions == trace.query_y).sum())
    st.metric(
        t("protonet.push.metric"),
        f"{100 * trace.accuracy:.1f}%",
        delta=t("protonet.push.delta", change=change) if changed else None,
        help=t("protonet.push.metric_help", correct=correct, n_queries=n_queries, model=model_label),
    )

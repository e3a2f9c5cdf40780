"""Replay a Prototypical Network's training on the current episode: its map at each kept training step."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app.charts import show_chart
from app.i18n import t
from app.model_picker import ModelChoice
from app.protonet_view import map_words, short_names
from app.training_scrub import last_replay, replay_expander, scrub_snapshots
from core.algorithms import FewShotAlgorithm
from core.episodes import Episode
from core.figures.common import embedding_map
from core.training.replay import MapAtStep, protonet_maps

PREFIX = "protonet"
CACHE = "protonet_replay_maps"  # one entry: the maps of the model and episode last replayed


def replay_section(model: ModelChoice, episode: Episode, episode_key: object) -> None:
    """An expander with a slider over the training steps kept for ``model`` (trained on this page, or
    shipped with its snapshots) and this episode's map at the chosen step; one caption for a model without snapshots.

    ``episode_key`` names the episode (data set and episode choice): the maps of all steps are computed once
    for a model and an episode, so that moving the slider only draws.
    """
    with replay_expander(PREFIX, "protonet_replay", model) as snapshots:
        if not snapshots:
            return
        maps = _maps(model.algorithm, model.label, snapshots, episode, episode_key)
        by_step = {record.step: record for record in maps}
        class_names = short_names(episode.class_names)
        scrub_snapshots(list(by_step), lambda step: _draw(by_step[step], class_names), key="protonet_replay_step",
                        help=t("protonet_replay.slider_help"))  # fmt: skip
        st.caption(t("protonet_replay.caption"))


def _maps(
    algorithm: FewShotAlgorithm, model_name: str, snapshots, episode: Episode, episode_key: object
) -> tuple[MapAtStep, ...]:
    key = (model_name, episode_key, tuple(s.step for s in snapshots))
    return last_replay(CACHE, key, lambda: protonet_maps(algorithm, snapshots, episode))


def _draw(record: MapAtStep, class_names: list[str]) -> None:
    trace = record.trace
    n_way = len(trace.prototypes)
    role = ["support"] * len(trace.support_y) + ["query"] * len(trace.query_y) + ["prototype"] * n_way
    labels = np.concatenate([trace.support_y.numpy(), trace.query_y.numpy(), np.arange(n_way)])
    predicted = np.concatenate([trace.support_y.numpy(), trace.predictions.numpy(), np.arange(n_way)])
    figure = embedding_map(record.coords, role, labels, predicted, class_names, "PCA", regions=True, words=map_words())
    figure.update_layout(title=t("protonet_replay.map_title", step=f"{record.step:,}",
                                 accuracy=f"{record.accuracy:.0%}", separation=f"{record.separation:.2f}",
                                 explained=f"{record.explained:.0%}"))  # fmt: skip
    show_chart(figure, key="protonet_replay_map")

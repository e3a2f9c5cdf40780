"""Drawing an episode: the support set one row per class, the query set with true labels."""

from __future__ import annotations

import streamlit as st

from app.i18n import t
from core.datasets import ClassDataset
from core.episodes import Episode
from core.figures.montage import display_scale, image_row, to_display


def show_support(episode: Episode) -> None:
    scale = display_scale(episode.support_x.shape[-1])
    key = "episodes.support_one" if episode.n_shot == 1 else "episodes.support_many"
    st.subheader(t(key, n_way=episode.n_way, n_shot=episode.n_shot))
    for label, name in enumerate(episode.class_names):
        left, right = st.columns([1, 4], vertical_alignment="center")
        left.markdown(t("episodes.class_row", label=label, name=name))
        right.image(image_row(episode.support_x[episode.support_y == label], scale))


def show_query(episode: Episode) -> None:
    scale = display_scale(episode.query_x.shape[-1], target=56)
    st.subheader(t("episodes.query_set", n_query=episode.n_query))
    st.image(
        to_display(episode.query_x, scale),
        caption=[t("home.class", label=int(y)) for y in episode.query_y],
    )


def show_statistics(dataset: ClassDataset) -> None:
    channels, height, width = dataset.image_shape
    colour = t("episodes.grayscale") if channels == 1 else "RGB"
    st.markdown(t("episodes.statistics_line", name=dataset.name, n_classes=dataset.n_classes,
                  n_images=len(dataset.images), height=height, width=width, colour=colour,
                  scheme=dataset.split_scheme))  # fmt: skip
    st.dataframe(dataset.summary(), hide_index=True)
    if dataset.skipped:
        with st.expander(t("episodes.skipped", count=len(dataset.skipped))):
            st.write(list(dataset.skipped[:50]))

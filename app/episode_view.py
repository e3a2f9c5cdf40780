"""Drawing an episode: the support set one row per class, the query set with true labels."""

from __future__ import annotations

import streamlit as st

from core.datasets import ClassDataset
from core.episodes import Episode
from core.figures.montage import display_scale, image_row, to_display


def show_support(episode: Episode) -> None:
    scale = display_scale(episode.support_x.shape[-1])
    shots = "shot" if episode.n_shot == 1 else "shots"
    st.subheader(f"Support set: {episode.n_way} classes × {episode.n_shot} {shots}")
    for label, name in enumerate(episode.class_names):
        left, right = st.columns([1, 4], vertical_alignment="center")
        left.markdown(f"**class {label}**  \n`{name}`")
        right.image(image_row(episode.support_x[episode.support_y == label], scale))


def show_query(episode: Episode) -> None:
    scale = display_scale(episode.query_x.shape[-1], target=56)
    st.subheader(f"Query set: {episode.n_query} per class, with their true class")
    st.image(
        to_display(episode.query_x, scale),
        caption=[f"class {int(y)}" for y in episode.query_y],
    )


def show_statistics(dataset: ClassDataset) -> None:
    channels, height, width = dataset.image_shape
    colour = "grayscale" if channels == 1 else "RGB"
    st.markdown(
        f"**{dataset.name}** · {dataset.n_classes} classes · {len(dataset.images)} images of "
        f"{height}×{width} {colour} · split: {dataset.split_scheme}"
    )
    st.dataframe(dataset.summary(), hide_index=True)
    if dataset.skipped:
        with st.expander(f"{len(dataset.skipped)} files skipped (not images, or unreadable)"):
            st.write(list(dataset.skipped[:50]))

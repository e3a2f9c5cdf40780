"""Drawing an episode: the support set one row per class, the query set with true labels."""

from __future__ import annotations

import html

import streamlit as st

from app.i18n import t
from core.datasets import ClassDataset
from core.episodes import Episode
from core.figures.montage import classes_per_row, display_scale, image_row, png_data_url, to_display

# One line per class name, cut with an ellipsis where the tile ends; the full name shows on hover.
ONE_LINE = "white-space:nowrap;overflow:hidden;text-overflow:ellipsis"


def class_label(label: int, name: str) -> str:
    """The tile's heading as HTML: "class 3 `Bengali/character12`" on one line, full name as its tooltip."""
    full = html.escape(name, quote=True)
    heading = html.escape(t("home.class", label=label))
    return (
        f'<div class="mlp-class-name" title="{full}" style="{ONE_LINE}">'
        f'<strong>{heading}</strong> <code style="white-space:nowrap">{full}</code></div>'
    )


def show_support(episode: Episode) -> None:
    """A grid of class tiles, each its name over a strip of its shots; 20-way 5-shot fits one screen.

    Images go out as data URLs (``png_data_url``), so no /media/ file can go stale between runs.
    """
    scale = display_scale(episode.support_x.shape[-1])
    key = "episodes.support_one" if episode.n_shot == 1 else "episodes.support_many"
    st.subheader(t(key, n_way=episode.n_way, n_shot=episode.n_shot))
    per_row = classes_per_row(episode.n_way, episode.n_shot)
    names = list(enumerate(episode.class_names))
    for start in range(0, len(names), per_row):
        row = names[start : start + per_row]
        for column, (label, name) in zip(st.columns(per_row, gap="small"), row, strict=False):
            column.markdown(class_label(label, name), unsafe_allow_html=True)
            column.image(png_data_url(image_row(episode.support_x[episode.support_y == label], scale)))


def show_query(episode: Episode) -> None:
    scale = display_scale(episode.query_x.shape[-1], target=56)
    st.subheader(t("episodes.query_set", n_query=episode.n_query))
    st.image(
        [png_data_url(image) for image in to_display(episode.query_x, scale)],
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

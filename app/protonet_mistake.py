"""Explain a mistake where it happens: the query beside the support images of its true and its predicted class."""

from __future__ import annotations

import streamlit as st
import torch

from app.i18n import t
from core.algorithms.protonet import PrototypeTrace
from core.algorithms.prototype_push import MEASURES
from core.episodes import Episode
from core.figures.montage import display_scale, png_data_url, to_display

THUMBNAIL = 64


def explain_mistake(
    trace: PrototypeTrace, episode: Episode, query: int, distance: str, support_images: torch.Tensor
) -> None:
    """One click (an expander) shows query ``query`` beside the support images of both classes, with distances.

    ``support_images`` [S, C, H, W] are the images behind ``trace.support_embeddings``, in the same order.
    """
    true, predicted = int(trace.query_y[query]), int(trace.predictions[query])
    with st.expander(t("protonet.mistake.open", query=query, predicted=predicted, true=true), icon=":material/help:"):
        each = MEASURES[distance](trace.query_embeddings[query : query + 1], trace.support_embeddings)[0]
        left, right = st.columns([1, 5])
        scale = display_scale(episode.query_x.shape[-1], target=THUMBNAIL)
        left.image(png_data_url(to_display(episode.query_x[query : query + 1], scale)[0]), caption=f"q{query}")
        with right:
            for role, k in ((t("protonet.mistake.true"), true), (t("protonet.mistake.predicted"), predicted)):
                st.markdown(
                    t(
                        "protonet.mistake.row",
                        role=role,
                        k=k,
                        name=episode.class_names[k],
                        query=query,
                        distance=float(trace.distances[query, k]),
                    )
                )
                rows = (trace.support_y == k).nonzero().flatten().tolist()
                if not rows:
                    st.caption(t("protonet.mistake.none"))
                    continue
                st.image(
                    [png_data_url(image) for image in to_display(support_images[rows], scale)],
                    width=THUMBNAIL,
                    caption=[t("protonet.mistake.each", distance=float(each[i])) for i in rows],
                )
        st.caption(t("protonet.mistake.note", query=query))

"""What a Relation Network computed on the current episode, drawn beside Prototypical Networks' distances."""

from __future__ import annotations

import streamlit as st
import torch

from app.charts import show_chart
from app.i18n import t
from app.model_picker import TRAIN
from app.models import load_shipped, preferred_shipped, shipped_checkpoints
from app.page import key_by_size
from core.algorithms import PrototypicalNetworks
from core.algorithms.relationnet import RelationTrace
from core.episodes import Episode
from core.figures.montage import display_scale, image_row, png_data_url, to_display
from core.figures.relation import (
    ArchitectureText,
    architecture_dot,
    natural_heatmap_height,
    relation_heatmap,
    score_bars,
)
from core.preprocessing import adapt_episode

PREFIX = "relation"  # the model picker's widget keys start with it


def loss_option() -> dict:
    """The sidebar's loss for models trained here, as ``build``'s keyword argument."""
    # The options' words are looked up now, in this run's language: Streamlit may call format_func after the run.
    shown = {name: t(f"relation.loss_{name}") for name in ("mse", "cross_entropy")}
    loss = st.sidebar.radio(t("relation.loss"), list(shown), key="relation_loss", help=t("relation.loss_help"),
                            format_func=shown.__getitem__)  # fmt: skip
    return {"loss": loss}


# The heat map's height at most: at 1280 x 800 it then ends inside the first screen, under the title.
FIRST_SCREEN_HEATMAP_PX = 520
# Streamlit draws Graphviz text at 9.6 of the drawing's units, whatever the graph asks for: the drawing
# (about 170 units wide) is scaled to this width so that its text is about 15 px.
ARCHITECTURE_WIDTH_PX = 280
THUMBNAILS_UP_TO_ROWS = 24  # more query rows than this: the images on the axes start off (a toggle)


def layout():
    """(figure area, controls area): the controls in a narrow column beside the heat map, except while
    training here, which needs the page's width (and has no heat map to show yet)."""
    if st.session_state.get(f"{PREFIX}_model_source") == TRAIN:
        return st.container(), st.container()
    return st.columns([3, 1], gap="medium")


def thumbnail_toggle(n_query: int) -> bool:
    return st.toggle(t("relation.thumbnails"), value=n_query <= THUMBNAILS_UP_TO_ROWS,
                     key=key_by_size("relation_thumbnails", n_query <= THUMBNAILS_UP_TO_ROWS),
                     help=t("relation.thumbnails_help"))  # fmt: skip


@st.fragment
def heatmap_section(trace: RelationTrace, episode: Episode) -> None:
    """The heat map with its thumbnails toggle under it; a fragment: the toggle redraws only this."""
    figure_slot = st.container()
    show_images = thumbnail_toggle(len(trace.query_y))
    with figure_slot:
        show_heatmap(trace, episode, show_images)


@st.fragment
def query_section(trace: RelationTrace, episode: Episode, raw_episode: Episode,
                  protonet: ShippedProtoNet | None) -> None:  # fmt: skip
    """One query's scores beside ProtoNet's distances, then the formula with its numbers; a fragment:
    choosing another query redraws only this."""
    query = pick_query(trace)
    show_query(trace, episode, raw_episode, protonet, query)
    st.subheader(t("relation.score_heading"))
    show_formula(trace, query)


def show_heatmap(trace: RelationTrace, episode: Episode, show_images: bool) -> None:
    scale = display_scale(episode.query_x.shape[-1], target=28)
    queries = to_display(episode.query_x, scale) if show_images else []
    classes = [image_row(episode.support_x[episode.support_y == k], scale, gap=2, gap_value=128)
               for k in range(episode.n_way)] if show_images else []  # fmt: skip
    n_query = len(trace.query_y)
    wrong = int((trace.predictions != trace.query_y).sum())
    figure = relation_heatmap(
        trace.scores.numpy(), trace.query_y.numpy(), queries, classes, show_images=show_images,
        title=t("relation.heatmap_title", wrong=wrong, n_query=n_query), colorbar_title=t("relation.colorbar"),
        height=min(natural_heatmap_height(n_query), FIRST_SCREEN_HEATMAP_PX),
        class_labels=class_labels(episode.n_way), hover=t("relation.heatmap_hover"),
    )  # fmt: skip
    show_chart(figure, key="relation_heatmap")


def class_labels(n_way: int) -> list[str]:
    return [t("home.class", label=k) for k in range(n_way)]


def pick_query(trace: RelationTrace) -> int:
    wrong = (trace.predictions != trace.query_y).nonzero().flatten().tolist()
    shown = [t("relation.query_option", index=i, label=int(y)) + (t("relation.misclassified") if i in wrong else "")
             for i, y in enumerate(trace.query_y)]  # fmt: skip
    return st.selectbox(t("relation.query_pick"), list(range(len(shown))), index=wrong[0] if wrong else 0,
                        key="relation_query", format_func=shown.__getitem__)  # fmt: skip


def show_query(trace: RelationTrace, episode: Episode, raw_episode: Episode, protonet: ShippedProtoNet | None,
               query: int) -> None:  # fmt: skip
    true = int(trace.query_y[query])
    image_col, relation_col, protonet_col = st.columns([1, 2, 2], vertical_alignment="center")
    scale = display_scale(episode.query_x.shape[-1], target=112)
    image_col.image(png_data_url(to_display(episode.query_x[query : query + 1], scale)[0]),
                    caption=t("relation.query_caption", index=query, label=true))  # fmt: skip
    labels = class_labels(episode.n_way)
    bars = score_bars(trace.scores[query].numpy(), true, t("relation.bars_title", index=query),
                      t("relation.bars_axis"), [0, 1], class_labels=labels)  # fmt: skip
    show_chart(bars, relation_col, key="relation_bars")
    if protonet is None:
        protonet_col.info(t("relation.no_protonet"))
        return
    name, model = protonet
    distances = model.explain(adapt_episode(raw_episode, model.preprocessing)).distances.numpy()
    bars = score_bars(distances[query], true, t("relation.distances_title", index=query, name=name),
                      t("relation.distances_axis"), class_labels=labels)  # fmt: skip
    show_chart(bars, protonet_col, key="relation_protonet_bars")


ShippedProtoNet = tuple[str, PrototypicalNetworks]


def shipped_protonet(source: str) -> ShippedProtoNet | None:
    """The shipped Prototypical Networks model of the same data (its name and model), to compare with."""
    shipped = shipped_checkpoints("protonet")
    if not shipped:
        return None
    names = list(shipped)
    name = names[preferred_shipped(names, source, "protonet")]
    loaded = load_shipped(shipped[name])
    return (name, loaded[0]) if loaded is not None else None


def show_architecture(trace: RelationTrace) -> None:
    n_query, n_way = trace.scores.shape
    words = ArchitectureText(**{name: t(f"relation.architecture.{name}", n_query=n_query, n_way=n_way)
                                for name in ArchitectureText.__dataclass_fields__})  # fmt: skip
    st.graphviz_chart(architecture_dot(trace.shapes, n_query, n_way, text=words), width=ARCHITECTURE_WIDTH_PX)
    st.caption(t("relation.architecture_caption"))


def show_formula(trace: RelationTrace, query: int) -> None:
    st.markdown(t("relation.formula_score"))
    st.latex(RELATION_SCORE)
    scores = trace.scores[query]
    terms = ", ".join(f"r_{{{query},{k}}} = {float(v):.3f}" for k, v in enumerate(scores[:8]))
    more = r", \dots" if len(scores) > 8 else ""
    predicted = int(torch.argmax(scores))
    st.latex(terms + more + rf" \ \Rightarrow\ \hat y_{{{query}}} = {predicted}")
    st.markdown(t("relation.formula_loss"))
    st.latex(RELATION_LOSS)


# The notation of the Learn pages: i a query, k a class, f_varphi the embedding, g_phi the relation module.
RELATION_SCORE = (
    r"r_{i,k} = g_\phi\big(\mathcal{C}(C_k,\ f_\varphi(x_i))\big) \in (0, 1), \qquad "
    r"C_k = \sum_{x_j \in S_k} f_\varphi(x_j)"
)
RELATION_LOSS = r"\mathcal{L} = \sum_{i \in Q} \sum_{k=1}^{n\_way} \big(r_{i,k} - \mathbf{1}(y_i = k)\big)^2"


def steps() -> str:
    """The algorithm in four steps and its trade-offs (markdown), in the visitor's language."""
    return t("relation.steps")

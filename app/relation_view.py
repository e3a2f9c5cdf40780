"""What a Relation Network computed on the current episode, drawn beside Prototypical Networks' distances."""

from __future__ import annotations

import streamlit as st
import torch

from app.charts import show_chart
from app.model_picker import TRAIN
from app.models import load_shipped, preferred_shipped, shipped_checkpoints
from core.algorithms import PrototypicalNetworks
from core.algorithms.relationnet import RelationTrace
from core.episodes import Episode
from core.figures.montage import display_scale, image_row, to_display
from core.figures.relation import architecture_dot, natural_heatmap_height, relation_heatmap, score_bars
from core.preprocessing import adapt_episode

PREFIX = "relation"  # the model picker's widget keys start with it


def loss_option() -> dict:
    """The sidebar's loss for models trained here, as ``build``'s keyword argument."""
    loss = st.sidebar.radio("loss (for models trained here)", ["mse", "cross_entropy"], key="relation_loss",
                            help="the paper: mean squared error against the one-hot match matrix")  # fmt: skip
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
    return st.toggle("images on the axes", value=n_query <= THUMBNAILS_UP_TO_ROWS, key="relation_thumbnails",
                     help="each query's image by its row, its class's support images above each column")  # fmt: skip


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
    st.subheader("The score, with this episode's numbers")
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
        title=f"Relation scores, query × class · boxed: prediction (red: wrong, {wrong} of {n_query})",
        height=min(natural_heatmap_height(n_query), FIRST_SCREEN_HEATMAP_PX),
    )  # fmt: skip
    show_chart(figure, key="relation_heatmap")


def pick_query(trace: RelationTrace) -> int:
    wrong = (trace.predictions != trace.query_y).nonzero().flatten().tolist()
    return st.selectbox(
        "query to inspect", list(range(len(trace.query_y))), index=wrong[0] if wrong else 0, key="relation_query",
        format_func=lambda i: f"q{i}: class {int(trace.query_y[i])}"
        + ("  ✕ misclassified" if trace.predictions[i] != trace.query_y[i] else ""),
    )  # fmt: skip


def show_query(trace: RelationTrace, episode: Episode, raw_episode: Episode, protonet: ShippedProtoNet | None,
               query: int) -> None:  # fmt: skip
    true = int(trace.query_y[query])
    image_col, relation_col, protonet_col = st.columns([1, 2, 2], vertical_alignment="center")
    scale = display_scale(episode.query_x.shape[-1], target=112)
    image_col.image(to_display(episode.query_x[query : query + 1], scale)[0], caption=f"q{query}, class {true}")
    show_chart(score_bars(trace.scores[query].numpy(), true, f"q{query}: relation scores (learned)",
                          "relation score", [0, 1]), relation_col, key="relation_bars")  # fmt: skip
    if protonet is None:
        protonet_col.info("No shipped Prototypical Networks checkpoint to compare with.")
        return
    name, model = protonet
    distances = model.explain(adapt_episode(raw_episode, model.preprocessing)).distances.numpy()
    bars = score_bars(distances[query], true, f"q{query}: distances of {name}", "squared distance (lower = closer)")
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
    st.graphviz_chart(architecture_dot(trace.shapes, n_query, n_way), width=ARCHITECTURE_WIDTH_PX)
    st.caption("Tensor shapes (channels × height × width) for this episode's input size; each arrow carries one "
               "image's or one pair's tensor.")  # fmt: skip


def show_formula(trace: RelationTrace, query: int) -> None:
    st.markdown("**Relation score** of query $x_i$ and class $k$, whose support images $S_k$ are summed "
                "in feature space into $C_k$ (the scores tensor is [query, class], so query first):")  # fmt: skip
    st.latex(RELATION_SCORE)
    scores = trace.scores[query]
    terms = ", ".join(f"r_{{{query},{k}}} = {float(v):.3f}" for k, v in enumerate(scores[:8]))
    more = r", \dots" if len(scores) > 8 else ""
    predicted = int(torch.argmax(scores))
    st.latex(terms + more + rf" \ \Rightarrow\ \hat y_{{{query}}} = {predicted}")
    st.markdown("**Training objective** (the paper): mean squared error against the match matrix, 1 for the "
                "true class and 0 elsewhere; the scores are not a softmax and need not sum to 1.")  # fmt: skip
    st.latex(RELATION_LOSS)


# The notation of the Learn pages: i a query, k a class, f_varphi the embedding, g_phi the relation module.
RELATION_SCORE = (
    r"r_{i,k} = g_\phi\big(\mathcal{C}(C_k,\ f_\varphi(x_i))\big) \in (0, 1), \qquad "
    r"C_k = \sum_{x_j \in S_k} f_\varphi(x_j)"
)
RELATION_LOSS = r"\mathcal{L} = \sum_{i \in Q} \sum_{k=1}^{n\_way} \big(r_{i,k} - \mathbf{1}(y_i = k)\big)^2"


STEPS = """
**The algorithm, one episode at a time**
1. Embed every support and query image with $f_\\varphi$ (four conv blocks).
2. Sum each class's support feature maps into one class feature map.
3. Concatenate each class's map with each query's map along the channels, and let $g_\\phi$ (two conv blocks
   and two small fully connected layers) score the pair from 0 to 1.
4. Train both networks end to end on episodes so that same-class pairs score 1 and the others 0.

**Trade-offs.** Where Prototypical Networks fix the comparison (a distance) and learn only the embedding,
Relation Networks learn the comparison too, which can capture relations a distance cannot. The price:
one pass of $g_\\phi$ per (query, class) pair, more parameters to fit, and scores that are not calibrated
probabilities. Nothing is adapted at test time, so a new task is as cheap as a forward pass.
"""

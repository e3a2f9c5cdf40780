"""What a Relation Network computed on the current episode, drawn beside Prototypical Networks' distances."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from app.models import load_shipped, preferred_shipped, shipped_checkpoints
from core.algorithms.relationnet import RelationTrace
from core.episodes import Episode
from core.figures.montage import display_scale, image_row, to_display
from core.figures.relation import architecture_dot, relation_heatmap, score_bars
from core.preprocessing import adapt_episode


def loss_option() -> dict:
    """The sidebar's loss for models trained here, as ``build``'s keyword argument."""
    loss = st.sidebar.radio("loss (for models trained here)", ["mse", "cross_entropy"], key="relation_loss",
                            help="the paper: mean squared error against the one-hot match matrix")  # fmt: skip
    return {"loss": loss}


def show_heatmap(trace: RelationTrace, episode: Episode) -> None:
    scale = display_scale(episode.query_x.shape[-1], target=28)
    queries = to_display(episode.query_x, scale)
    classes = [image_row(episode.support_x[episode.support_y == k], scale, gap=2, gap_value=128)
               for k in range(episode.n_way)]  # fmt: skip
    st.plotly_chart(relation_heatmap(trace.scores.numpy(), trace.query_y.numpy(), queries, classes),
                    key="relation_heatmap")  # fmt: skip


def pick_query(trace: RelationTrace) -> int:
    wrong = (trace.predictions != trace.query_y).nonzero().flatten().tolist()
    return st.selectbox(
        "query to inspect", list(range(len(trace.query_y))), index=wrong[0] if wrong else 0, key="relation_query",
        format_func=lambda i: f"q{i}: class {int(trace.query_y[i])}"
        + ("  ✕ misclassified" if trace.predictions[i] != trace.query_y[i] else ""),
    )  # fmt: skip


def show_query(trace: RelationTrace, episode: Episode, raw_episode: Episode, source: str, query: int) -> None:
    true = int(trace.query_y[query])
    image_col, relation_col, protonet_col = st.columns([1, 2, 2], vertical_alignment="center")
    scale = display_scale(episode.query_x.shape[-1], target=112)
    image_col.image(to_display(episode.query_x[query : query + 1], scale)[0], caption=f"q{query}, class {true}")
    relation_col.plotly_chart(score_bars(trace.scores[query].numpy(), true, f"q{query}: relation scores (learned)",
                                         "relation score", [0, 1]), key="relation_bars")  # fmt: skip
    distances = _protonet_distances(raw_episode, source)
    if distances is None:
        protonet_col.info("No shipped Prototypical Networks checkpoint to compare with.")
    else:
        label, values = distances
        bars = score_bars(values[query], true, f"q{query}: {label}", "squared distance (lower = closer)")
        protonet_col.plotly_chart(bars, key="relation_protonet_bars")


def _protonet_distances(raw_episode: Episode, source: str) -> tuple[str, np.ndarray] | None:
    """Prototypical Networks' squared distances on the same episode (the shipped model of the same data)."""
    shipped = shipped_checkpoints("protonet")
    if not shipped:
        return None
    names = list(shipped)
    name = names[preferred_shipped(names, source, "protonet")]
    loaded = load_shipped(shipped[name])
    if loaded is None:
        return None
    protonet = loaded[0]
    trace = protonet.explain(adapt_episode(raw_episode, protonet.preprocessing))
    return f"distances of {name}", trace.distances.numpy()


def show_architecture(trace: RelationTrace) -> None:
    n_query, n_way = trace.scores.shape
    st.graphviz_chart(architecture_dot(trace.shapes, n_query, n_way))
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

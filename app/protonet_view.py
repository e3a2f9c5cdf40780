"""What Prototypical Networks computed on the current episode, drawn."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from core.algorithms.protonet import PrototypeTrace
from core.episodes import Episode
from core.figures.common import embedding_map, matrix_heatmap, probability_bars
from core.figures.montage import display_scale, to_display
from core.figures.projection import TSNE_MIN_POINTS, project_2d


def distance_option() -> dict:
    """The sidebar's distance for models trained here, as ``build``'s keyword argument."""
    distance = st.sidebar.radio("distance (for models trained here)", ["euclidean", "cosine"], key="protonet_distance")
    return {"distance": distance}


@st.cache_data(max_entries=32, show_spinner="Projecting to 2-D…")
def cached_projection(points: np.ndarray, method: str, perplexity: float) -> tuple[np.ndarray, str]:
    return project_2d(points, method, perplexity)


def show_embedding_map(trace: PrototypeTrace, episode: Episode) -> None:
    n_points = len(trace.support_y) + len(trace.query_y) + len(trace.prototypes)
    left, middle, right = st.columns(3)
    method = left.radio("2-D map", ["auto", "pca", "tsne"], horizontal=True, key="protonet_map",
                        help=f"auto: PCA below {TSNE_MIN_POINTS} points, t-SNE from there on")  # fmt: skip
    uses_tsne = method == "tsne" or (method == "auto" and n_points >= TSNE_MIN_POINTS)
    perplexity = middle.slider("t-SNE perplexity", 2, 50, 10, key="protonet_perplexity", disabled=not uses_tsne)
    thumbnails = right.toggle("show the images", value=n_points <= 150, key="protonet_thumbnails")
    points = torch.cat([trace.support_embeddings, trace.query_embeddings, trace.prototypes]).numpy()
    coords, label = cached_projection(points, method, float(perplexity))
    n_way = len(trace.prototypes)
    role = ["support"] * len(trace.support_y) + ["query"] * len(trace.query_y) + ["prototype"] * n_way
    labels = np.concatenate([trace.support_y.numpy(), trace.query_y.numpy(), np.arange(n_way)])
    predicted = np.concatenate([trace.support_y.numpy(), trace.predictions.numpy(), np.arange(n_way)])
    images = None
    if thumbnails:
        scale = display_scale(episode.support_x.shape[-1], target=28)
        shown = to_display(torch.cat([episode.support_x, episode.query_x]), scale)
        blank = np.zeros_like(shown[0])
        images = shown + [blank] * n_way
    figure = embedding_map(coords, role, labels, predicted, list(_short(episode.class_names)), label, images)
    st.plotly_chart(figure, key="protonet_embedding_map")


def show_distances_and_probabilities(trace: PrototypeTrace, distance: str) -> None:
    rows = [f"q{i} (class {int(y)})" for i, y in enumerate(trace.query_y)]
    columns = [f"class {k}" for k in range(len(trace.prototypes))]
    title = "Squared Euclidean distance to each prototype" if distance == "euclidean" else "Cosine distance"
    distances = matrix_heatmap(trace.distances.numpy(), rows, columns, title, "distance", reverse=True,
                               text_format=".1f" if distance == "euclidean" else ".2f")  # fmt: skip
    probabilities = matrix_heatmap(trace.probabilities.numpy(), rows, columns, "Probability of each class", "p")
    left, right = st.columns(2)
    left.plotly_chart(distances, key="protonet_distances")
    right.plotly_chart(probabilities, key="protonet_probabilities")


def pick_query(trace: PrototypeTrace) -> int:
    wrong = (trace.predictions != trace.query_y).nonzero().flatten().tolist()
    options = list(range(len(trace.query_y)))
    return st.selectbox(
        "query to inspect", options, index=wrong[0] if wrong else 0, key="protonet_query",
        format_func=lambda i: f"q{i}: class {int(trace.query_y[i])}"
        + ("  ✕ misclassified" if trace.predictions[i] != trace.query_y[i] else ""),
    )  # fmt: skip


def show_query(trace: PrototypeTrace, episode: Episode, query: int, distance: str) -> None:
    image_col, chart_col = st.columns([1, 3], vertical_alignment="center")
    scale = display_scale(episode.query_x.shape[-1], target=112)
    true = int(trace.query_y[query])
    image_col.image(to_display(episode.query_x[query : query + 1], scale)[0],
                    caption=f"q{query}, true class {true}: {episode.class_names[true]}")  # fmt: skip
    chart_col.plotly_chart(probability_bars(trace.probabilities[query].numpy(), list(_short(episode.class_names)),
                                            true, f"q{query}: probabilities"), key="protonet_query_bars")  # fmt: skip
    show_formulas(trace, episode, query, distance)


def show_formulas(trace: PrototypeTrace, episode: Episode, query: int, distance: str) -> None:
    n_shot, dim = episode.n_shot, trace.prototypes.shape[1]
    st.markdown(
        f"**Prototype** of class $k$: the mean of its {n_shot} embedded support image(s), in $\\mathbb{{R}}^{{{dim}}}$"
    )
    st.latex(r"\mathbf{c}_k = \frac{1}{|S_k|} \sum_{(\mathbf{x}_i, y_i) \in S_k} f_\phi(\mathbf{x}_i)")
    shown = min(len(trace.prototypes), 5)
    d = trace.distances[query, :shown].tolist()
    p = trace.probabilities[query, :shown].tolist()
    name = "squared Euclidean distance" if distance == "euclidean" else "cosine distance × learned scale"
    st.markdown(f"**Class probabilities** of query q{query}: a softmax over minus its {name} to each prototype")
    st.latex(r"p_\phi(y = k \mid \mathbf{x}) = \frac{\exp(-d(f_\phi(\mathbf{x}), \mathbf{c}_k))}"
             r"{\sum_{k'} \exp(-d(f_\phi(\mathbf{x}), \mathbf{c}_{k'}))}")  # fmt: skip
    terms = " + ".join(f"e^{{-{v:.2f}}}" for v in d)
    more = r" + \dots" if shown < len(trace.prototypes) else ""
    st.latex(rf"p(y = 0 \mid q_{{{query}}}) = \frac{{e^{{-{d[0]:.2f}}}}}{{{terms}{more}}} = {p[0]:.3f}"
             if distance == "euclidean" else rf"p(y = 0 \mid q_{{{query}}}) = {p[0]:.3f}")  # fmt: skip
    st.caption("distances to classes 0–{}: {}; probabilities: {}".format(
        shown - 1, ", ".join(f"{v:.2f}" for v in d), ", ".join(f"{v:.3f}" for v in p)))  # fmt: skip


def _short(names: tuple[str, ...]) -> list[str]:
    return [name if len(name) <= 28 else "…" + name[-27:] for name in names]


STEPS = """
**The algorithm, one episode at a time**
1. Embed every support and query image with the same network $f_\\phi$ (here Conv-4).
2. Average each class's support embeddings into its prototype $\\mathbf{c}_k$.
3. Score each query by minus its distance to every prototype; a softmax turns the scores into probabilities.
4. In training, the cross-entropy of the true classes is back-propagated into $f_\\phi$: the embedding
   learns to put images of one class close together, for classes it will never see again.

**Trade-offs.** Nothing is adapted at test time: a new task costs one forward pass, so it is fast and
stable, and the map above is the whole story. With squared Euclidean distance the classifier is
linear in the embedding. It relies on the embedding transferring: when new tasks are far from the
training classes (other domains), a fixed metric cannot adjust, where MAML can take gradient steps
and Relation Networks learn the comparison itself. BatchNorm uses its running statistics at test time.
"""

"""What Prototypical Networks computed on the current episode, drawn."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from app.charts import show_chart
from app.protonet_mistake import explain_mistake
from core.algorithms.protonet import PrototypeTrace
from core.episodes import Episode
from core.figures.common import embedding_map, matrix_heatmap, probability_bars
from core.figures.montage import display_scale, png_data_url, to_display
from core.figures.projection import nearest_in_plane, project_2d


def distance_option() -> dict:
    """The sidebar's distance for models trained here, as ``build``'s keyword argument."""
    distance = st.sidebar.radio("distance (for models trained here)", ["euclidean", "cosine"], key="protonet_distance")
    return {"distance": distance}


@st.cache_data(max_entries=32, show_spinner="Projecting to 2-D…")
def cached_projection(points: np.ndarray, method: str, perplexity: float) -> tuple[np.ndarray, str]:
    return project_2d(points, method, perplexity)


MAP_OPTIONS = {"pca": "PCA: the classifier's geometry", "tsne": "t-SNE: a neighbourhood view"}


def show_embedding_map(trace: PrototypeTrace, episode: Episode) -> None:
    """The map with its own controls above it (Your images): PCA or t-SNE, thumbnails on or off."""
    n_points = len(trace.support_y) + len(trace.query_y) + len(trace.prototypes)
    left, middle, right = st.columns(3)
    method = map_method(left)
    perplexity = middle.slider("t-SNE perplexity", 2, 50, 10, key="protonet_perplexity", disabled=method != "tsne")
    thumbnails = right.toggle("show the images", value=n_points <= 150, key="protonet_thumbnails")
    draw_embedding_map(trace, episode, method, perplexity, thumbnails)


def map_method(where) -> str:
    return where.radio("2-D map", list(MAP_OPTIONS), format_func=MAP_OPTIONS.get, key="protonet_map",
                       help="PCA keeps means and straight lines; t-SNE keeps only who neighbours whom")  # fmt: skip


def draw_embedding_map(
    trace: PrototypeTrace, episode: Episode, method: str, perplexity: float, thumbnails: bool
) -> None:
    """Support images, queries and prototypes of ``trace`` (made from ``episode``) projected by ``method``."""
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
    figure = embedding_map(coords, role, labels, predicted, list(short_names(episode.class_names)), label, images,
                           regions=method == "pca")  # fmt: skip
    show_chart(figure, key="protonet_embedding_map")
    st.caption(map_caption(method, coords, trace, episode.n_shot))


def map_caption(method: str, coords: np.ndarray, trace: PrototypeTrace, n_shot: int) -> str:
    """What the map's geometry does and does not mean, with how often the plane agrees with the model."""
    one_shot = (
        " With one shot the prototype is the support image itself (each ★ sits on its only ●, and the "
        "probabilities are often all 1.00): pick 5 shots to see a mean."
        if n_shot == 1
        else ""
    )
    if method == "tsne":
        return (
            "t-SNE is a neighbourhood view: it keeps who is near whom, not distances or means, so here a ★ is "
            "not the mean of its dots and the nearest ★ is not the prediction. Choose PCA for that." + one_shot
        )
    n_support, n_query = len(trace.support_y), len(trace.query_y)
    queries, prototypes = coords[n_support : n_support + n_query], coords[n_support + n_query :]
    agree = int((nearest_in_plane(queries, prototypes) == trace.predictions.numpy()).sum())
    return (
        "PCA is linear, so each ★ is the mean of its ● here too. Shaded: the regions of the projected "
        "prototypes (nearest ★ in this plane), which match the model's own decisions only as far as two "
        f"dimensions keep the prototypes' geometry: here for {agree} of {n_query} queries." + one_shot
    )


def show_distances_and_probabilities(
    trace: PrototypeTrace, distance: str, rows: list[str] | None = None, columns: list[str] | None = None,
    key: str = "protonet",
) -> None:  # fmt: skip
    """Query-to-prototype distances and class probabilities side by side; rows and columns labelled
    by number unless the caller names them (Your images: file and class names)."""
    rows = rows or [f"q{i} (class {int(y)})" for i, y in enumerate(trace.query_y)]
    columns = columns or [f"class {k}" for k in range(len(trace.prototypes))]
    title = "Squared Euclidean distance to each prototype" if distance == "euclidean" else "Cosine distance"
    distances = matrix_heatmap(trace.distances.numpy(), rows, columns, title, "distance", reverse=True,
                               text_format=".1f" if distance == "euclidean" else ".2f")  # fmt: skip
    probabilities = matrix_heatmap(trace.probabilities.numpy(), rows, columns, "Probability of each class", "p")
    left, right = st.columns(2)
    show_chart(distances, key=f"{key}_distances", container=left)
    show_chart(probabilities, key=f"{key}_probabilities", container=right)


def pick_query(trace: PrototypeTrace, episode: Episode) -> int:
    """The query to inspect; it jumps to the first mistake whenever the episode or its mistakes change."""
    wrong = (trace.predictions != trace.query_y).nonzero().flatten().tolist()
    fingerprint = (episode.class_ids, episode.seed, episode.index, len(trace.query_y), tuple(wrong))
    if st.session_state.get("protonet_query_for") != fingerprint:
        st.session_state["protonet_query_for"] = fingerprint
        st.session_state["protonet_query"] = wrong[0] if wrong else 0
    return st.selectbox(
        "query to inspect", list(range(len(trace.query_y))), key="protonet_query",
        format_func=lambda i: f"q{i}: class {int(trace.query_y[i])}"
        + ("  ✕ misclassified" if trace.predictions[i] != trace.query_y[i] else ""),
    )  # fmt: skip


def show_query(
    trace: PrototypeTrace, episode: Episode, query: int, distance: str, support_images: torch.Tensor | None = None
) -> None:
    """One query: its image, its probabilities, why it went wrong (``support_images``: the trace's support
    images, for the side-by-side view of a mistake) and the worked formulas."""
    image_col, chart_col = st.columns([1, 3], vertical_alignment="center")
    scale = display_scale(episode.query_x.shape[-1], target=112)
    true = int(trace.query_y[query])
    image_col.image(png_data_url(to_display(episode.query_x[query : query + 1], scale)[0]),
                    caption=f"q{query}, true class {true}: {episode.class_names[true]}")  # fmt: skip
    bars = probability_bars(trace.probabilities[query].numpy(), list(short_names(episode.class_names)), true,
                            f"q{query}: probabilities")  # fmt: skip
    show_chart(bars, chart_col, key="protonet_query_bars")
    if support_images is not None and int(trace.predictions[query]) != true:
        explain_mistake(trace, episode, query, distance, support_images)
    show_formulas(trace, episode, query, distance)


def show_formulas(trace: PrototypeTrace, episode: Episode, query: int, distance: str) -> None:
    n_shot, dim = episode.n_shot, trace.prototypes.shape[1]
    st.markdown(
        f"**Prototype** of class $k$: the mean of its embedded support images ({n_shot} per class as sampled), "
        f"in $\\mathbb{{R}}^{{{dim}}}$"
    )
    st.latex(r"\mathbf{c}_k = \frac{1}{|S_k|} \sum_{(\mathbf{x}_i, y_i) \in S_k} f_\varphi(\mathbf{x}_i)")
    cosine = distance != "euclidean"
    scale = learned_scale(trace) if cosine else None
    name = "cosine distance times the learned scale $s$" if cosine else "squared Euclidean distance"
    name += f" (here $s = {scale:.2f}$)" if scale is not None else ""
    st.markdown(f"**Class probabilities** of query q{query}: a softmax over minus its {name} to each prototype")
    s = "s \\, " if cosine else ""
    st.latex(rf"p_\varphi(y = k \mid \mathbf{{x}}) = \frac{{\exp(-{s}d(f_\varphi(\mathbf{{x}}), \mathbf{{c}}_k))}}"
             rf"{{\sum_{{k'}} \exp(-{s}d(f_\varphi(\mathbf{{x}}), \mathbf{{c}}_{{k'}}))}}")  # fmt: skip
    factor = "" if not cosine else "s \\cdot " if scale is None else f"{scale:.2f} \\cdot "
    for k in worked_classes(trace, query):
        st.latex(worked_example(trace, query, k, factor))
    shown = min(len(trace.prototypes), 5)
    d, p = trace.distances[query, :shown].tolist(), trace.probabilities[query, :shown].tolist()
    st.caption("distances to classes 0–{}: {}; probabilities: {}".format(
        shown - 1, ", ".join(f"{v:.2f}" for v in d), ", ".join(f"{v:.3f}" for v in p)))  # fmt: skip


def worked_classes(trace: PrototypeTrace, query: int) -> list[int]:
    """The classes worth working out for one query: the predicted one, then the true one if it differs."""
    predicted, true = int(trace.predictions[query]), int(trace.query_y[query])
    return [predicted] if predicted == true else [predicted, true]


def worked_example(trace: PrototypeTrace, query: int, k: int, factor: str = "") -> str:
    """LaTeX for p(y = k | q) with this query's numbers: the numerator over every class's term.

    ``factor`` multiplies each distance: empty for squared Euclidean, the learned scale for cosine.
    """
    d = trace.distances[query].tolist()
    term = [f"e^{{-{factor}{v:.2f}}}" for v in d]
    shown = term if len(term) <= 5 else term[:4] + [r"\dots"] + term[-1:]
    p = float(trace.probabilities[query, k])
    return rf"p(y = {k} \mid q_{{{query}}}) = \frac{{{term[k]}}}{{{' + '.join(shown)}}} = {p:.3f}"


def learned_scale(trace: PrototypeTrace) -> float | None:
    """The cosine model's scale s, read back from the trace (log p_a - log p_b = s (d_b - d_a)).

    Uses each query's two likeliest classes, skipping rows whose runner-up underflowed; None if none is left.
    """
    top, index = trace.probabilities.double().topk(2, dim=1)
    d = trace.distances.double().gather(1, index)
    usable = (top[:, 1] > 1e-9) & ((d[:, 1] - d[:, 0]).abs() > 1e-9)
    if not usable.any():
        return None
    ratios = (top[usable, 0].log() - top[usable, 1].log()) / (d[usable, 1] - d[usable, 0])
    return float(ratios.median())


def short_names(names: tuple[str, ...]) -> list[str]:
    return [name if len(name) <= 28 else "…" + name[-27:] for name in names]


STEPS = """
**The algorithm, one episode at a time**
1. Embed every support and query image with the same network $f_\\varphi$ (here Conv-4).
2. Average each class's support embeddings into its prototype $\\mathbf{c}_k$.
3. Score each query by minus its distance to every prototype; a softmax turns the scores into probabilities.
4. In training, the cross-entropy of the true classes is back-propagated into $f_\\varphi$: the embedding
   learns to put images of one class close together, for classes it will never see again.

**Trade-offs.** Nothing is adapted at test time: a new task costs one forward pass, so it is fast and
stable, and the PCA map above shows the classifier's own geometry. With squared Euclidean distance
the classifier is linear in the embedding. It relies on the embedding transferring: when new tasks
are far from the training classes (other domains), nothing adjusts at test time. Relation Networks
are no remedy: their learned comparison is frozen at test time too, and across domains (trained on
glyphs, tested on Omniglot, 5-way 1-shot) they fall to 64.5%, the lowest of the learned methods,
against 87.2% here. What holds up best is adapting at test time: fine-tuning a pre-trained network
(92.6%) or MAML's gradient steps (88.7%). BatchNorm uses its running statistics at test time.
"""

"""What Prototypical Networks computed on the current episode, drawn."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from app.charts import show_chart
from app.i18n import t
from app.page import key_by_size
from app.protonet_mistake import explain_mistake
from core.algorithms.protonet import PrototypeTrace
from core.episodes import Episode
from core.figures.common import embedding_map, matrix_heatmap, probability_bars
from core.figures.montage import display_scale, png_data_url, to_display
from core.figures.projection import nearest_in_plane, project_2d


def template(key: str, **specs: str) -> str:
    """The catalog string ``key`` for a figure builder to fill in: each placeholder named in ``specs`` is
    kept, with the format spec given (``template("protonet.shots.frame_title", n_shot="", accuracy=".0%")``)."""
    return t(key, **{name: "{" + name + (f":{spec}" if spec else "") + "}" for name, spec in specs.items()})


def distance_option() -> dict:
    """The sidebar's distance for models trained here, as ``build``'s keyword argument."""
    distance = st.sidebar.radio(t("protonet.view.distance"), ["euclidean", "cosine"], key="protonet_distance",
                                format_func=lambda name: t(f"protonet.view.{name}"))  # fmt: skip
    return {"distance": distance}


@st.cache_data(max_entries=32, show_spinner=False)
def cached_projection(
    points: np.ndarray, method: str, perplexity: float, labels: dict[str, str]
) -> tuple[np.ndarray, str]:
    return project_2d(points, method, perplexity, labels=labels)


def projection(points: np.ndarray, method: str, perplexity: float) -> tuple[np.ndarray, str]:
    """``points`` [N, D] in 2-D by ``method``, and the method's label in the visitor's language."""
    labels = {"pca": template("protonet.view.pca_label", explained=".0f"),
              "tsne": template("protonet.view.tsne_label", perplexity="g")}  # fmt: skip
    with st.spinner(t("protonet.view.projecting")):
        return cached_projection(points, method, float(perplexity), labels)


def map_words() -> dict[str, str]:
    """``embedding_map``'s words (roles, title, hover text) in the visitor's language."""
    return {
        "support": t("protonet.view.support"),
        "query": t("protonet.view.query"),
        "prototype": t("protonet.view.prototype"),
        "regions": t("protonet.legend.regions"),
        "title": template("protonet.view.map_title", method="", n_wrong=""),
        "hover": template("protonet.view.hover", role="", k="", name=""),
        "hover_query": template("protonet.view.hover_query", role="", k="", name="", predicted=""),
    }


def show_embedding_map(trace: PrototypeTrace, episode: Episode) -> None:
    """The map with its own controls above it (Your images): PCA or t-SNE, thumbnails on or off."""
    n_points = len(trace.support_y) + len(trace.query_y) + len(trace.prototypes)
    left, middle, right = st.columns(3)
    method = map_method(left)
    perplexity = middle.slider(t("protonet.view.perplexity"), 2, 50, 10, key="protonet_perplexity",
                               disabled=method != "tsne")  # fmt: skip
    thumbnails = right.toggle(t("protonet.view.show_images"), value=n_points <= 150,
                              key=key_by_size("protonet_thumbnails", n_points <= 150))  # fmt: skip
    draw_embedding_map(trace, episode, method, perplexity, thumbnails)


def map_method(where) -> str:
    return where.radio(t("protonet.view.map"), ["pca", "tsne"], format_func=lambda m: t(f"protonet.view.map_{m}"),
                       key="protonet_map", help=t("protonet.view.map_help"))  # fmt: skip


def draw_embedding_map(
    trace: PrototypeTrace, episode: Episode, method: str, perplexity: float, thumbnails: bool
) -> None:
    """Support images, queries and prototypes of ``trace`` (made from ``episode``) projected by ``method``."""
    points = torch.cat([trace.support_embeddings, trace.query_embeddings, trace.prototypes]).numpy()
    coords, label = projection(points, method, perplexity)
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
                           regions=method == "pca", words=map_words())  # fmt: skip
    show_chart(figure, key="protonet_embedding_map")
    st.caption(map_caption(method, coords, trace, episode.n_shot))


def map_caption(method: str, coords: np.ndarray, trace: PrototypeTrace, n_shot: int) -> str:
    """What the map's geometry does and does not mean, with how often the plane agrees with the model."""
    one_shot = t("protonet.view.caption_one_shot") if n_shot == 1 else ""
    if method == "tsne":
        return t("protonet.view.caption_tsne") + one_shot
    n_support, n_query = len(trace.support_y), len(trace.query_y)
    queries, prototypes = coords[n_support : n_support + n_query], coords[n_support + n_query :]
    agree = int((nearest_in_plane(queries, prototypes) == trace.predictions.numpy()).sum())
    return t("protonet.view.caption_pca", agree=agree, n_query=n_query) + one_shot


def show_distances_and_probabilities(
    trace: PrototypeTrace, distance: str, rows: list[str] | None = None, columns: list[str] | None = None,
    key: str = "protonet",
) -> None:  # fmt: skip
    """Query-to-prototype distances and class probabilities side by side; rows and columns labelled
    by number unless the caller names them (Your images: file and class names)."""
    rows = rows or [t("protonet.view.row", i=i, k=int(y)) for i, y in enumerate(trace.query_y)]
    columns = columns or [t("protonet.view.column", k=k) for k in range(len(trace.prototypes))]
    title = t("protonet.view.distance_euclidean" if distance == "euclidean" else "protonet.view.distance_cosine")
    distances = matrix_heatmap(trace.distances.numpy(), rows, columns, title, t("protonet.view.distance_colorbar"),
                               reverse=True, text_format=".1f" if distance == "euclidean" else ".2f")  # fmt: skip
    probabilities = matrix_heatmap(trace.probabilities.numpy(), rows, columns,
                                   t("protonet.view.probabilities_title"), "p")  # fmt: skip
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
        t("protonet.view.pick"), list(range(len(trace.query_y))), key="protonet_query",
        format_func=lambda i: t("protonet.view.pick_option", i=i, k=int(trace.query_y[i]))
        + (t("protonet.view.misclassified") if trace.predictions[i] != trace.query_y[i] else ""),
    )  # fmt: skip


def show_query(
    trace: PrototypeTrace, episode: Episode, query: int, distance: str, support_images: torch.Tensor | None = None
) -> None:
    """One query: its image, its probabilities, why it went wrong (``support_images``: the trace's support
    images, for the side-by-side view of a mistake) and the worked formulas."""
    image_col, chart_col = st.columns([1, 3], vertical_alignment="center")
    scale = display_scale(episode.query_x.shape[-1], target=112)
    true = int(trace.query_y[query])
    image_col.image(
        png_data_url(to_display(episode.query_x[query : query + 1], scale)[0]),
        caption=t("protonet.view.query_caption", query=query, k=true, name=episode.class_names[true]),
    )
    bars = probability_bars(trace.probabilities[query].numpy(), list(short_names(episode.class_names)), true,
                            t("protonet.view.bars_title", query=query), t("protonet.view.probability"))  # fmt: skip
    show_chart(bars, chart_col, key="protonet_query_bars")
    if support_images is not None and int(trace.predictions[query]) != true:
        explain_mistake(trace, episode, query, distance, support_images)
    show_formulas(trace, episode, query, distance)


def show_formulas(trace: PrototypeTrace, episode: Episode, query: int, distance: str) -> None:
    n_shot, dim = episode.n_shot, trace.prototypes.shape[1]
    st.markdown(t("protonet.view.prototype_formula", n_shot=n_shot, space=f"$\\mathbb{{R}}^{{{dim}}}$"))
    st.latex(r"\mathbf{c}_k = \frac{1}{|S_k|} \sum_{(\mathbf{x}_i, y_i) \in S_k} f_\varphi(\mathbf{x}_i)")
    cosine = distance != "euclidean"
    scale = learned_scale(trace) if cosine else None
    name = t("protonet.view.name_cosine") if cosine else t("protonet.view.name_euclidean")
    name += t("protonet.view.name_scale", scale=f"{scale:.2f}") if scale is not None else ""
    st.markdown(t("protonet.view.probabilities_formula", query=query, distance=name))
    s = "s \\, " if cosine else ""
    st.latex(rf"p_\varphi(y = k \mid \mathbf{{x}}) = \frac{{\exp(-{s}d(f_\varphi(\mathbf{{x}}), \mathbf{{c}}_k))}}"
             rf"{{\sum_{{k'}} \exp(-{s}d(f_\varphi(\mathbf{{x}}), \mathbf{{c}}_{{k'}}))}}")  # fmt: skip
    factor = "" if not cosine else "s \\cdot " if scale is None else f"{scale:.2f} \\cdot "
    for k in worked_classes(trace, query):
        st.latex(worked_example(trace, query, k, factor))
    shown = min(len(trace.prototypes), 5)
    d, p = trace.distances[query, :shown].tolist(), trace.probabilities[query, :shown].tolist()
    st.caption(t("protonet.view.numbers", last=shown - 1, distances=", ".join(f"{v:.2f}" for v in d),
                 probabilities=", ".join(f"{v:.3f}" for v in p)))  # fmt: skip


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

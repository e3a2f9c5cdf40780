"""Choosing a model for a person's images, and drawing what it made of them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.charts import show_chart
from app.errors import explain
from app.i18n import t
from app.models import load_shipped, session_models, shipped_checkpoints
from app.protonet_view import show_distances_and_probabilities, show_embedding_map
from core.algorithms import DISPLAY_NAMES, FewShotAlgorithm
from core.algorithms.maml import AdaptationTrace
from core.algorithms.protonet import PrototypeTrace
from core.algorithms.relationnet import RelationTrace
from core.episodes import Episode
from core.figures.maml import inner_loop_curves
from core.figures.montage import display_scale, image_row, png_data_url, to_display
from core.figures.relation import relation_heatmap
from core.user.classify import UserResult, predictions_csv
from core.user.wording import distinct_labels, short_name

IMAGENET = "ImageNet ResNet-18 features (photos)"


@st.cache_resource(show_spinner=False)
def _imagenet_model() -> FewShotAlgorithm:
    from core.algorithms.imagenet_prototypes import imagenet_prototypes

    return imagenet_prototypes("imagenet")


def imagenet_model() -> FewShotAlgorithm:
    """The ImageNet feature extractor, loaded once per server, with a spinner in the visitor's language."""
    with st.spinner(t("your.loading_imagenet")):
        return _imagenet_model()


def pick_model(prefix: str, prefer: str = "protonet-glyphs") -> tuple[str, FewShotAlgorithm] | None:
    """Any shipped or session-trained model, or the ImageNet feature extractor for photos.

    ``prefer`` names the shipped checkpoint chosen when the page first opens. None when the chosen
    model cannot be had (a warning says why); the caller keeps its inputs and turns off predictions.
    """
    options: dict[str, tuple[str, object]] = {}
    for algorithm in ("protonet", "maml", "relationnet"):
        for name, path in shipped_checkpoints(algorithm).items():
            options[f"{DISPLAY_NAMES[algorithm]} · shipped {name}"] = ("shipped", path)
        for name, (model, _) in session_models(algorithm).items():
            options[f"{DISPLAY_NAMES[algorithm]} · {name}"] = ("session", model)
    options[IMAGENET] = ("imagenet", None)
    names = list(options)
    # the widget's value is dropped while its mode is hidden; the visitor's own pick is kept beside it
    key, kept = f"{prefix}_model", st.session_state.get(f"{prefix}_model_kept")
    first = next((i for i, name in enumerate(names) if name.endswith(f"shipped {prefer}")), 0)
    choice = st.selectbox(t("your.model"), names, index=names.index(kept) if kept in names else first, key=key,
                          on_change=lambda: st.session_state.update({f"{prefix}_model_kept": st.session_state[key]}),
                          help=t("your.model_help"))  # fmt: skip
    kind, value = options[choice]
    if kind == "shipped":
        loaded = load_shipped(value)
        return (choice, loaded[0]) if loaded else None
    if kind == "session":
        return choice, value
    from core.algorithms.imagenet_prototypes import BackboneUnavailable, imagenet_weights_path

    if not imagenet_weights_path().is_file():
        st.caption(t("your.imagenet_download"))
    try:
        return choice, imagenet_model()
    except BackboneUnavailable as error:
        st.warning(t("your.unavailable", error=explain(error)))
        return None


def show_model_view(result: UserResult) -> None:
    """What the model saw: every image after the model's own preprocessing."""
    episode = result.episode
    scale = display_scale(episode.support_x.shape[-1], target=48)
    with st.expander(t("your.model_sees"), expanded=False):
        for k, name in enumerate(result.class_names):
            left, right = st.columns([1, 5], vertical_alignment="center")
            left.markdown(f"**{name}**")
            right.image(png_data_url(image_row(episode.support_x[episode.support_y == k], scale)))
        st.markdown(t("your.queries_bold"))
        st.image(png_data_url(image_row(episode.query_x, scale)))


GALLERY_COLUMNS, THUMBNAIL_PX = 6, 96


def show_predictions(result: UserResult, query_names: list[str]) -> None:
    """A gallery of the queries as the model saw them with their predicted class, then the table and CSV."""
    _gallery(result, query_names)
    names = result.class_names
    table = pd.DataFrame(result.probabilities.numpy(), columns=list(names), index=query_names)
    table.insert(0, t("your.predicted"), [names[int(p)] for p in result.predictions])
    st.dataframe(table, column_config={n: st.column_config.ProgressColumn(n, min_value=0, max_value=1, format="%.2f")
                                       for n in names})  # fmt: skip
    st.download_button(t("your.download_predictions"), predictions_csv(result, query_names),
                       file_name="predictions.csv", mime="text/csv", icon=":material/download:",
                       key="your_csv")  # fmt: skip


def _gallery(result: UserResult, query_names: list[str]) -> None:
    """Fixed-size thumbnails in rows of ``GALLERY_COLUMNS``; long names cut with an ellipsis, in full on hover."""
    episode, names = result.episode, result.class_names
    pictures = to_display(episode.query_x, display_scale(episode.query_x.shape[-1], target=THUMBNAIL_PX))
    best = result.probabilities.max(1).values
    blank = result.blank_queries or (False,) * len(query_names)
    for start in range(0, len(query_names), GALLERY_COLUMNS):
        columns = st.columns(GALLERY_COLUMNS)
        for column, q in zip(columns, range(start, min(start + GALLERY_COLUMNS, len(query_names))), strict=False):
            column.image(png_data_url(pictures[q]), width=THUMBNAIL_PX)
            predicted = names[int(result.predictions[q])]
            column.caption(f"{short_name(query_names[q], 14)}  \n→ {short_name(predicted, 12)} ({best[q]:.0%})",
                           help=f"{query_names[q]} → {predicted}")  # fmt: skip
            if blank[q]:
                column.caption(t("your.blank_query"))


def show_trace(result: UserResult, algorithm: FewShotAlgorithm, query_names: list[str]) -> None:
    """The algorithm's own view of the result, rows named by query file and columns by class name."""
    trace, rows, columns = result.trace, distinct_labels(query_names), distinct_labels(list(result.class_names))
    if isinstance(trace, PrototypeTrace):
        st.caption(t("your.coloured_by_prediction"))
        show_embedding_map(trace, result.episode)
        show_distances_and_probabilities(trace, getattr(algorithm, "distance", "euclidean"), rows, columns, key="your")
    elif isinstance(trace, RelationTrace):
        st.caption(t("your.relation_boxes"))
        _show_relation_heatmap(trace, result.episode, rows, columns)
    elif isinstance(trace, AdaptationTrace):
        support = t("your.support_loss")
        show_chart(inner_loop_curves({support: trace.support_loss}, t("your.inner_loop_title"), t("your.cross_entropy"),
                                     dotted=(support,)), key="your_maml_curve")  # fmt: skip
        changed = [
            int((trace.predictions[k] != trace.predictions[k - 1]).sum()) for k in range(1, len(trace.predictions))
        ]
        st.caption(t("your.changed", changed=changed))


def _show_relation_heatmap(trace: RelationTrace, episode: Episode, rows: list[str], columns: list[str]) -> None:
    scale = display_scale(episode.query_x.shape[-1], target=28)
    classes = [image_row(episode.support_x[episode.support_y == k], scale, gap=2, gap_value=128)
               for k in range(episode.n_way)]  # fmt: skip
    figure = relation_heatmap(trace.scores.numpy(), trace.query_y.numpy(), to_display(episode.query_x, scale), classes)
    figure.update_layout(xaxis_ticktext=columns, yaxis_ticktext=rows)
    figure.update_traces(customdata=[[(row, column) for column in columns] for row in rows],
                         hovertemplate="%{customdata[0]} vs %{customdata[1]}: %{z:.3f}<extra></extra>")  # fmt: skip
    show_chart(figure, key="your_relation_heatmap")

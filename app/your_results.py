"""Choosing a model for a person's images, and drawing what it made of them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.models import load_shipped, session_models, shipped_checkpoints
from app.protonet_view import show_distances_and_probabilities, show_embedding_map
from app.relation_view import show_heatmap
from core.algorithms import DISPLAY_NAMES, FewShotAlgorithm
from core.algorithms.maml import AdaptationTrace
from core.algorithms.protonet import PrototypeTrace
from core.algorithms.relationnet import RelationTrace
from core.figures.maml import inner_loop_curves
from core.figures.montage import display_scale, image_row, to_display
from core.user.classify import UserResult, predictions_csv

IMAGENET = "ImageNet ResNet-18 features (photos)"


@st.cache_resource(show_spinner="Loading the ImageNet ResNet-18 weights…")
def imagenet_model() -> FewShotAlgorithm:
    from core.algorithms.imagenet_prototypes import imagenet_prototypes

    return imagenet_prototypes("imagenet")


def pick_model(prefix: str, prefer: str = "protonet-glyphs") -> tuple[str, FewShotAlgorithm] | None:
    """Any shipped or session-trained model, or the ImageNet feature extractor for photos.

    ``prefer`` names the shipped checkpoint chosen when the page first opens.
    """
    options: dict[str, tuple[str, object]] = {}
    for algorithm in ("protonet", "maml", "relationnet"):
        for name, path in shipped_checkpoints(algorithm).items():
            options[f"{DISPLAY_NAMES[algorithm]} · shipped {name}"] = ("shipped", path)
        for name, (model, _) in session_models(algorithm).items():
            options[f"{DISPLAY_NAMES[algorithm]} · {name}"] = ("session", model)
    options[IMAGENET] = ("imagenet", None)
    names = list(options)
    first = next((i for i, name in enumerate(names) if name.endswith(f"shipped {prefer}")), 0)
    choice = st.selectbox("Model", names, index=first, key=f"{prefix}_model",
                          help="character models (glyphs, Omniglot) suit drawings and symbols; the ImageNet "
                          "features suit photos")  # fmt: skip
    kind, value = options[choice]
    if kind == "imagenet":
        from core.algorithms.imagenet_prototypes import imagenet_weights_path

        if not imagenet_weights_path().is_file():
            st.caption("The ImageNet weights (about 45 MB) are downloaded once, on first use, then cached.")
    if kind == "shipped":
        loaded = load_shipped(value)
        return (choice, loaded[0]) if loaded else None
    if kind == "session":
        return choice, value
    from core.algorithms.imagenet_prototypes import BackboneUnavailable

    try:
        return choice, imagenet_model()
    except BackboneUnavailable as error:
        st.warning(f"{error}")
        return None


def show_model_view(result: UserResult) -> None:
    """What the model saw: every image after the model's own preprocessing."""
    episode = result.episode
    scale = display_scale(episode.support_x.shape[-1], target=48)
    with st.expander("What the model sees (after its preprocessing)", expanded=False):
        for k, name in enumerate(result.class_names):
            left, right = st.columns([1, 5], vertical_alignment="center")
            left.markdown(f"**{name}**")
            right.image(image_row(episode.support_x[episode.support_y == k], scale))
        st.markdown("**queries**")
        st.image(image_row(episode.query_x, scale))


def show_predictions(result: UserResult, query_names: list[str]) -> None:
    episode, names = result.episode, result.class_names
    scale = display_scale(episode.query_x.shape[-1], target=72)
    best = result.probabilities.max(1).values
    captions = [f"{q[:14]} → {names[int(p)]} ({v:.0%})" for q, p, v in zip(query_names, result.predictions, best,
                                                                             strict=True)]  # fmt: skip
    st.image(to_display(episode.query_x, scale), caption=captions)
    table = pd.DataFrame(result.probabilities.numpy(), columns=list(names), index=query_names)
    table.insert(0, "predicted", [names[int(p)] for p in result.predictions])
    st.dataframe(table, column_config={n: st.column_config.ProgressColumn(n, min_value=0, max_value=1, format="%.2f")
                                       for n in names})  # fmt: skip
    st.download_button("Download the predictions (CSV)", predictions_csv(result, query_names),
                       file_name="predictions.csv", mime="text/csv", icon=":material/download:",
                       key="your_csv")  # fmt: skip


def show_trace(result: UserResult, algorithm: FewShotAlgorithm) -> None:
    trace = result.trace
    if isinstance(trace, PrototypeTrace):
        st.caption("Queries are coloured by their *predicted* class (their true class is not known).")
        show_embedding_map(trace, result.episode)
        show_distances_and_probabilities(trace, getattr(algorithm, "distance", "euclidean"))
    elif isinstance(trace, RelationTrace):
        st.caption("Boxes mark each query's highest relation score (green: the class it is given).")
        show_heatmap(trace, result.episode)
    elif isinstance(trace, AdaptationTrace):
        st.plotly_chart(inner_loop_curves({"support loss": trace.support_loss}, "MAML's inner loop on your support "
                                          "set", "cross-entropy"), key="your_maml_curve")  # fmt: skip
        changed = [
            int((trace.predictions[k] != trace.predictions[k - 1]).sum()) for k in range(1, len(trace.predictions))
        ]
        st.caption(f"Queries whose prediction changed at each inner step: {changed}.")

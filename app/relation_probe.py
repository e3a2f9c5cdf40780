"""The relation probe: any two images, both orders of the relation score, and every pair against ProtoNet."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch
from streamlit_drawable_canvas import st_canvas

from app.charts import show_chart
from app.draw_live import drawn_png
from app.server_limits import image_limits
from app.your_images import CANVAS
from core.algorithms import PrototypicalNetworks, RelationNetworks
from core.algorithms.relation_probe import PairComparison, compare_pairs
from core.episodes import Episode
from core.figures.montage import display_scale, to_display
from core.figures.probe import ScatterText, relation_distance_scatter
from core.preprocessing import adapt_episode
from core.user import UserImageError, decode_image
from core.user.ink import prepare_for_model

DRAWING = "drawing"
CACHE_KEY = "relation_probe_pairs"  # session state: (models and episode, their PairComparison)
MAX_PAIRS = 600  # ordered pairs in the scatter: about 60 ms of the relation module on one CPU core
TEXT = {
    "heading": "Relation probe: any two images, both orders",
    "intro": "The relation module reads the two feature maps **concatenated in a fixed order**: the class's first, "
    "the query's second. Put any two images in those places: a support image, a query, or your own drawing.",
    "a": "a, in the class's place",
    "b": "b, in the query's place",
    "support": "support",
    "query": "query",
    "class": "class",
    "drawing": "your drawing",
    "draw_here": "Draw on the canvas (white background, black ink).",
    "forward": "r(a, b)",
    "backward": "r(b, a)",
    "distance": "ProtoNet d(a, b) = d(b, a)",
    "forward_help": "a's features first, b's second: a plays the class, b the query",
    "backward_help": "the same two images, b's features first",
    "distance_help": "squared Euclidean distance of the two embeddings of {name}; a distance is symmetric",
    "difference": "Swapping the order changes the score by {difference:.3f}.",
    "no_protonet": "No shipped Prototypical Networks model to compare with: the scatter needs its distances.",
    "title": "Every pair of this episode: learned relation score against ProtoNet's distance",
    "x": "ProtoNet squared distance d(a, b) (fixed, symmetric)",
    "y": "relation score r(a, b) (learned)",
    "same": "a and b of one class",
    "other": "a and b of different classes",
    "reverse": "line: the same pair in the other order",
    "sampled": " A seeded sample of {shown} of the episode's {total} ordered pairs is drawn.",
    "explain": "**What you see.** Each dot is an ordered pair (a, b) of this episode's images. Its distance is the "
    "same in both orders, so a pair and its reverse sit on one vertical line, joined by a thin stroke: the stroke's "
    "length is what the order of the concatenation changes (on average {mean:.3f}, at most {most:.3f}, for "
    "{worst}). Were the relation score a fixed function of the distance, the dots would lie on one falling curve; "
    "the learned score ranks pairs its own way. Telling a same-class pair (green) from the others, the relation "
    "score is right {relation:.0%} of the time and the distance {distance:.0%} (the chance that a random "
    "same-class pair beats a random other pair). The two disagree most on {disputed} (circled): by the distance "
    "it is closer than {closeness:.0%} of the pairs, by the relation score above {relatedness:.0%} of them."
    "{sampled} Your pair is the orange star (r(a, b)) and diamond (r(b, a)).",
    "one_class": "one class",
    "two_classes": "two classes",
    "disputed_note": "most disputed",
}


@dataclass(frozen=True)
class ProbeImages:
    """The episode's images in each model's form (support first, then queries), their names and classes."""

    names: list[str]
    labels: torch.Tensor  # [N]
    relation_images: torch.Tensor  # uint8 [N, C, H, W] for the Relation Network
    protonet_images: torch.Tensor | None  # the same in ProtoNet's form; None without ProtoNet
    display: list[np.ndarray]  # what the page shows of each


def probe_images(episode: Episode, raw_episode: Episode, protonet: PrototypicalNetworks | None) -> ProbeImages:
    """``episode`` is ``raw_episode`` in the Relation Network's form."""
    names = [f"s{i}" for i in range(len(episode.support_y))] + [f"q{i}" for i in range(len(episode.query_y))]
    to_protonet = adapt_episode(raw_episode, protonet.preprocessing) if protonet else None
    scale = display_scale(raw_episode.query_x.shape[-1], 84)
    return ProbeImages(
        names, torch.cat([episode.support_y, episode.query_y]), torch.cat([episode.support_x, episode.query_x]),
        torch.cat([to_protonet.support_x, to_protonet.query_x]) if to_protonet else None,
        to_display(torch.cat([raw_episode.support_x, raw_episode.query_x]), scale),
    )  # fmt: skip


def pair_comparison(model: RelationNetworks, protonet: PrototypicalNetworks | None,
                    images: ProbeImages) -> PairComparison | None:  # fmt: skip
    """Every ordered pair of the episode (or ``MAX_PAIRS`` of them) scored by both models; the last one is kept
    in the session, so reruns of the page that keep the episode and the models skip the work."""
    if protonet is None:
        return None
    key = (id(model), id(protonet), hash(images.relation_images.numpy().tobytes()))
    cached = st.session_state.get(CACHE_KEY)
    if cached is not None and cached[0] == key:
        return cached[1]
    embeddings = protonet.embed(images.protonet_images)
    comparison = compare_pairs(model, images.relation_images, embeddings, images.labels, MAX_PAIRS)
    st.session_state[CACHE_KEY] = (key, comparison)
    return comparison


@st.fragment
def show_probe(model: RelationNetworks, protonet: tuple[str, PrototypicalNetworks] | None, images: ProbeImages,
               comparison: PairComparison | None) -> None:  # fmt: skip
    """Two pickers with their images (or a canvas), r(a, b) and r(b, a), then the scatter of every pair.

    A fragment: picking an image reruns this section only."""
    st.subheader(TEXT["heading"])
    st.markdown(TEXT["intro"])
    a_column, b_column, score_column = st.columns([1, 1, 1.2])
    first, second = _default_pair(images, comparison)
    a = _pick(a_column, "relation_probe_a", TEXT["a"], images, default=first)
    b = _pick(b_column, "relation_probe_b", TEXT["b"], images, default=second)
    drawing = _drawing(a_column if a == DRAWING else b_column) if DRAWING in (a, b) else None
    if DRAWING in (a, b) and drawing is None:
        score_column.info(TEXT["draw_here"])
        return
    pair = _probe_pair(model, protonet[1] if protonet else None, images, a, b, drawing)
    forward, backward = (float(v) for v in pair.relation)
    score_column.metric(TEXT["forward"], f"{forward:.3f}", help=TEXT["forward_help"])
    score_column.metric(TEXT["backward"], f"{backward:.3f}", help=TEXT["backward_help"])
    if protonet is not None:
        help_text = TEXT["distance_help"].format(name=protonet[0])
        score_column.metric(TEXT["distance"], f"{float(pair.distance[0]):.2f}", help=help_text)
    score_column.caption(TEXT["difference"].format(difference=abs(forward - backward)))
    if comparison is None:
        st.info(TEXT["no_protonet"])
        return
    _show_scatter(comparison, images.names, pair if protonet is not None else None)


def _default_pair(images: ProbeImages, comparison: PairComparison | None) -> tuple[int, int]:
    """The pair whose two orders differ most (it shows the point at once), else the first two images."""
    if comparison is None:
        return 0, 1
    worst = int(comparison.asymmetry.argmax())
    return int(comparison.first[worst]), int(comparison.second[worst])


def _pick(column, key: str, label: str, images: ProbeImages, default: int) -> str:
    options = [*images.names, DRAWING]
    with column:
        choice = st.selectbox(label, options, index=default, key=key, bind="query-params",
                              format_func=lambda name: _option_label(name, images))  # fmt: skip
        if choice != DRAWING:
            st.image(images.display[images.names.index(choice)], width=112)
    return choice


def _option_label(name: str, images: ProbeImages) -> str:
    if name == DRAWING:
        return TEXT["drawing"]
    label = int(images.labels[images.names.index(name)])
    return f"{name} · {TEXT['support' if name.startswith('s') else 'query']}, {TEXT['class']} {label}"


def _drawing(column):
    """The canvas's picture (PIL), or None while it is empty or cannot be read (then said why)."""
    with column:
        data = drawn_png(st_canvas(key="relation_probe_canvas", **CANVAS))
        if data is None:
            return None
        try:
            return decode_image("drawing.png", data, image_limits()).image
        except UserImageError as error:
            st.error(f"{error}")
            return None


def _probe_pair(model, protonet, images: ProbeImages, a: str, b: str, drawing) -> PairComparison:
    """The pairs (a, b) and (b, a) scored by both models (ProtoNet's distance zero when there is none)."""

    def take(name: str, form: torch.Tensor, preprocessing) -> torch.Tensor:
        if name == DRAWING:
            return prepare_for_model([drawing], preprocessing)
        return form[images.names.index(name)].unsqueeze(0)

    relation_images = torch.cat([take(n, images.relation_images, model.preprocessing) for n in (a, b)])
    if protonet is None:
        embeddings = torch.zeros(2, 1)
    else:
        embeddings = protonet.embed(torch.cat([take(n, images.protonet_images, protonet.preprocessing)
                                               for n in (a, b)]))  # fmt: skip
    return compare_pairs(model, relation_images, embeddings, torch.tensor([0, 1]), max_pairs=2)


def _show_scatter(comparison: PairComparison, names: list[str], pair: PairComparison | None) -> None:
    text = ScatterText(TEXT["title"], TEXT["x"], TEXT["y"], TEXT["same"], TEXT["other"], TEXT["reverse"],
                       TEXT["forward"], TEXT["backward"])  # fmt: skip
    disputed = comparison.most_disputed
    figure = relation_distance_scatter(comparison, names, text, pair, marked=(disputed, TEXT["disputed_note"]))
    show_chart(figure, key="relation_probe_scatter")
    closeness, relatedness = comparison.standing()
    first, second = int(comparison.first[disputed]), int(comparison.second[disputed])
    kind = TEXT["one_class" if comparison.same_class[disputed] else "two_classes"]
    asymmetry = comparison.asymmetry
    worst = int(asymmetry.argmax())
    shown = len(comparison.relation)
    sampled = (
        TEXT["sampled"].format(shown=shown, total=comparison.n_ordered_pairs)
        if shown < comparison.n_ordered_pairs
        else ""
    )
    st.markdown(TEXT["explain"].format(
        mean=float(asymmetry.mean()), most=float(asymmetry[worst]),
        worst=f"{names[int(comparison.first[worst])]} and {names[int(comparison.second[worst])]}",
        relation=comparison.relation_separation, distance=comparison.distance_separation, sampled=sampled,
        disputed=f"{names[first]} → {names[second]} ({kind})", closeness=float(closeness[disputed]),
        relatedness=float(relatedness[disputed]),
    ))  # fmt: skip

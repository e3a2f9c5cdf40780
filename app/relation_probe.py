"""The relation probe: any two images, both orders of the relation score, and every pair against ProtoNet."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch
from streamlit_drawable_canvas import st_canvas

from app.charts import show_chart
from app.draw_live import drawn_png
from app.errors import explain
from app.i18n import t
from app.server_limits import image_limits
from app.your_images import CANVAS
from core.algorithms import PrototypicalNetworks, RelationNetworks
from core.algorithms.relation_probe import PairComparison, compare_pairs
from core.episodes import Episode
from core.figures.montage import display_scale, png_data_url, to_display
from core.figures.probe import ScatterText, relation_distance_scatter
from core.preprocessing import adapt_episode
from core.user import UserImageError, decode_image
from core.user.ink import prepare_for_model

DRAWING = "drawing"
CACHE_KEY = "relation_probe_pairs"  # session state: (models and episode, their PairComparison)
MAX_PAIRS = 600  # ordered pairs in the scatter: about 60 ms of the relation module on one CPU core
# The probe's two scores: notation, the same in every language.
FORWARD, BACKWARD = "r(a, b)", "r(b, a)"


def _text(key: str, /, **params: object) -> str:
    return t(f"relation.probe.{key}", **params)


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
    st.subheader(_text("heading"))
    st.markdown(_text("intro"))
    a_column, b_column, score_column = st.columns([1, 1, 1.2])
    first, second = _default_pair(images, comparison)
    a = _pick(a_column, "relation_probe_a", _text("a"), images, default=first)
    b = _pick(b_column, "relation_probe_b", _text("b"), images, default=second)
    drawing = _drawing(a_column if a == DRAWING else b_column) if DRAWING in (a, b) else None
    if DRAWING in (a, b) and drawing is None:
        score_column.info(_text("draw_here"))
        return
    pair = _probe_pair(model, protonet[1] if protonet else None, images, a, b, drawing)
    forward, backward = (float(v) for v in pair.relation)
    score_column.metric(FORWARD, f"{forward:.3f}", help=_text("forward_help"))
    score_column.metric(BACKWARD, f"{backward:.3f}", help=_text("backward_help"))
    if protonet is not None:
        help_text = _text("distance_help", name=protonet[0])
        score_column.metric(_text("distance"), f"{float(pair.distance[0]):.2f}", help=help_text)
    score_column.caption(_text("difference", difference=abs(forward - backward)))
    if comparison is None:
        st.info(_text("no_protonet"))
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
        shown = {name: _option_label(name, images) for name in options}
        choice = st.selectbox(label, options, index=default, key=key, bind="query-params",
                              format_func=shown.__getitem__)  # fmt: skip
        if choice != DRAWING:
            st.image(png_data_url(images.display[images.names.index(choice)]), width=112)
    return choice


def _option_label(name: str, images: ProbeImages) -> str:
    if name == DRAWING:
        return _text("drawing")
    label = int(images.labels[images.names.index(name)])
    return _text("option", name=name, role=_text("support" if name.startswith("s") else "query"), label=label)


def _drawing(column):
    """The canvas's picture (PIL), or None while it is empty or cannot be read (then said why)."""
    with column:
        data = drawn_png(st_canvas(key="relation_probe_canvas", **CANVAS))
        if data is None:
            return None
        try:
            return decode_image("drawing.png", data, image_limits()).image
        except UserImageError as error:
            st.error(explain(error))
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
    text = ScatterText(_text("title"), _text("x"), _text("y"), _text("same"), _text("other"), _text("reverse"),
                       FORWARD, BACKWARD)  # fmt: skip
    disputed = comparison.most_disputed
    figure = relation_distance_scatter(comparison, names, text, pair, marked=(disputed, _text("disputed_note")))
    show_chart(figure, key="relation_probe_scatter")
    closeness, relatedness = comparison.standing()
    first, second = int(comparison.first[disputed]), int(comparison.second[disputed])
    kind = _text("one_class" if comparison.same_class[disputed] else "two_classes")
    asymmetry = comparison.asymmetry
    worst = int(asymmetry.argmax())
    shown = len(comparison.relation)
    sampled = (
        _text("sampled", shown=shown, total=comparison.n_ordered_pairs) if shown < comparison.n_ordered_pairs else ""
    )
    st.markdown(_text(
        "explain", mean=float(asymmetry.mean()), most=float(asymmetry[worst]),
        worst=_text("pair", first=names[int(comparison.first[worst])], second=names[int(comparison.second[worst])]),
        relation=comparison.relation_separation, distance=comparison.distance_separation, sampled=sampled,
        disputed=f"{names[first]} → {names[second]} ({kind})", closeness=float(closeness[disputed]),
        relatedness=float(relatedness[disputed]),
    ))  # fmt: skip

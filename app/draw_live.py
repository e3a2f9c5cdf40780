"""Draw mode for live demos: one canvas per class, then a query canvas classified after every stroke."""

from __future__ import annotations

import time

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app.charts import show_chart
from app.errors import explain
from app.i18n import t
from app.server_limits import image_limits
from app.your_images import CANVAS
from core.algorithms import FewShotAlgorithm
from core.figures.relation import score_bars
from core.user import ClassSet, NamedImage, UserClass, UserImageError, decode_image
from core.user.classify import classify


def drawn_png(result) -> bytes | None:
    """The canvas as PNG bytes, or None while nothing is drawn on it."""
    if result is None or not result.json_data or not result.json_data.get("objects"):
        return None
    return result.image_bytes


def draw_live(algorithm: FewShotAlgorithm | None) -> None:
    """Canvases for the classes and the query; ``algorithm`` None (model unavailable): no prediction."""
    n_way = int(st.number_input(t("your.draw.classes"), 2, 10, 2, key="draw_n_way"))
    st.caption(t("your.draw.caption"))
    _board(n_way, algorithm)


def _canvas(key: str) -> bytes | None:
    """A drawing canvas with visible Undo and Clear buttons under it; its PNG, or None while it is empty.

    The canvas cannot be changed from outside, so both buttons start a new one (a new widget key), Undo
    from the strokes but the last.
    """
    version = st.session_state.get(f"{key}_version", 0)
    result = st_canvas(key=key if version == 0 else f"{key}_v{version}",
                       initial_drawing=st.session_state.get(f"{key}_initial"), **CANVAS)  # fmt: skip
    objects = (result.json_data or {}).get("objects") if result is not None else None
    undo, clear = st.columns(2)
    kept = {**result.json_data, "objects": objects[:-1]} if objects and len(objects) > 1 else None
    undo.button(t("your.draw.undo"), key=f"{key}_undo", icon=":material/undo:", disabled=not objects,
                use_container_width=True, on_click=_restart, args=(key, version + 1, kept))  # fmt: skip
    clear.button(t("your.draw.clear"), key=f"{key}_clear", icon=":material/delete:", disabled=not objects,
                 use_container_width=True, on_click=_restart, args=(key, version + 1, None))  # fmt: skip
    return drawn_png(result)


def _restart(key: str, version: int, initial: dict | None) -> None:
    st.session_state[f"{key}_initial"] = initial
    st.session_state[f"{key}_version"] = version


@st.fragment
def _board(n_way: int, algorithm: FewShotAlgorithm | None) -> None:
    """The canvases and the prediction: a stroke reruns only this part of the page, not the model picker."""
    classes = []
    for k in range(n_way):
        if k % 3 == 0:  # three canvases a row: narrower ones would overlap the canvas toolbar and miss strokes
            columns = st.columns(3)
        with columns[k % 3]:
            default = t("your.draw.default_name", number=k + 1)
            name = st.text_input(t("your.draw.name_of", number=k + 1), default, key=f"draw_name_{k}", max_chars=40)
            classes.append((name.strip() or default, _canvas(f"draw_class_{k}")))
    names = [name for name, _ in classes]
    if len(set(names)) < len(names):
        st.warning(t("your.draw.same_name"))
        return
    missing = [name for name, data in classes if data is None]
    st.markdown(t("your.draw.query"))
    left, right = st.columns([1, 2])
    with left:
        query = _canvas("draw_query")
    if missing:
        right.info(t("your.draw.draw_first", names=", ".join(missing)))
        return
    if query is None:
        right.info(t("your.draw.draw_query"))
        return
    if algorithm is None:
        right.info(t("your.draw.unavailable"))
        return
    try:
        class_set = ClassSet(
            [UserClass(name, [NamedImage(f"{name}.png", decode_image(f"{name}.png", data, image_limits()).image)])
             for name, data in classes],
            [NamedImage("query.png", decode_image("query.png", query, image_limits()).image)],
        )  # fmt: skip
        start = time.perf_counter()
        result = classify(class_set, algorithm)
        milliseconds = 1000 * (time.perf_counter() - start)
    except (UserImageError, ValueError) as error:
        right.error(t("your.draw.cannot_classify", reason=explain(error)))
        return
    predicted = int(result.predictions[0])
    ms = f"{milliseconds:.0f}"
    right.metric(t("your.draw.prediction"), result.class_names[predicted], help=t("your.draw.classified_help", ms=ms))
    bars = score_bars(result.probabilities[0].numpy(), predicted, t("your.draw.bars_title"), t("your.draw.bars_axis"),
                      [0, 1])  # fmt: skip
    show_chart(bars.update_traces(x=list(result.class_names)), key="draw_bars", container=right)
    right.caption(t("your.draw.classified", ms=ms))

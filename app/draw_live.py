"""Draw mode for live demos: one canvas per class, then a query canvas classified after every stroke."""

from __future__ import annotations

import time

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app.server_limits import image_limits
from app.your_images import CANVAS
from core.algorithms import FewShotAlgorithm
from core.figures.relation import score_bars
from core.user import ClassSet, NamedImage, UserClass, UserImageError, decode_image
from core.user.classify import classify


def _drawn(result) -> bytes | None:
    """The canvas as PNG bytes, or None while nothing is drawn on it."""
    if result is None or not result.json_data or not result.json_data.get("objects"):
        return None
    return result.image_bytes


def draw_live(algorithm: FewShotAlgorithm | None) -> None:
    """Canvases for the classes and the query; ``algorithm`` None (model unavailable): no prediction."""
    n_way = int(st.number_input("classes", 2, 10, 3, key="draw_n_way"))
    st.caption("Draw one example of each class, then draw on the query canvas: the prediction updates after every "
               "stroke. Use the canvas toolbar to undo or clear.")  # fmt: skip
    classes = []
    for k in range(n_way):
        if k % 3 == 0:  # three canvases a row: narrower ones would overlap the canvas toolbar and miss strokes
            columns = st.columns(3)
        with columns[k % 3]:
            st.caption(f"class {k + 1}")
            result = st_canvas(key=f"draw_class_{k}", **CANVAS)
        classes.append((f"class {k + 1}", _drawn(result)))
    missing = [name for name, data in classes if data is None]
    st.markdown("**Query**")
    left, right = st.columns([1, 2])
    with left:
        query = _drawn(st_canvas(key="draw_query", **CANVAS))
    if missing:
        right.info(f"Draw an example for {', '.join(missing)} first.")
        return
    if query is None:
        right.info("Now draw a query on the left.")
        return
    if algorithm is None:
        right.info("The chosen model is unavailable here; choose another model to classify the query.")
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
        right.error(f"{error}")
        return
    predicted = int(result.predictions[0])
    right.metric("prediction", result.class_names[predicted], help=f"classified in {milliseconds:.0f} ms")
    bars = score_bars(result.probabilities[0].numpy(), predicted, "probability of each class", "probability", [0, 1])
    right.plotly_chart(bars.update_traces(x=list(result.class_names)), key="draw_bars")
    right.caption(f"Classified in {milliseconds:.0f} ms.")

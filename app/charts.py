"""Every chart of the app goes through ``show_chart``: the app's style, no Plotly toolbar."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from app.page import PRESENT_SCALE, presenting
from core.figures.style import apply_style

# Plotly's toolbar (zoom, pan, download) covers chart titles whenever the pointer rests on a chart.
CHART_CONFIG = {"displayModeBar": False, "displaylogo": False}


def show_chart(figure: go.Figure, container: Any = None, **kwargs: Any) -> None:
    """``st.plotly_chart(figure, **kwargs)`` in ``container`` (a column, ``st.empty()``; the page by default)
    with the app's chart style (``core.figures.style``) and Plotly's toolbar hidden.

    Streamlit's own chart theme is turned off (``theme=None``): it overrides a figure's fonts, its own
    layout included, with 12 px labels. ``config`` entries given here add to or replace ``CHART_CONFIG``.
    With large text on (``?present=1``) the fonts are ``PRESENT_SCALE`` times larger, and so is a fixed
    height, on a copy: a figure can come from a cache and must not grow at every run.
    """
    config = {**CHART_CONFIG, **kwargs.pop("config", {})}
    kwargs.setdefault("theme", None)
    scale = PRESENT_SCALE if presenting() else 1.0
    if scale != 1:
        figure = go.Figure(figure)
        if figure.layout.height:
            figure.layout.height = round(figure.layout.height * scale)
        if figure.layout.font.size:  # a figure's own base size wins over the template's: scale it too
            figure.layout.font.size = round(figure.layout.font.size * scale)
    target = container if container is not None else st
    target.plotly_chart(apply_style(figure, scale=scale), config=config, **kwargs)

"""The app's chart style: text a room can read from the back, colours that stay apart.

One plotly template, ``playground``, built on ``plotly_white``: labels, legends and
annotations at ``BASE_FONT_PX``, axis titles at ``AXIS_TITLE_PX``, chart titles at
``TITLE_PX``, axes that grow their margins to fit their labels, and a colour-blind-safe
colour cycle (Okabe & Ito) without near-pairs. Importing ``core.figures`` registers it and
makes it the default; ``apply_style`` sets it on a figure made before, or under another
default (Streamlit makes its own the default when it is imported). ``apply_style(figure, scale=1.3)``
sets a variant, ``playground_x1.3``, with every font and the margins scaled, for a projector.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

TEMPLATE_NAME = "playground"
BASE_FONT_PX = 15
AXIS_TITLE_PX = 16
TITLE_PX = 18
FONT_FAMILY = '"Source Sans", "Source Sans Pro", "Helvetica Neue", Arial, sans-serif'  # Streamlit's own first
TEXT_COLOUR = "#262730"
# Okabe & Ito (2008), yellow left out (it vanishes on white), grey and black kept apart.
COLOURWAY = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#999999")
MARGIN = {"l": 10, "r": 24, "t": 64, "b": 10}


def _axis(base_px: int, axis_title_px: int) -> dict:
    return {"automargin": True, "tickfont": {"size": base_px}, "title": {"font": {"size": axis_title_px}}}


def template_name(scale: float = 1.0) -> str:
    """``playground`` at scale 1, else ``playground_x<scale>``."""
    return TEMPLATE_NAME if scale == 1 else f"{TEMPLATE_NAME}_x{scale:g}"


def playground_template(scale: float = 1.0) -> go.layout.Template:
    """``plotly_white`` with the app's fonts, colours and margins; fonts and margins times ``scale``."""
    if not scale > 0:
        raise ValueError(f"the chart scale must be positive, got {scale}")
    base, axis_title, title = (round(px * scale) for px in (BASE_FONT_PX, AXIS_TITLE_PX, TITLE_PX))
    template = go.layout.Template(pio.templates["plotly_white"])
    template.layout.update(
        font={"size": base, "family": FONT_FAMILY, "color": TEXT_COLOUR},
        title={"font": {"size": title}, "x": 0.01, "xanchor": "left", "automargin": True},
        colorway=COLOURWAY,
        margin={side: round(px * scale) for side, px in MARGIN.items()},
        legend={"font": {"size": base}},
        hoverlabel={"font": {"size": base, "family": FONT_FAMILY}},
        xaxis=_axis(base, axis_title),
        yaxis=_axis(base, axis_title),
    )
    return template


def register() -> None:
    """Register the ``playground`` template and make it plotly's default."""
    pio.templates[TEMPLATE_NAME] = playground_template()
    pio.templates.default = TEMPLATE_NAME


def apply_style(figure: go.Figure, scale: float = 1.0) -> go.Figure:
    """Set the ``playground`` template (``scale`` times its fonts) on ``figure`` (in place) and return it;
    the figure's own layout still wins, its fixed height included (``show_chart`` scales that one).
    """
    if TEMPLATE_NAME not in pio.templates:
        register()
    name = template_name(scale)
    if name not in pio.templates:
        pio.templates[name] = playground_template(scale)
    figure.layout.template = pio.templates[name]
    return figure

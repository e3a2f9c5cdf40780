"""The app's chart style: text a room can read from the back, colours that stay apart.

One plotly template, ``playground``, built on ``plotly_white``: labels, legends and
annotations at ``BASE_FONT_PX``, axis titles at ``AXIS_TITLE_PX``, chart titles at
``TITLE_PX``, axes that grow their margins to fit their labels, and a colour-blind-safe
colour cycle (Okabe & Ito) without near-pairs. Importing ``core.figures`` registers it and
makes it the default; ``apply_style`` sets it on a figure made before, or under another
default (Streamlit makes its own the default when it is imported).
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


def _axis() -> dict:
    return {"automargin": True, "tickfont": {"size": BASE_FONT_PX}, "title": {"font": {"size": AXIS_TITLE_PX}}}


def playground_template() -> go.layout.Template:
    """``plotly_white`` with the app's fonts, colours and margins."""
    template = go.layout.Template(pio.templates["plotly_white"])
    template.layout.update(
        font={"size": BASE_FONT_PX, "family": FONT_FAMILY, "color": TEXT_COLOUR},
        title={"font": {"size": TITLE_PX}, "x": 0.01, "xanchor": "left", "automargin": True},
        colorway=COLOURWAY,
        margin=MARGIN,
        legend={"font": {"size": BASE_FONT_PX}},
        hoverlabel={"font": {"size": BASE_FONT_PX, "family": FONT_FAMILY}},
        xaxis=_axis(),
        yaxis=_axis(),
    )
    return template


def register() -> None:
    """Register the ``playground`` template and make it plotly's default."""
    pio.templates[TEMPLATE_NAME] = playground_template()
    pio.templates.default = TEMPLATE_NAME


def apply_style(figure: go.Figure) -> go.Figure:
    """Set the ``playground`` template on ``figure`` (in place) and return it; the figure's own layout still wins."""
    if TEMPLATE_NAME not in pio.templates:
        register()
    figure.layout.template = pio.templates[TEMPLATE_NAME]
    return figure

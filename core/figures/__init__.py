"""Plotly figure builders: data in, ``go.Figure`` out; no Streamlit, no model code.

``common`` holds the shared palette and the embedding map, heat map, bars and training
curves; one module per page topic holds the rest. ``style`` holds the app's chart
template: importing this package registers it and makes it plotly's default.
"""

from core.figures.style import register as _register_style

_register_style()

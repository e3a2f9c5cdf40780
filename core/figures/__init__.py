"""Plotly figure builders: data in, ``go.Figure`` out; no Streamlit, no model code.

``common`` holds the shared palette and the embedding map, heat map, bars and training
curves; one module per page topic holds the rest.
"""

"""MAML in 2-D: θ is a point in the plane, every task a loss on it; inner steps, meta-gradients, meta-training."""

import streamlit as st

from app.maml_plane_view import code, interactive
from app.page import page_setup
from core.toys.maml_plane import adapt_every_task, maml_loss, outer_gradient

page_setup("MAML in 2-D")
st.title("MAML in 2-D")
interactive()
code([adapt_every_task, maml_loss, outer_gradient])

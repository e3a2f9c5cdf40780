"""MAML in 2-D: θ is a point in the plane, every task a loss on it; inner steps, meta-gradients, meta-training."""

import streamlit as st

from app.i18n import t
from app.maml_plane_view import code, interactive
from app.page import page_setup
from core.toys.maml_plane import adapt_every_task, maml_loss, outer_gradient

page_setup(t("nav.maml_2d"))
st.title(t("maml_plane.title"))
interactive()
code([adapt_every_task, maml_loss, outer_gradient])

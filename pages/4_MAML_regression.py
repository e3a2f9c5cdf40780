"""MAML regression: the sine-wave experiment of Finn et al. (2017), meta-trained, compared and replayed in the page."""

import streamlit as st

from app.i18n import t
from app.page import page_setup
from app.sinusoid_view import (
    shipped_caption,
    shipped_pair,
    shipped_provenance,
    show_comparison,
    show_training_report,
    show_training_scrub,
    task_controls,
    training_panel,
    training_settings,
)

page_setup(t("nav.maml_regression"))
st.title(t("sine.title"))
st.caption(t("sine.caption"))
with st.expander(t("sine.about"), icon=":material/info:"):
    st.markdown(t("sine.about_text"))

config = training_settings()
run = training_panel(config)
if run is None and (run := shipped_pair()) is not None:
    shipped_caption(run)
elif run is None:
    st.info(t("sine.press_train"))
    st.stop()

task, points_seed, steps = task_controls()
n_shot = int(st.session_state["sine_n_shot"])
if steps:
    show_comparison(run, task, n_shot, points_seed, steps)
else:
    st.info(t("sine.choose_steps"))

st.subheader(t("sine.scrub_header"))
show_training_scrub(run, task, n_shot, points_seed)
show_training_report(run)
shipped_provenance(run)

"""Episodes: sample N-way K-shot tasks from a data set and look at them."""

import streamlit as st

from app.datasets import dataset_controls, load_or_explain
from app.episode_controls import episode_controls, sample_or_explain
from app.episode_view import show_query, show_statistics, show_support
from app.i18n import t
from app.page import page_setup

page_setup(t("nav.episodes"))
st.title(t("episodes.title"))
st.markdown(t("episodes.intro"))

spec = dataset_controls(prefer="omniglot")
dataset = load_or_explain(spec)
if dataset is None:
    st.stop()
choice = episode_controls(spec, dataset)
episode = sample_or_explain(dataset, choice)
if episode is None:
    show_statistics(dataset)
    st.stop()
show_support(episode)
show_query(episode)
with st.expander(t("episodes.statistics"), expanded=False):
    show_statistics(dataset)

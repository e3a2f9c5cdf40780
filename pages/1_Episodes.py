"""Episodes: sample N-way K-shot tasks from a data set and look at them."""

import streamlit as st

from app.datasets import dataset_controls, load_or_explain
from app.episode_controls import episode_controls, sample_or_explain
from app.episode_view import show_query, show_statistics, show_support
from app.page import page_setup

page_setup("Episodes")
st.title("Episodes")
st.markdown(
    "A few-shot task, an **episode**, gives a learner `n_way` classes it has never seen, "
    "`n_shot` labelled examples of each (the **support set**), and asks it to classify "
    "`n_query` new images of each class (the **query set**). Meta-learning trains on "
    "thousands of such episodes. Every setting is in the URL: copy it to share this episode."
)

spec = dataset_controls()
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
with st.expander("Data set statistics", expanded=False):
    show_statistics(dataset)

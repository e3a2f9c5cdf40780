"""Episodes: sample N-way K-shot tasks from a data set and look at them."""

import streamlit as st

from app.datasets import dataset_controls, load_or_explain, split_control
from app.episode_view import show_query, show_statistics, show_support
from app.page import page_setup, report_unused_link_values
from core.episodes import EpisodeSampler

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
split = split_control(dataset)
sidebar = st.sidebar
n_way = sidebar.number_input("n_way (classes)", min_value=2, value=5, key="n_way", bind="query-params")
n_shot = sidebar.number_input("n_shot (examples per class)", min_value=1, value=1, key="n_shot", bind="query-params")
n_query = sidebar.number_input("n_query (queries per class)", min_value=1, value=5, key="n_query", bind="query-params")
seed = sidebar.number_input("seed", min_value=0, value=0, key="seed", bind="query-params")


def next_episode() -> None:
    st.session_state["episode"] = st.session_state.get("episode", 0) + 1


sidebar.button("New episode", on_click=next_episode, type="primary", icon=":material/casino:")
index = sidebar.number_input("episode number", min_value=0, value=0, key="episode", bind="query-params")
report_unused_link_values(
    {
        "dataset": spec.source,
        "split": split,
        "n_way": n_way,
        "n_shot": n_shot,
        "n_query": n_query,
        "seed": seed,
        "episode": index,
    }
)

try:
    sampler = EpisodeSampler(dataset, split, n_way, n_shot, n_query, seed=seed)
except ValueError as error:
    st.error(f"{error}.")
    show_statistics(dataset)
    st.stop()

episode = sampler.episode(index)
st.caption(
    f"Episode {index} of seed {seed} · split `{split}` ({len(sampler.eligible)} classes to draw from) · "
    f"{n_way}-way {n_shot}-shot, {n_query} queries per class"
)
show_support(episode)
show_query(episode)
with st.expander("Data set statistics", expanded=False):
    show_statistics(dataset)

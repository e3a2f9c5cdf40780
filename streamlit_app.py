"""Home: a live few-shot episode answered by the shipped Prototypical Network, and where to start."""

import streamlit as st

from app.home_view import algorithm_links, answer, data_source, episode_index, new_episode_button, show_answer
from app.page import page_setup

page_setup("Home")
st.title("Meta-Learning Playground")
st.markdown(
    "Five classes it has never seen, **one example each**, and a new image to place: "
    "a meta-learned model does it at a glance. Here is the shipped Prototypical Network at work."
)
source = data_source()
new_episode_button()
result = answer(source, episode_index())
if result is not None:
    show_answer(result)

st.subheader("Look inside each algorithm")
algorithm_links()

st.subheader("Where to start")
st.markdown(
    "- New to it? **Learn: meta-learning** explains the words (support set, query set, episode) in five minutes.\n"
    "- Want to see the data? **Episodes** draws any `n_way`-`n_shot` task, and **Your images** builds one "
    "from your own pictures.\n"
    "- Want a verdict? **Compare** runs every algorithm on the same episodes, and **You vs the model** lets "
    "you play against them."
)

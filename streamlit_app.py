"""Home: a live few-shot episode answered by the shipped Prototypical Network, and where to start."""

import streamlit as st

from app.home_view import algorithm_links, answer, data_source, episode_index, new_episode_button, show_answer
from app.i18n import t
from app.page import page_setup

page_setup(t("nav.home"))
st.title(t("app.name"))
st.markdown(t("home.intro"))
source = data_source()
new_episode_button()
result = answer(source, episode_index())
if result is not None:
    show_answer(result)

st.subheader(t("home.look_inside"))
algorithm_links()

st.subheader(t("home.where_to_start"))
st.markdown(t("home.start_list"))

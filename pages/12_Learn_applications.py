"""Learn: applications and how to try each here, tools and resources, open challenges."""

import streamlit as st

from app.i18n import t
from app.learn_text import section
from app.page import page_setup
from app.server_limits import server_limits

page_setup(t("learn.applications.tab"))
st.title(t("learn.applications.title"))

st.header(t("learn.applications.applications"))
st.subheader(t("learn.applications.medical"))
st.markdown(section("app_medical"))
folders = server_limits().folder_paths  # a public demo opens no folders on its server
if folders:
    st.page_link("pages/1_Episodes.py", label=t("learn.applications.link_folder"), icon=":material/folder_open:")
st.page_link("pages/6_Your_images.py", label=t("learn.applications.link_upload"),
             icon=":material/add_photo_alternate:")  # fmt: skip

st.subheader(t("learn.applications.robotics"))
st.markdown(section("app_robotics"))
st.page_link("pages/4_MAML_regression.py", label=t("learn.applications.link_sine"),
             icon=":material/show_chart:")  # fmt: skip

st.subheader(t("learn.applications.recommendation"))
st.markdown(section("app_recommendation"))
st.page_link("pages/6_Your_images.py", label=t("learn.applications.link_new_user"),
             icon=":material/add_photo_alternate:")  # fmt: skip

st.header(t("learn.applications.resources"))
st.subheader(t("learn.applications.libraries"))
st.markdown(section("libraries"))
st.subheader(t("learn.applications.datasets"))
st.markdown(section("datasets"))
st.markdown(section("datasets_note"))
link_datasets = t("learn.applications.link_datasets_folder" if folders else "learn.applications.link_datasets")
st.page_link("pages/1_Episodes.py", label=link_datasets, icon=":material/grid_view:")
st.subheader(t("learn.applications.papers"))
st.markdown(section("papers"))

st.header(t("learn.applications.challenges"))
st.markdown(section("challenges"))

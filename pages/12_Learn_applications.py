"""Learn: applications and how to try each here, tools and resources, open challenges."""

import streamlit as st

from app.learn_text import section
from app.page import page_setup
from app.server_limits import server_limits

page_setup("Learn: applications")
st.title("Learn: applications, resources and open problems")

st.header("Applications")
st.subheader("Medical image analysis")
st.markdown(section("app_medical"))
folders = server_limits().folder_paths  # a public demo opens no folders on its server
if folders:
    st.page_link("pages/1_Episodes.py", label="Episodes: open a folder data set", icon=":material/folder_open:")
st.page_link("pages/6_Your_images.py", label="Your images: upload a few images per class",
             icon=":material/add_photo_alternate:")  # fmt: skip

st.subheader("Robotics and control")
st.markdown(section("app_robotics"))
st.page_link("pages/4_MAML_regression.py", label="MAML regression: adapt to a new sine wave",
             icon=":material/show_chart:")  # fmt: skip

st.subheader("Recommendation")
st.markdown(section("app_recommendation"))
st.page_link("pages/6_Your_images.py", label="Your images: a new user with five examples per class",
             icon=":material/add_photo_alternate:")  # fmt: skip

st.header("Tools and resources")
st.subheader("Libraries")
st.markdown(section("libraries"))
st.subheader("Data sets")
st.markdown(section("datasets"))
st.markdown(section("datasets_note"))
st.page_link("pages/1_Episodes.py", label="Episodes: Omniglot, glyphs" + (" or a folder" if folders else ""),
             icon=":material/grid_view:")  # fmt: skip
st.subheader("Key papers")
st.markdown(section("papers"))

st.header("Open challenges and directions")
st.markdown(section("challenges"))

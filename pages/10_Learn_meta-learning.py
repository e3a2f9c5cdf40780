"""Learn: what meta-learning is, where it came from, its three families, and common questions."""

import streamlit as st

from app.i18n import t
from app.learn_text import section
from app.page import page_setup

page_setup(t("learn.meaning.tab"))
st.title(t("learn.meaning.title"))
st.markdown(section("what_is"))
st.markdown(section("what_is_try"))
st.page_link("pages/1_Episodes.py", label=t("learn.meaning.link_episodes"), icon=":material/grid_view:")

st.header(t("learn.meaning.history"))
st.markdown(section("history"))
st.markdown(section("history_note"))

st.header(t("learn.meaning.families"))
st.page_link("pages/11_Learn_algorithms.py", label=t("learn.meaning.link_algorithms"), icon=":material/school:")
metric, model, optimisation = st.columns(3)
with metric:
    st.markdown(section("family_metric"))
    st.page_link("pages/2_Prototypical_Networks.py", label=t("nav.protonet"), icon=":material/scatter_plot:")
    st.page_link("pages/5_Relation_Networks.py", label=t("nav.relationnet"), icon=":material/compare_arrows:")
with model:
    st.markdown(section("family_model"))
with optimisation:
    st.markdown(section("family_optimisation"))
    st.page_link("pages/3_MAML.py", label=t("nav.maml"), icon=":material/model_training:")
    st.page_link("pages/4_MAML_regression.py", label=t("nav.maml_regression"), icon=":material/show_chart:")
st.info(section("tutorial_differences"), icon=":material/fact_check:")

st.header(t("learn.meaning.questions"))
with st.expander(t("learn.meaning.faq_choosing"), expanded=True):
    st.markdown(section("faq_choosing"))
    st.page_link("pages/7_Compare.py", label=t("nav.compare"), icon=":material/leaderboard:")
    st.page_link("pages/9_Which_algorithm.py", label=t("learn.meaning.link_which"), icon=":material/help:")
with st.expander(t("learn.meaning.faq_few_samples"), expanded=True):
    st.markdown(section("faq_few_samples"))
    st.page_link("pages/8_You_vs_the_model.py", label=t("learn.meaning.link_game"), icon=":material/person:")
with st.expander(t("learn.meaning.faq_rl"), expanded=True):
    st.markdown(section("faq_rl"))
    st.page_link("pages/4_MAML_regression.py", label=t("nav.maml_regression"), icon=":material/show_chart:")

st.header(t("learn.meaning.in_short"))
st.markdown(section("what_is_meta_learning_home"))

st.header(t("learn.meaning.pages"))
st.markdown(section("playground_pages"))
st.page_link("pages/14_Glossary.py", label=t("learn.meaning.link_glossary"), icon=":material/translate:")

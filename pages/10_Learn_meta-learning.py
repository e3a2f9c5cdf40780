"""Learn: what meta-learning is, where it came from, its three families, and common questions."""

import streamlit as st

from app.learn_text import section
from app.page import page_setup

page_setup("Learn: meta-learning")
st.title("Learn: what meta-learning is")
st.markdown(section("what_is"))
st.markdown(section("what_is_try"))
st.page_link("pages/1_Episodes.py", label="Episodes: sample a few-shot task", icon=":material/grid_view:")

st.header("Where it came from")
st.markdown(section("history"))
st.markdown(section("history_note"))

st.header("Three families")
st.page_link("pages/11_Learn_algorithms.py", label="Each algorithm step by step", icon=":material/school:")
metric, model, optimisation = st.columns(3)
with metric:
    st.markdown(section("family_metric"))
    st.page_link("pages/2_Prototypical_Networks.py", label="Prototypical Networks", icon=":material/scatter_plot:")
    st.page_link("pages/5_Relation_Networks.py", label="Relation Networks", icon=":material/compare_arrows:")
with model:
    st.markdown(section("family_model"))
with optimisation:
    st.markdown(section("family_optimisation"))
    st.page_link("pages/3_MAML.py", label="MAML", icon=":material/model_training:")
    st.page_link("pages/4_MAML_regression.py", label="MAML regression", icon=":material/show_chart:")
st.info(section("tutorial_differences"), icon=":material/fact_check:")

st.header("Questions")
with st.expander("How do I choose an algorithm?", expanded=True):
    st.markdown(section("faq_choosing"))
    st.page_link("pages/7_Compare.py", label="Compare", icon=":material/leaderboard:")
    st.page_link("pages/9_Which_algorithm.py", label="Which algorithm", icon=":material/help:")
with st.expander("Why does meta-learning help with few samples?", expanded=True):
    st.markdown(section("faq_few_samples"))
    st.page_link(
        "pages/8_You_vs_the_model.py", label="You vs the model: one-shot learning first-hand", icon=":material/person:"
    )
with st.expander("How are meta-learning and reinforcement learning related?", expanded=True):
    st.markdown(section("faq_rl"))
    st.page_link("pages/4_MAML_regression.py", label="MAML regression", icon=":material/show_chart:")

st.header("In short")
st.markdown(section("what_is_meta_learning_home"))

st.header("What each page shows")
st.markdown(section("playground_pages"))

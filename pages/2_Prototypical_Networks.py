"""Prototypical Networks: prototypes you can push, distances and probabilities on the current episode."""

import streamlit as st

from app.algorithm_inputs import algorithm_inputs
from app.code_view import show_code
from app.i18n import t
from app.page import page_setup
from app.protonet_map import pushed_sections, show_last_map_while_training
from app.protonet_replay import replay_section
from app.protonet_shots import show_shots
from app.protonet_view import distance_option
from core.algorithms import PrototypicalNetworks
from core.algorithms.protonet import compute_prototypes, cosine_distance, squared_euclidean
from core.preprocessing import adapt_episode

page_setup(t("nav.protonet"))
st.title(t("protonet.page.title"))
st.markdown(t("protonet.page.intro"))
explained = st.empty()  # what the model computed comes first; the model and episode controls follow it
with explained.container():
    show_last_map_while_training()

inputs = algorithm_inputs("protonet", "protonet",
                          lambda preprocessing, distance, **_: PrototypicalNetworks(preprocessing, distance=distance),
                          n_query_default=5, sidebar_options=distance_option)  # fmt: skip
if inputs is None:
    st.stop()

model = inputs.model
episode = adapt_episode(inputs.raw_episode, model.algorithm.preprocessing)
with explained.container():
    pushed_sections(inputs, episode, model.algorithm.explain(episode))
    replay_section(model, episode, (inputs.spec, inputs.choice))
    show_shots(inputs, episode)
st.markdown(t("protonet.page.steps"))
measure = squared_euclidean if model.algorithm.distance == "euclidean" else cosine_distance
show_code([compute_prototypes, measure, PrototypicalNetworks.distances, PrototypicalNetworks.logits], inputs)

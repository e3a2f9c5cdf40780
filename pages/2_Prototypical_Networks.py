"""Prototypical Networks: prototypes, distances and probabilities on the current episode."""

import streamlit as st

from app.algorithm_inputs import algorithm_inputs
from app.code_view import show_code
from app.page import page_setup
from app.protonet_view import (
    STEPS,
    distance_option,
    pick_query,
    show_distances_and_probabilities,
    show_embedding_map,
    show_query,
)
from core.algorithms import PrototypicalNetworks
from core.algorithms.protonet import compute_prototypes, cosine_distance, squared_euclidean
from core.preprocessing import adapt_episode

page_setup("Prototypical Networks")
st.title("Prototypical Networks")
st.markdown(
    "Snell et al. (2017): embed the images, average each class's support embeddings into a "
    "**prototype**, and give each query to the nearest prototype. Below, on the current episode."
)


inputs = algorithm_inputs("protonet", "protonet",
                          lambda preprocessing, distance, **_: PrototypicalNetworks(preprocessing, distance=distance),
                          n_query_default=5, sidebar_options=distance_option)  # fmt: skip
if inputs is None:
    st.stop()

model = inputs.model
episode = adapt_episode(inputs.raw_episode, model.algorithm.preprocessing)
trace = model.algorithm.explain(episode)
correct = int((trace.predictions == trace.query_y).sum())
st.metric("Accuracy on this episode's queries", f"{100 * trace.accuracy:.1f}%",
          help=f"{correct} of {len(trace.query_y)} queries; model: {model.label}")  # fmt: skip
show_embedding_map(trace, episode)
show_distances_and_probabilities(trace, model.algorithm.distance)
query = pick_query(trace)
show_query(trace, episode, query, model.algorithm.distance)
st.markdown(STEPS)
measure = squared_euclidean if model.algorithm.distance == "euclidean" else cosine_distance
show_code([compute_prototypes, measure, PrototypicalNetworks.distances, PrototypicalNetworks.logits], inputs)

"""Prototypical Networks: prototypes, distances and probabilities on the current episode."""

import streamlit as st

from app.datasets import dataset_controls, load_or_explain
from app.device import device_control
from app.episode_controls import episode_controls, sample_or_explain
from app.model_picker import model_picker
from app.page import page_setup
from app.protonet_view import STEPS, pick_query, show_distances_and_probabilities, show_embedding_map, show_query
from core.algorithms import PrototypicalNetworks
from core.preprocessing import adapt_episode

page_setup("Prototypical Networks")
st.title("Prototypical Networks")
st.markdown(
    "Snell et al. (2017): embed the images, average each class's support embeddings into a "
    "**prototype**, and give each query to the nearest prototype. Below, on the current episode."
)

spec = dataset_controls()
dataset = load_or_explain(spec)
if dataset is None:
    st.stop()
choice = episode_controls(spec, dataset, n_query_default=5)
device_control()
distance = st.sidebar.radio("distance (for models trained here)", ["euclidean", "cosine"], key="protonet_distance")
model = model_picker(
    "protonet",
    "protonet",
    spec,
    dataset,
    lambda preprocessing, **_: PrototypicalNetworks(preprocessing, distance=distance),
)
episode = sample_or_explain(dataset, choice)
if model is None or episode is None:
    st.stop()

episode = adapt_episode(episode, model.algorithm.preprocessing)
trace = model.algorithm.explain(episode)
correct = int((trace.predictions == trace.query_y).sum())
st.metric("Accuracy on this episode's queries", f"{100 * trace.accuracy:.1f}%",
          help=f"{correct} of {len(trace.query_y)} queries; model: {model.label}")  # fmt: skip
show_embedding_map(trace, episode)
show_distances_and_probabilities(trace, model.algorithm.distance)
query = pick_query(trace)
show_query(trace, episode, query, model.algorithm.distance)
st.markdown(STEPS)

"""Relation Networks: a learned comparison, read off a heat map of relation scores."""

import streamlit as st

from app import relation_probe, relation_view
from app.algorithm_inputs import algorithm_inputs
from app.code_view import show_code
from app.i18n import t
from app.page import page_setup
from app.training_panel import TrainingDefaults
from core.algorithms import RelationNetworks
from core.algorithms.relationnet import RelationModule, class_features, relation_pairs
from core.preprocessing import adapt_episode

page_setup(t("nav.relationnet"))
st.title(t("relation.title"))
st.markdown(t("relation.intro"))
figure_area, controls = relation_view.layout()
with controls:
    inputs = algorithm_inputs(
        relation_view.PREFIX, "relationnet",
        lambda preprocessing, n_shot, loss, **_: RelationNetworks(preprocessing, loss=loss, train_shots=n_shot),
        n_query_default=3, sidebar_options=relation_view.loss_option,
        defaults=TrainingDefaults(episodes=200, n_way=5, n_shot=1),
    )  # fmt: skip
if inputs is None:
    st.stop()

model, choice = inputs.model, inputs.choice
episode = adapt_episode(inputs.raw_episode, model.algorithm.preprocessing)
trace = model.algorithm.explain(episode)
with controls:
    correct = int((trace.predictions == trace.query_y).sum())
    st.metric(
        t("relation.accuracy"),
        f"{100 * trace.accuracy:.1f}%",
        help=t("relation.accuracy_help", correct=correct, total=len(trace.query_y), model=model.display_name),
    )
with figure_area:
    relation_view.heatmap_section(trace, episode)
train_shots = model.algorithm.train_shots
if train_shots != choice.n_shot:
    st.caption(t("relation.shots_note", train_shots=train_shots, n_shot=choice.n_shot))
protonet = relation_view.shipped_protonet(inputs.spec.source)
relation_view.query_section(trace, episode, inputs.raw_episode, protonet)
images = relation_probe.probe_images(episode, inputs.raw_episode, protonet[1] if protonet else None)
comparison = relation_probe.pair_comparison(model.algorithm, protonet[1] if protonet else None, images)
relation_probe.show_probe(model.algorithm, protonet, images, comparison)
st.subheader(t("relation.network"))
diagram, steps = st.columns([1, 1], gap="medium")
with diagram:
    relation_view.show_architecture(trace)
steps.markdown(relation_view.steps())
show_code([class_features, relation_pairs, RelationModule, RelationNetworks.relation_values], inputs)

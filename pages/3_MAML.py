"""MAML: the inner loop stepped through on the current episode at a chosen α, over many episodes, and against
other starts."""

import streamlit as st

from app import maml_replay, maml_stepper, maml_view
from app.algorithm_inputs import algorithm_inputs
from app.code_view import show_code
from app.learn_text import section
from app.page import page_setup
from app.training_panel import TrainingDefaults
from core.algorithms import MAML
from core.algorithms.adaptation import adapt, classification_loss
from core.preprocessing import adapt_episode
from core.training.loop import TrainingRun

page_setup("MAML")
st.title("MAML: Model-Agnostic Meta-Learning")
st.markdown(
    "Finn, Abbeel and Levine (2017) learn an **initialisation** from which a few gradient steps on a new task's "
    "support set classify its queries well. Step the inner loop below; choose the model and episode further down."
)
stepper_area = st.container()  # first on the page, filled once the model and episode below are known

defaults = TrainingDefaults(episodes=100, steps_label="outer steps (meta-batches)", n_way=5, n_shot=1,
                            learning_rate_label="meta learning rate β")  # fmt: skip
st.subheader("Model and episode")
inputs = algorithm_inputs("maml", "maml", lambda preprocessing, n_shot, **settings: MAML(preprocessing, **settings),
                          n_query_default=5, hyperparameters=maml_view.hyperparameters, defaults=defaults)  # fmt: skip
if inputs is None:
    stepper_area.info("Choose a model under **Model and episode** below (or train one there) to step its inner loop.")
    st.stop()

choice = inputs.choice
maml: MAML = inputs.model.algorithm
if choice.n_way != maml.n_way:
    with stepper_area:
        st.warning(
            f"This model's output layer has {maml.n_way} units, so it classifies {maml.n_way}-way episodes; the "
            f"sidebar asks for {choice.n_way}-way. Switch to {maml.n_way}-way, or train a {choice.n_way}-way model."
        )
        st.button(f"Use {maml.n_way}-way episodes", on_click=lambda: st.session_state.update(n_way=maml.n_way),
                  type="primary", key="maml_fix_n_way")  # fmt: skip
    st.stop()

episode = adapt_episode(inputs.raw_episode, maml.preprocessing)
model_id = (id(maml), inputs.model.label)
episode_key = (inputs.spec, choice)
with stepper_area:
    maml_stepper.stepper(maml, episode, (*model_id, *episode_key))
    maml_replay.replay_section(inputs.model, episode, episode_key)

st.subheader("The same, over many episodes")
steps = maml_view.many_episodes(maml, model_id, inputs.dataset, choice.split, choice.n_shot, choice.n_query,
                                choice.seed)  # fmt: skip

st.subheader("What the meta-learned initialisation buys")
maml_view.comparison(maml, model_id, inputs.raw_episode, inputs.spec.source, inputs.dataset, steps, episode_key)

st.subheader("The two updates")
maml_view.equations(maml, maml_view.trained_beta(inputs.model.metadata))
st.markdown(section("maml_tradeoffs"))
show_code([adapt, classification_loss, MAML.meta_batch_loss, TrainingRun._meta_batch], inputs)

"""MAML: the inner loop stepped through on the current episode at a chosen α, over many episodes, and against
other starts."""

import streamlit as st

from app import maml_replay, maml_stepper, maml_view
from app.algorithm_inputs import algorithm_inputs
from app.code_view import show_code
from app.i18n import t
from app.learn_text import section
from app.page import page_setup
from app.training_panel import TrainingDefaults
from core.algorithms import MAML
from core.algorithms.adaptation import adapt, classification_loss
from core.preprocessing import adapt_episode
from core.training.loop import TrainingRun

page_setup(t("nav.maml"))
st.title(t("maml.title"))
st.markdown(t("maml.intro"))
stepper_area = st.container()  # first on the page, filled once the model and episode below are known

defaults = TrainingDefaults(episodes=100, steps_label=t("maml.outer_steps"), n_way=5, n_shot=1,
                            learning_rate_label=t("maml.meta_lr"))  # fmt: skip
st.subheader(t("maml.model_and_episode"))
inputs = algorithm_inputs("maml", "maml", lambda preprocessing, n_shot, **settings: MAML(preprocessing, **settings),
                          n_query_default=5, hyperparameters=maml_view.hyperparameters, defaults=defaults)  # fmt: skip
if inputs is None:
    stepper_area.info(t("maml.choose_model"))
    st.stop()

choice = inputs.choice
maml: MAML = inputs.model.algorithm
if choice.n_way != maml.n_way:
    with stepper_area:
        st.warning(t("maml.other_n_way", n_way=maml.n_way, asked=choice.n_way))
        st.button(t("maml.use_n_way", n_way=maml.n_way), on_click=lambda: st.session_state.update(n_way=maml.n_way),
                  type="primary", key="maml_fix_n_way")  # fmt: skip
    st.stop()

episode = adapt_episode(inputs.raw_episode, maml.preprocessing)
model_id = (id(maml), inputs.model.label)
episode_key = (inputs.spec, choice)
with stepper_area:
    maml_stepper.stepper(maml, episode, (*model_id, *episode_key))
    maml_replay.replay_section(inputs.model, episode, episode_key)

st.subheader(t("maml.many_header"))
steps = maml_view.many_episodes(maml, model_id, inputs.dataset, choice.split, choice.n_shot, choice.n_query,
                                choice.seed)  # fmt: skip

st.subheader(t("maml.comparison_header"))
maml_view.comparison(maml, model_id, inputs.raw_episode, inputs.spec.source, inputs.dataset, steps, episode_key)

st.subheader(t("maml.updates_header"))
maml_view.equations(maml, maml_view.trained_beta(inputs.model.metadata))
st.markdown(section("maml_tradeoffs"))
show_code([adapt, classification_loss, MAML.meta_batch_loss, TrainingRun._meta_batch], inputs)

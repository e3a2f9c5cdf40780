"""MAML: the inner loop stepped through on the current episode, over many episodes, and against other starts."""

import streamlit as st

from app import maml_view
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
    "Finn, Abbeel and Levine (2017): learn an **initialisation** from which a few gradient steps on a new "
    "task's support set give a good classifier for its queries. Two nested loops: the inner loop adapts to one "
    "task, the outer loop moves the initialisation so that adapting works well across many tasks."
)

defaults = TrainingDefaults(episodes=100, steps_label="outer steps (meta-batches)", n_way=5, n_shot=1,
                            learning_rate_label="meta learning rate β")  # fmt: skip
inputs = algorithm_inputs("maml", "maml", lambda preprocessing, n_shot, **settings: MAML(preprocessing, **settings),
                          n_query_default=5, hyperparameters=maml_view.hyperparameters, defaults=defaults)  # fmt: skip
if inputs is None:
    st.stop()

choice = inputs.choice
maml: MAML = inputs.model.algorithm
if choice.n_way != maml.n_way:
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
st.subheader("Adapt on this episode")
steps = st.slider("inner steps to take", 1, 20, max(maml.test_steps, 5), key="maml_view_steps",
                  help=f"this model takes {maml.test_steps} at test time")  # fmt: skip
trace = maml_view.cached((*model_id, "trace", *episode_key, steps), lambda: maml.explain(episode, steps))
maml_view.stepper(trace, episode, steps)

st.subheader("The same, over many episodes")
maml_view.many_episodes(maml, model_id, inputs.dataset, choice.split, choice.n_shot, choice.n_query, choice.seed, steps)

st.subheader("What the meta-learned initialisation buys")
maml_view.comparison(maml, model_id, inputs.raw_episode, inputs.spec.source, inputs.dataset, steps, episode_key)

st.subheader("The two updates")
maml_view.equations(maml, maml_view.trained_beta(inputs.model.metadata))
st.markdown(section("maml_tradeoffs"))
show_code([adapt, classification_loss, MAML.meta_batch_loss, TrainingRun._meta_batch], inputs)

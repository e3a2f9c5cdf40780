"""MAML regression: the sine-wave experiment of Finn et al. (2017), meta-trained, compared and replayed in the page."""

import streamlit as st

from app.page import page_setup
from app.sinusoid_view import (
    shipped_caption,
    shipped_pair,
    shipped_provenance,
    show_comparison,
    show_training_report,
    show_training_scrub,
    task_controls,
    training_panel,
    training_settings,
)

page_setup("MAML regression")
st.title("MAML regression: sine waves")
st.caption(
    "MAML's first experiment (Finn, Abbeel and Levine, 2017, section 5.1): learn an initialisation from which "
    "*one gradient step* on K points of a new sine wave fits that wave."
)
with st.expander("About the experiment", icon=":material/info:"):
    st.markdown(
        """
Each **task** is a sine wave `y = amplitude · sin(x − phase)`, with the amplitude drawn from 0.1 to 5 and the
phase from 0 to π, and the learner sees only **K points** of it, with x drawn from −5 to 5. The network is small:
1 input, two hidden layers of 40 ReLU units, 1 output.

- **MAML** meta-trains the network's initialisation so that *one gradient step* (learning rate 0.01) on a
  task's K points fits that task: each training step adapts on K points of 25 tasks and judges the result on
  K other points of the same tasks.
- **Joint training**, the baseline, trains the same network by plain regression on the points of all those
  tasks pooled together. It learns the *average* wave, not how to adapt.

Both are then **fine-tuned the same way** on a new task's K points, and compared on the whole curve. Both
networks' weights are kept at about ten points of their training, so that you can replay it below.
"""
    )

config = training_settings()
run = training_panel(config)
if run is None and (run := shipped_pair()) is not None:
    shipped_caption(run)
elif run is None:
    st.info("Press **Meta-train** to train both networks (the default 2,000 steps take about 20 seconds on two "
            "free CPU cores); the comparison on a new task appears here afterwards.")  # fmt: skip
    st.stop()

task, points_seed, steps = task_controls()
n_shot = int(st.session_state["sine_n_shot"])
if steps:
    show_comparison(run, task, n_shot, points_seed, steps)
else:
    st.info("Choose at least one number of fine-tuning steps to show.")

st.subheader("Training you can scrub")
show_training_scrub(run, task, n_shot, points_seed)
show_training_report(run)
shipped_provenance(run)

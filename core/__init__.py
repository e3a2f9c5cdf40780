"""The Meta-Learning Playground library: data sets, episodes, algorithms, training and evaluation.

It never imports Streamlit; the app, the CLI (``python -m core``) and tests all use it.
"""

from core.learner import Learner, Prediction, load_learner

__all__ = ["Learner", "Prediction", "load_learner"]

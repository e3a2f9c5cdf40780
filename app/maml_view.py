"""What MAML's inner loop does over many episodes and against the same adaptation from other
starting points; its settings and equations. The stepper on one episode is ``app.maml_stepper``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st
import torch

from app.charts import show_chart
from app.models import load_shipped, shipped_checkpoints
from app.training_panel import pretraining_panel
from core.algorithms import MAML, FineTuning
from core.algorithms.maml import AdaptationTrace
from core.datasets import ClassDataset
from core.episodes import Episode, EpisodeSampler
from core.figures.maml import inner_loop_curves, many_episode_curves
from core.preprocessing import adapt_episode

CACHE_KEY = "maml_traces"
SUPPORT_LOSS = r"\mathcal{L}^{\text{support}}_{\mathcal{T}_i}(f_\theta)"


def hyperparameters() -> dict:
    """MAML's own settings for a model trained here (drawn inside the training panel)."""
    first, second, third, fourth = st.columns(4)
    settings = {
        "inner_lr": first.number_input("inner learning rate α", 0.001, 2.0, 0.4, format="%.3f", key="maml_alpha"),
        "train_steps": int(second.number_input("inner steps in training", 1, 10, 1, key="maml_train_steps")),
        "test_steps": int(third.number_input("inner steps at test", 0, 20, 3, key="maml_test_steps")),
        "meta_batch": int(fourth.number_input("meta-batch (tasks per step)", 1, 64, 4, key="maml_meta_batch")),
    }
    left, middle, right = st.columns(3, vertical_alignment="center")
    settings["test_inner_lr"] = left.number_input("α at test", 0.0, 2.0, 0.4, format="%.3f", key="maml_test_alpha",
                                                  help="the paper uses the training α")  # fmt: skip
    settings["first_order"] = middle.toggle("first-order MAML (drop second derivatives)", key="maml_first_order")
    settings["meta_sgd"] = right.toggle("Meta-SGD (learn one α per weight)", key="maml_meta_sgd")
    return settings


def cached(key: tuple, compute: Callable[[], object]) -> object:
    """Per-session memo of traces (models are not hashable for st.cache_data; 64 entries at most)."""
    store = st.session_state.setdefault(CACHE_KEY, {})
    if key not in store:
        if len(store) >= 64:
            store.clear()
        store[key] = compute()
    return store[key]


def many_episodes(model: MAML, model_id: tuple, dataset: ClassDataset, split: str, n_shot: int, n_query: int,
                  seed: int) -> int:  # fmt: skip
    """Per-step query loss on many episodes: how reliable one episode's picture is. Returns the
    number of inner steps chosen here, which the comparison below takes too."""
    left, right = st.columns(2)
    count = left.slider("episodes", 5, 100, 20, step=5, key="maml_many_count")
    steps = right.slider("inner steps", 1, 20, max(model.test_steps, 5), key="maml_many_steps",
                         help=f"at the model's own α = {model.test_inner_lr:g}")  # fmt: skip
    sampler = EpisodeSampler(dataset, split, model.n_way, n_shot, n_query, seed=seed)

    def compute() -> tuple[np.ndarray, np.ndarray]:
        traces = [model.explain(adapt_episode(sampler.episode(i), model.preprocessing), steps) for i in range(count)]
        return np.array([t.query_loss for t in traces]), np.array([t.query_accuracy for t in traces])

    with st.spinner(f"Adapting on {count} episodes…"):
        losses, accuracies = cached((*model_id, "many", split, n_shot, n_query, seed, steps, count), compute)
    title = f"Query loss over {count} episodes (seed {seed}, episodes 0–{count - 1})"
    show_chart(many_episode_curves(losses, title), key="maml_many")
    mean = accuracies.mean(0)
    st.caption(
        f"Mean query accuracy: {100 * mean[0]:.1f}% at the initialisation, "
        + ", ".join(f"{100 * mean[k]:.1f}% after {k} step{'s' if k > 1 else ''}" for k in range(1, len(mean)))
    )
    return steps


def comparison(model: MAML, model_id: tuple, raw_episode: Episode, source: str, dataset: ClassDataset,
               steps: int, episode_key: tuple) -> None:  # fmt: skip
    """The same inner loop (α, steps) from MAML's initialisation, a random one and a pre-trained network."""
    alpha = model.inner_lr
    traces = {"MAML's initialisation": cached((*model_id, "trace", *episode_key, steps),
                                              lambda: model.explain(adapt_episode(raw_episode, model.preprocessing),
                                                                    steps))}  # fmt: skip

    def random_start() -> AdaptationTrace:
        with torch.random.fork_rng(devices=[]):  # the same random start for every visitor, the server's RNG untouched
            torch.manual_seed(0)
            fresh = MAML(model.preprocessing, **model.settings).eval()
            return fresh.explain(adapt_episode(raw_episode, fresh.preprocessing), steps)

    traces["random initialisation"] = cached((*model_id, "random", *episode_key, steps), random_start)
    pretrained = _pretrained_network(source, dataset)
    if pretrained is not None:
        label, network = pretrained
        traces[f"pre-trained ({label})"] = cached(
            (*model_id, "pretrained", label, *episode_key, steps),
            lambda: network.explain(adapt_episode(raw_episode, network.preprocessing), steps, inner_lr=alpha),
        )
    loss = {name: trace.query_loss for name, trace in traces.items()}
    accuracy = {name: trace.query_accuracy for name, trace in traces.items()}
    left, right = st.columns(2)
    show_chart(inner_loop_curves(loss, "Query loss, same episode, same α and steps", "cross-entropy"),
                      key="maml_compare_loss", container=left)  # fmt: skip
    show_chart(inner_loop_curves(accuracy, "Query accuracy", "accuracy", y_range=[0, 1.02]),
                       key="maml_compare_accuracy", container=right)  # fmt: skip
    st.caption(
        f"Every curve takes the same {steps} step(s) of plain gradient descent at α = {alpha:g} on the same support "
        "set. The pre-trained network was trained the ordinary way (cross-entropy over all training classes at "
        "once); for this task its features are kept and its head starts at zero, so it predicts uniformly at step 0."
    )


def _pretrained_network(source: str, dataset: ClassDataset) -> tuple[str, FineTuning] | None:
    shipped = shipped_checkpoints("finetune")
    name = next((n for n in shipped if n.endswith(source)), None)
    if name:
        loaded = load_shipped(shipped[name])
        if loaded:
            return f"shipped {name}", loaded[0]
    network = pretraining_panel("maml", dataset)
    return (f"trained here on {dataset.name}", network) if network is not None else None


def equations(model: MAML, beta: float | None) -> None:
    alpha = model.inner_lr
    meta_sgd = model.inner_lrs is not None
    st.markdown("**Inner loop** (adaptation to task $\\mathcal{T}_i$, on its support set):")
    if meta_sgd:
        rates = torch.cat([r.detach().flatten() for r in model.inner_lrs])
        st.latex(r"\theta'_i = \theta - \boldsymbol{\alpha} \circ \nabla_\theta " + SUPPORT_LOSS)
        st.caption(f"Meta-SGD: one learned α per weight; here their mean is {rates.mean():.3f} "
                   f"(from {rates.min():.3f} to {rates.max():.3f}).")  # fmt: skip
    else:
        st.latex(rf"\theta'_i = \theta - {alpha:g}\,\nabla_\theta " + SUPPORT_LOSS)
    learned = r"(\theta, \boldsymbol{\alpha})" if meta_sgd else r"\theta"
    st.markdown("**Outer loop** (meta-update of the initialisation" + (" and the rates α" if meta_sgd else "")
                + ", on the tasks' query sets):")  # fmt: skip
    beta_text = f"{beta:g}" if beta else r"\beta"
    st.latex(rf"{learned} \leftarrow {learned} - {beta_text}\,\nabla_{{{learned}}} \sum_{{\mathcal{{T}}_i}} "
             r"\mathcal{L}^{\text{query}}_{\mathcal{T}_i}(f_{\theta'_i})")  # fmt: skip
    if model.first_order:
        st.caption("First-order: the gradient of the query loss at θ′ is used as if θ′ did not depend on θ "
                   "(no second derivatives), which is much cheaper.")  # fmt: skip
    st.caption(
        f"This model: α = {alpha:g}, {model.train_steps} inner step(s) in training and {model.test_steps} at test"
        + (f" with α = {model.test_inner_lr:g}" if model.test_inner_lr != alpha else "")
        + (f", β = {beta:g} (Adam)" if beta else "")
        + ". BatchNorm always uses the statistics of the batch it "
        "is given (support or query), in training and evaluation alike, as Finn et al.'s reference code does: "
        "there are no running averages to carry from one task to the next."
    )


def trained_beta(metadata: dict) -> float | None:
    training = metadata.get("training", {})
    return training.get("config", {}).get("learning_rate") or training.get("learning_rate")

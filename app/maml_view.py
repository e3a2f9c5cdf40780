"""What MAML's inner loop does over many episodes and against the same adaptation from other
starting points; its settings and equations. The stepper on one episode is ``app.maml_stepper``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st
import torch

from app.charts import show_chart
from app.i18n import t
from app.models import load_shipped, shipped_checkpoints
from app.training_panel import pretraining_panel
from core.algorithms import MAML, FineTuning
from core.algorithms.maml import AdaptationTrace
from core.datasets import ClassDataset
from core.episodes import Episode, EpisodeSampler
from core.figures.maml import inner_loop_curves, many_episode_curves
from core.preprocessing import adapt_episode

CACHE_KEY = "maml_traces"


def hyperparameters() -> dict:
    """MAML's own settings for a model trained here (drawn inside the training panel)."""
    first, second, third, fourth = st.columns(4)
    settings = {
        "inner_lr": first.number_input(t("maml.settings.inner_lr"), 0.001, 2.0, 0.4, format="%.3f", key="maml_alpha"),
        "train_steps": int(second.number_input(t("maml.settings.train_steps"), 1, 10, 1, key="maml_train_steps")),
        "test_steps": int(third.number_input(t("maml.settings.test_steps"), 0, 20, 3, key="maml_test_steps")),
        "meta_batch": int(fourth.number_input(t("maml.settings.meta_batch"), 1, 64, 4, key="maml_meta_batch")),
    }
    left, middle, right = st.columns(3, vertical_alignment="center")
    settings["test_inner_lr"] = left.number_input(t("maml.settings.test_alpha"), 0.0, 2.0, 0.4, format="%.3f",
                                                  key="maml_test_alpha",
                                                  help=t("maml.settings.test_alpha_help"))  # fmt: skip
    settings["first_order"] = middle.toggle(t("maml.settings.first_order"), key="maml_first_order")
    settings["meta_sgd"] = right.toggle(t("maml.settings.meta_sgd"), key="maml_meta_sgd")
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
    count = left.slider(t("maml.many.episodes"), 5, 100, 20, step=5, key="maml_many_count")
    steps = right.slider(t("maml.many.steps"), 1, 20, max(model.test_steps, 5), key="maml_many_steps",
                         help=t("maml.many.steps_help", alpha=model.test_inner_lr))  # fmt: skip
    sampler = EpisodeSampler(dataset, split, model.n_way, n_shot, n_query, seed=seed)

    def compute() -> tuple[np.ndarray, np.ndarray]:
        traces = [model.explain(adapt_episode(sampler.episode(i), model.preprocessing), steps) for i in range(count)]
        return np.array([t.query_loss for t in traces]), np.array([t.query_accuracy for t in traces])

    with st.spinner(t("maml.many.spinner", count=count)):
        losses, accuracies = cached((*model_id, "many", split, n_shot, n_query, seed, steps, count), compute)
    title = t("maml.many.title", count=count, seed=seed, last=count - 1)
    figure = many_episode_curves(losses, title, t("maml.many.loss_axis"), x_title=t("maml.many.step_axis"),
                                 band_name=t("maml.many.band"), mean_name=t("maml.many.mean", count=count))  # fmt: skip
    show_chart(figure, key="maml_many")
    mean = accuracies.mean(0)
    after = "".join(
        t("maml.many.after_one" if k == 1 else "maml.many.after_steps", accuracy=f"{100 * mean[k]:.1f}%", k=k)
        for k in range(1, len(mean))
    )
    st.caption(t("maml.many.accuracy", start=f"{100 * mean[0]:.1f}%", after=after))
    return steps


def comparison(model: MAML, model_id: tuple, raw_episode: Episode, source: str, dataset: ClassDataset,
               steps: int, episode_key: tuple) -> None:  # fmt: skip
    """The same inner loop (α, steps) from MAML's initialisation, a random one and a pre-trained network."""
    alpha = model.inner_lr
    traces = {t("maml.compare.maml_start"): cached((*model_id, "trace", *episode_key, steps),
                                              lambda: model.explain(adapt_episode(raw_episode, model.preprocessing),
                                                                    steps))}  # fmt: skip

    def random_start() -> AdaptationTrace:
        with torch.random.fork_rng(devices=[]):  # the same random start for every visitor, the server's RNG untouched
            torch.manual_seed(0)
            fresh = MAML(model.preprocessing, **model.settings).eval()
            return fresh.explain(adapt_episode(raw_episode, fresh.preprocessing), steps)

    traces[t("maml.compare.random_start")] = cached((*model_id, "random", *episode_key, steps), random_start)
    pretrained = _pretrained_network(source, dataset)
    if pretrained is not None:
        label, network = pretrained
        traces[t("maml.compare.pretrained", label=label)] = cached(
            (*model_id, "pretrained", label, *episode_key, steps),
            lambda: network.explain(adapt_episode(raw_episode, network.preprocessing), steps, inner_lr=alpha),
        )
    loss = {name: trace.query_loss for name, trace in traces.items()}
    accuracy = {name: trace.query_accuracy for name, trace in traces.items()}
    left, right = st.columns(2)
    step_axis = t("maml.many.step_axis")
    show_chart(inner_loop_curves(loss, t("maml.compare.loss_title"), t("maml.compare.loss_axis"),
                                 x_title=step_axis), key="maml_compare_loss", container=left)  # fmt: skip
    show_chart(inner_loop_curves(accuracy, t("maml.compare.accuracy_title"), t("maml.compare.accuracy_axis"),
                                 y_range=[0, 1.02], x_title=step_axis),
               key="maml_compare_accuracy", container=right)  # fmt: skip
    st.caption(t("maml.compare.caption", steps=steps, alpha=alpha))


def _pretrained_network(source: str, dataset: ClassDataset) -> tuple[str, FineTuning] | None:
    shipped = shipped_checkpoints("finetune")
    name = next((n for n in shipped if n.endswith(source)), None)
    if name:
        loaded = load_shipped(shipped[name])
        if loaded:
            return t("maml.compare.shipped", name=name), loaded[0]
    network = pretraining_panel("maml", dataset)
    return (t("maml.compare.trained_here", dataset=dataset.name), network) if network is not None else None


def _task_loss(word: str, weights: str) -> str:
    """LaTeX of task i's loss on its ``word`` set (support, query) for the network with ``weights``."""
    return r"\mathcal{L}^{\text{" + word + r"}}_{\mathcal{T}_i}(f_{" + weights + "})"


def equations(model: MAML, beta: float | None) -> None:
    alpha = model.inner_lr
    meta_sgd = model.inner_lrs is not None
    support_loss = _task_loss(t("maml.equations.support"), r"\theta")
    st.markdown(t("maml.equations.inner"))
    if meta_sgd:
        rates = torch.cat([r.detach().flatten() for r in model.inner_lrs])
        st.latex(r"\theta'_i = \theta - \boldsymbol{\alpha} \circ \nabla_\theta " + support_loss)
        st.caption(t("maml.equations.meta_sgd", mean=rates.mean(), low=rates.min(), high=rates.max()))
    else:
        st.latex(rf"\theta'_i = \theta - {alpha:g}\,\nabla_\theta " + support_loss)
    learned = r"(\theta, \boldsymbol{\alpha})" if meta_sgd else r"\theta"
    st.markdown(t("maml.equations.outer_meta_sgd" if meta_sgd else "maml.equations.outer"))
    beta_text = f"{beta:g}" if beta else r"\beta"
    st.latex(rf"{learned} \leftarrow {learned} - {beta_text}\,\nabla_{{{learned}}} \sum_{{\mathcal{{T}}_i}} "
             + _task_loss(t("maml.equations.query"), r"\theta'_i"))  # fmt: skip
    if model.first_order:
        st.caption(t("maml.equations.first_order"))
    test_alpha = t("maml.equations.test_alpha", alpha=model.test_inner_lr) if model.test_inner_lr != alpha else ""
    st.caption(t("maml.equations.this_model", alpha=alpha, train_steps=model.train_steps,
                 test_steps=model.test_steps, test_alpha=test_alpha,
                 beta=t("maml.equations.beta", beta=beta) if beta else ""))  # fmt: skip


def trained_beta(metadata: dict) -> float | None:
    training = metadata.get("training", {})
    return training.get("config", {}).get("learning_rate") or training.get("learning_rate")

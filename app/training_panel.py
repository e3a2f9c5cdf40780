"""Train a model inside the page: live curves, a stop button, the result kept for the session; and
pre-train the fine-tuning baseline's network, for pages that compare with it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from app.charts import show_chart
from app.device import chosen_device
from app.errors import explain
from app.fair_use import Deadline, limits_sentence, training_turn
from app.i18n import t
from app.models import keep_session_model
from app.server_limits import server_limits
from core.algorithms import FewShotAlgorithm, FineTuning
from core.datasets import ClassDataset
from core.datasets.roles import SplitRoles, assign_roles, validation_sampler
from core.episodes import EpisodeSampler
from core.figures.common import training_curves
from core.preprocessing import fitted_preprocessing
from core.training import Snapshot, TrainConfig, train
from core.training.pretraining import pretrain

UPDATE_EVERY = 5  # steps between chart updates: often enough to watch, rarely enough to stay fast
SNAPSHOT_MODELS = 3  # page-trained models per page whose snapshots are kept (a Conv-4's ten: about 4.5 MB)


@dataclass(frozen=True)
class TrainingDefaults:
    """The panel's starting values; a label left None reads "training episodes" / "learning rate" in the
    visitor's language."""

    episodes: int = 200
    steps_label: str | None = None
    n_way: int = 20
    n_shot: int = 5
    learning_rate_label: str | None = None


@dataclass(frozen=True)
class RunRequest:
    """What the visitor asked this run to do."""

    episodes: int
    n_way: int
    n_shot: int
    learning_rate: float
    meta_batch: int
    algorithm_settings: dict


def training_panel(
    prefix: str,
    dataset: ClassDataset,
    roles: SplitRoles,
    build: Callable[..., FewShotAlgorithm],
    hyperparameters: Callable[[], dict] | None = None,
    defaults: TrainingDefaults | None = None,
) -> None:
    """Settings, a Train and a Stop button, live curves; a finished or stopped run becomes a session model.

    ``build(preprocessing, n_way=..., n_shot=..., **settings)`` makes the model; ``hyperparameters()`` draws the
    algorithm's own settings and returns them (``meta_batch`` goes to the training loop, the rest to build).
    """
    state_key = f"{prefix}_training"
    defaults = defaults or TrainingDefaults()
    limits = server_limits()
    left, middle, right, last = st.columns(4)
    episodes = left.number_input(defaults.steps_label or t("training_panel.episodes"), 1, limits.training_episodes,
                                 min(defaults.episodes, limits.training_episodes),
                                 key=f"{prefix}_train_episodes")  # fmt: skip
    n_way = middle.number_input(t("training_panel.n_way"), 2, 60, defaults.n_way, key=f"{prefix}_train_n_way")
    n_shot = right.number_input(t("training_panel.n_shot"), 1, 10, defaults.n_shot, key=f"{prefix}_train_n_shot")
    learning_rate = last.number_input(defaults.learning_rate_label or t("training_panel.learning_rate"), 1e-5,
                                      1e-1, 1e-3, format="%.5f", key=f"{prefix}_train_lr")  # fmt: skip
    settings = dict(hyperparameters()) if hyperparameters else {}
    meta_batch = int(settings.pop("meta_batch", 1))
    st.caption(limits_sentence(limits))
    start = st.button(t("training_panel.train"), type="primary", icon=":material/play_arrow:", key=f"{prefix}_train")
    stop = st.button(t("training_panel.stop"), icon=":material/stop:", key=f"{prefix}_stop")
    if state_key in st.session_state:  # a run was interrupted by Stop, or by any other interaction
        _finish(prefix, st.session_state.pop(state_key), stopped=True)
    if stop or not start:
        return
    request = RunRequest(int(episodes), int(n_way), int(n_shot), float(learning_rate), meta_batch, settings)
    with training_turn(limits) as deadline:
        if deadline is not None:
            _train(prefix, dataset, roles, build, request, deadline)


def _train(
    prefix: str, dataset: ClassDataset, roles: SplitRoles, build: Callable[..., FewShotAlgorithm],
    request: RunRequest, deadline: Deadline,
) -> None:  # fmt: skip
    bright_on_dark = not dataset.name.startswith("folder")
    device = chosen_device()
    algorithm = build(fitted_preprocessing(dataset.split_images(roles.train), bright_on_dark), n_way=request.n_way,
                      n_shot=request.n_shot, **request.algorithm_settings).to(device)  # fmt: skip
    try:
        sampler = EpisodeSampler(dataset, roles.train, request.n_way, request.n_shot, 5, seed=0)
        # a MAML head fixes n_way; metric learners validate on 5-way episodes
        validation = validation_sampler(dataset, roles, request.n_shot, 5, n_way=algorithm.settings.get("n_way", 5))
    except ValueError as error:
        st.error(t("training_panel.cannot_train", error=explain(error)))
        return
    config = TrainConfig(episodes=request.episodes, meta_batch=request.meta_batch,
                         learning_rate=request.learning_rate, lr_decay_every=max(2000, request.episodes),
                         validate_every=max(10, request.episodes // 5), validation_episodes=50)  # fmt: skip
    run = train(algorithm, sampler, config, validation)
    entry = {"run": run, "records": [], "dataset": dataset.name, "scheme": dataset.split_scheme,
             "roles": {"train": roles.train, "val": roles.val, "test": roles.test},
             "settings": {"n_way": request.n_way, "n_shot": request.n_shot, "n_query": 5,
                          "meta_batch": request.meta_batch, "learning_rate": request.learning_rate,
                          "device": device.type}}  # fmt: skip
    st.session_state[f"{prefix}_training"] = entry
    reason = _drive(entry, request.episodes, deadline)
    _finish(prefix, st.session_state.pop(f"{prefix}_training"), stopped=reason is not None, reason=reason)


def _drive(entry: dict, total: int, deadline: Deadline) -> str | None:
    """Train to the end; returns why it stopped early (a time limit, a diverging loss), or None."""
    progress, chart = st.progress(0.0, text=t("training_panel.starting")), st.empty()
    try:
        for record in entry["run"]:
            entry["records"].append(record.__dict__)
            if record.step % UPDATE_EVERY == 0 or record.val_accuracy is not None or record.step == total:
                text = t("training_panel.progress", step=record.step, total=total, loss=record.loss,
                         speed=_speed(entry, record))  # fmt: skip
                progress.progress(record.step / total, text=text)
                show_chart(training_curves(entry["records"], curve_labels()), key=f"curves_{record.step}",
                           container=chart)  # fmt: skip
            if deadline.passed():
                return deadline.reason
    except FloatingPointError as error:
        return str(error)
    return None


def _speed(entry: dict, record) -> str:
    """The measured training speed: tasks/s (and how they ran) for a meta-batch, else episodes/s."""
    if not record.seconds:
        return ""
    meta_batch = entry["settings"]["meta_batch"]
    if meta_batch == 1:
        return t("training_panel.episodes_per_second", rate=record.step / record.seconds)
    how = t("training_panel.batched") if entry["run"].task_batched else t("training_panel.one_by_one")
    return t("training_panel.tasks_per_second", rate=meta_batch * record.step / record.seconds, how=how)


def curve_labels() -> dict[str, str]:
    """The training curves' trace names and axis titles (``core.figures.common.training_curves``) in the
    visitor's language."""
    return {name: t(f"training_panel.curve_{name}") for name in ("loss", "accuracy", "validation", "x", "y", "y2")}


def _finish(prefix: str, entry: dict, stopped: bool, reason: str | None = None) -> None:
    run = entry["run"]
    run.finish()
    run.algorithm.cpu()  # trained on the chosen device; the page's views and downloads work on the CPU
    why = t("training_panel.why", reason=reason) if reason else ""
    if run.step == 0:
        if reason:
            st.warning(t("training_panel.stopped_early", why=why))
        return
    name = t("training_panel.model_name", algorithm=run.algorithm.name, dataset=entry["dataset"], steps=run.step,
             number=len(_trained(prefix)) + 1)  # fmt: skip
    metadata = {
        "dataset": {"name": entry["dataset"], "split_scheme_used": entry["scheme"]},
        "splits": entry["roles"],
        "training": {**entry["settings"], "episodes": run.step, "interrupted": stopped, "best_step": run.best_step,
                     "best_val_accuracy": run.best_accuracy, "seconds": round(run.seconds, 1),
                     "trained_in": "the playground page", **({"stopped_because": reason} if reason else {})},
    }  # fmt: skip
    keep_session_model(name, run.algorithm, metadata)
    keep_snapshots(prefix, name, run.snapshots)
    _trained(prefix).append(name)
    st.session_state[f"{prefix}_curves"] = entry["records"]
    best = t("training_panel.best", step=run.best_step) if run.best_step else ""
    message = t("training_panel.stopped" if stopped else "training_panel.finished", steps=run.step, why=why,
                best=best, name=name)  # fmt: skip
    # shown by the model picker, which reruns the page at once to select the new model
    st.session_state[f"{prefix}_message"] = ("warning" if reason else "success", message)


def show_last_message(prefix: str) -> None:
    """How the last run ended, shown once."""
    kind, text = st.session_state.pop(f"{prefix}_message", (None, None))
    if text:
        (st.warning if kind == "warning" else st.success)(text)


def keep_snapshots(prefix: str, name: str, snapshots: tuple[Snapshot, ...]) -> None:
    """A model's snapshots (kept by its run, or saved with an uploaded checkpoint) under its name; only the
    newest ``SNAPSHOT_MODELS`` models' stay in memory."""
    kept = st.session_state.setdefault(f"{prefix}_snapshots", {})
    kept[name] = snapshots
    for old in list(kept)[:-SNAPSHOT_MODELS]:
        del kept[old]


def session_snapshots(prefix: str, name: str) -> tuple[Snapshot, ...]:
    """The weights kept while the session model ``name`` trained on this page (``core.training.replay`` replays
    them; ``app.training_scrub.scrub_snapshots`` draws a slider over their steps); () when none are kept."""
    return st.session_state.get(f"{prefix}_snapshots", {}).get(name, ())


def _trained(prefix: str) -> list[str]:
    return st.session_state.setdefault(f"{prefix}_trained_names", [])


def last_curves(prefix: str) -> list[dict] | None:
    return st.session_state.get(f"{prefix}_curves")


def pretraining_panel(prefix: str, dataset: ClassDataset) -> FineTuning | None:
    """A network pre-trained in this session on ``dataset``'s training classes (one per data set, kept), or
    None after drawing what trains one: an epochs input and a button."""
    trained = st.session_state.setdefault(f"{prefix}_pretrained", {})
    if dataset.name in trained:
        return trained[dataset.name]
    left, right = st.columns([1, 3], vertical_alignment="bottom")
    epochs = left.number_input(t("training_panel.epochs"), 0.1, 20.0, 1.0, step=0.5, key=f"{prefix}_pretrain_epochs")
    if not right.button(t("training_panel.pretrain", dataset=dataset.name), key=f"{prefix}_pretrain"):
        st.info(t("training_panel.no_pretrained"))
        return None
    network = _pretrain(dataset, float(epochs))
    if network is not None:
        trained[dataset.name] = network
    return network


def _pretrain(dataset: ClassDataset, epochs: float) -> FineTuning | None:
    with_roles, roles = assign_roles(dataset)
    network = FineTuning(
        fitted_preprocessing(with_roles.split_images(roles.train), not dataset.name.startswith("folder"))
    )
    with training_turn() as deadline:
        if deadline is None:
            return None
        bar = st.progress(0.0, text=t("training_panel.pretraining"))
        try:
            for record in pretrain(network, with_roles, roles.train, epochs=epochs):
                if record.step % 5 == 0 or record.step == record.steps:
                    text = t("training_panel.pretrain_progress", step=record.step, steps=record.steps,
                             loss=record.loss)  # fmt: skip
                    bar.progress(record.step / record.steps, text=text)
                if deadline.passed():
                    st.warning(t("training_panel.pretrain_stopped", step=record.step, steps=record.steps,
                                 reason=deadline.reason))  # fmt: skip
                    break
        except ValueError as error:
            st.error(t("training_panel.cannot_pretrain", error=explain(error)))
            return None
    return network

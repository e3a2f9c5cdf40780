"""Train a model inside the page: live curves, a stop button, the result kept for the session; and
pre-train the fine-tuning baseline's network, for pages that compare with it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from app.charts import show_chart
from app.device import chosen_device
from app.fair_use import Deadline, limits_sentence, training_turn
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
    episodes: int = 200
    steps_label: str = "training episodes"
    n_way: int = 20
    n_shot: int = 5
    learning_rate_label: str = "learning rate"


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
    episodes = left.number_input(defaults.steps_label, 1, limits.training_episodes,
                                 min(defaults.episodes, limits.training_episodes),
                                 key=f"{prefix}_train_episodes")  # fmt: skip
    n_way = middle.number_input("training n_way", 2, 60, defaults.n_way, key=f"{prefix}_train_n_way")
    n_shot = right.number_input("training n_shot", 1, 10, defaults.n_shot, key=f"{prefix}_train_n_shot")
    learning_rate = last.number_input(defaults.learning_rate_label, 1e-5, 1e-1, 1e-3, format="%.5f",
                                      key=f"{prefix}_train_lr")  # fmt: skip
    settings = dict(hyperparameters()) if hyperparameters else {}
    meta_batch = int(settings.pop("meta_batch", 1))
    st.caption(limits_sentence(limits))
    start = st.button("Train", type="primary", icon=":material/play_arrow:", key=f"{prefix}_train")
    stop = st.button("Stop (keep the best weights so far)", icon=":material/stop:", key=f"{prefix}_stop")
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
        st.error(f"Cannot train with these settings: {error}.")
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
    progress, chart = st.progress(0.0, text="starting…"), st.empty()
    try:
        for record in entry["run"]:
            entry["records"].append(record.__dict__)
            if record.step % UPDATE_EVERY == 0 or record.val_accuracy is not None or record.step == total:
                text = f"episode {record.step} of {total} · loss {record.loss:.3f}" + _speed(entry, record)
                progress.progress(record.step / total, text=text)
                show_chart(training_curves(entry["records"]), key=f"curves_{record.step}", container=chart)
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
        return f" · {record.step / record.seconds:.1f} episodes/s"
    how = "all tasks in one pass" if entry["run"].task_batched else "one task at a time"
    return f" · {meta_batch * record.step / record.seconds:.1f} tasks/s ({how})"


def _finish(prefix: str, entry: dict, stopped: bool, reason: str | None = None) -> None:
    run = entry["run"]
    run.finish()
    run.algorithm.cpu()  # trained on the chosen device; the page's views and downloads work on the CPU
    why = f": {reason}" if reason else ""
    if run.step == 0:
        if reason:
            st.warning(f"Stopped before the first episode finished{why}. No model was kept.")
        return
    name = f"{run.algorithm.name} on {entry['dataset']}, {run.step} episodes ({len(_trained(prefix)) + 1})"
    metadata = {
        "dataset": {"name": entry["dataset"], "split_scheme_used": entry["scheme"]},
        "splits": entry["roles"],
        "training": {**entry["settings"], "episodes": run.step, "interrupted": stopped, "best_step": run.best_step,
                     "best_val_accuracy": run.best_accuracy, "seconds": round(run.seconds, 1),
                     "trained_in": "the playground page", **({"stopped_because": reason} if reason else {})},
    }  # fmt: skip
    keep_session_model(name, run.algorithm, metadata)
    _keep_snapshots(prefix, name, run.snapshots)
    _trained(prefix).append(name)
    st.session_state[f"{prefix}_curves"] = entry["records"]
    verb = "Stopped" if stopped else "Finished"
    best = f"; kept the weights that validated best (step {run.best_step})" if run.best_step else ""
    # shown by the model picker, which reruns the page at once to select the new model
    st.session_state[f"{prefix}_message"] = ("warning" if reason else "success",
                                             f"{verb} after {run.step} episodes{why}{best}. "
                                             f"The model is now selectable as “{name}”.")  # fmt: skip


def show_last_message(prefix: str) -> None:
    """How the last run ended, shown once."""
    kind, text = st.session_state.pop(f"{prefix}_message", (None, None))
    if text:
        (st.warning if kind == "warning" else st.success)(text)


def _keep_snapshots(prefix: str, name: str, snapshots: tuple[Snapshot, ...]) -> None:
    """The run's snapshots under the model's name; only the newest ``SNAPSHOT_MODELS`` models' stay in memory."""
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
    epochs = left.number_input("epochs", 0.1, 20.0, 1.0, step=0.5, key=f"{prefix}_pretrain_epochs")
    if not right.button(f"Pre-train a network on {dataset.name}'s training classes, to compare with",
                        key=f"{prefix}_pretrain"):  # fmt: skip
        st.info("No shipped pre-trained network for this data set: pre-train one to add it to the comparison.")
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
        bar = st.progress(0.0, text="pre-training…")
        try:
            for record in pretrain(network, with_roles, roles.train, epochs=epochs):
                if record.step % 5 == 0 or record.step == record.steps:
                    bar.progress(record.step / record.steps,
                                 text=f"batch {record.step} of {record.steps} · loss {record.loss:.2f}")  # fmt: skip
                if deadline.passed():
                    st.warning(f"Pre-training stopped after {record.step} of {record.steps} batches: "
                               f"{deadline.reason}.")  # fmt: skip
                    break
        except ValueError as error:
            st.error(f"Cannot pre-train here: {error}.")
            return None
    return network

"""An algorithm page's "The code" expander: the core functions it ran, a snippet redoing its episode, the CLI.

The sources are read with ``inspect`` at run time, so the page always shows the code that computed it.
"""

from __future__ import annotations

import inspect
import shlex
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

import streamlit as st

from app.algorithm_inputs import AlgorithmInputs
from app.episode_controls import EpisodeChoice
from app.i18n import t
from app.models import shipped_checkpoints
from core.datasets import SOURCES, DatasetSpec

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_PREFIX = "shipped: "  # how model_picker labels a shipped checkpoint
# checkpoint JSON key -> `python -m core train` flag; booleans become bare flags
SETTING_FLAGS = {"distance": "--distance", "loss": "--relation-loss", "inner_lr": "--inner-lr",
                 "test_inner_lr": "--test-inner-lr", "train_steps": "--train-steps", "test_steps": "--test-steps",
                 "first_order": "--first-order", "meta_sgd": "--meta-sgd",
                 "per_step_rates": "--per-step-rates", "per_step_batch_norm": "--per-step-batch-norm"}  # fmt: skip
TRAINING_FLAGS = {"n_way": "--n-way", "n_shot": "--n-shot", "n_query": "--n-query", "episodes": "--episodes"}
CONFIG_FLAGS = {"meta_batch": "--meta-batch", "learning_rate": "--lr", "lr_decay": "--lr-decay",
                "lr_decay_every": "--lr-decay-every", "validate_every": "--validate-every",
                "validation_episodes": "--val-episodes"}  # fmt: skip
# config keys written only when they differ from their default (True: a bare flag)
OPTIONAL_CONFIG_FLAGS = {"lr_schedule": ("--lr-schedule", "step"), "clip_grad_norm": ("--clip-grad-norm", None),
                         "first_order_until": ("--first-order-until", 0), "amp": ("--amp", False),
                         "augment": ("--augment", False),
                         "multi_step_loss_until": ("--multi-step-loss-until", 0),
                         "anneal_from": ("--anneal-from", 0)}  # fmt: skip
OPTIONAL_TRAINING_FLAGS = {"within_alphabet": ("--within-alphabet", 0.0)}


def qualified_name(function: Callable) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def function_source(function: Callable) -> str:
    """The source of a function, method or class as it is now, dedented (methods are indented in their class)."""
    return textwrap.dedent(inspect.getsource(function)).rstrip()


def episode_snippet(spec: DatasetSpec, choice: EpisodeChoice, checkpoint: str | None) -> str:
    """Python that loads the model and the data set, draws the page's episode and predicts its queries."""
    load = (f"model, metadata = load_checkpoint({checkpoint!r})" if checkpoint else
            f'model, metadata = load_checkpoint("my-model")  # {t("code_view.downloaded")}')  # fmt: skip
    return "\n".join([
        "from core.checkpoints import load_checkpoint",
        "from core.datasets import SOURCES, DatasetSpec, load_dataset",
        "from core.episodes import EpisodeSampler",
        "from core.preprocessing import adapt_episode",
        "",
        load,
        f"dataset = load_dataset({spec!r})",
        f"sampler = EpisodeSampler(dataset, {choice.split!r}, n_way={choice.n_way}, n_shot={choice.n_shot}, "
        f"n_query={choice.n_query}, seed={choice.seed})",
        f"episode = adapt_episode(sampler.episode({choice.index}), model.preprocessing)",
        f"predictions = model.predict_episode(episode)  # {t('code_view.predictions')}",
        "print(predictions.tolist(), (predictions == episode.query_y).float().mean().item())",
    ])  # fmt: skip


def train_command(algorithm: str, settings: dict, metadata: dict, spec: DatasetSpec, out: str) -> str:
    """The ``python -m core train`` line for this model: its settings, and its training block when it has one."""
    args = ["python", "-m", "core", "train", "--algorithm", algorithm, "--dataset", spec.source]
    if spec.source == "omniglot":
        args += ["--split-scheme", spec.split_scheme]
    if spec.root and spec.source == "folder":
        args += ["--data-root", spec.root]
    if spec.image_size:
        args += ["--image-size", str(spec.image_size)]
    for key, flag in SETTING_FLAGS.items():
        value = settings.get(key)
        if isinstance(value, bool):
            args += [flag] if value else []
        elif value is not None:
            args += [flag, str(value)]
    training = metadata.get("training") if isinstance(metadata.get("training"), dict) else {}
    config = training.get("config") if isinstance(training.get("config"), dict) else {}
    fallbacks = {"n_way": settings.get("n_way"), "n_shot": settings.get("train_shots")}  # MAML head, RelationNet sums
    for key, flag in TRAINING_FLAGS.items():
        value = training.get(key, fallbacks.get(key))
        args += [flag, str(value)] if value is not None else []
    for key, flag in CONFIG_FLAGS.items():  # a page-trained model keeps these beside n_way, not in a config block
        value = config.get(key, training.get(key))
        args += [flag, str(value)] if value is not None else []
    for key, (flag, default) in OPTIONAL_CONFIG_FLAGS.items():
        value = config.get(key, default)
        if value != default:
            args += [flag] if value is True else [flag, str(value)]
    for key, (flag, default) in OPTIONAL_TRAINING_FLAGS.items():
        if training.get(key, default) != default:
            args += [flag, str(training[key])]
    if config.get("lr_schedule") == "cosine" and "min_learning_rate" in config:
        args += ["--min-lr", str(config["min_learning_rate"])]
    if str(training.get("trained_on", "")).endswith("+val"):
        args.append("--train-on-val")
    if "seed" in training:
        args += ["--seed", str(training["seed"])]
    return shlex.join([*args, "--out", out])


def trained_spec(metadata: dict, fallback: DatasetSpec) -> DatasetSpec:
    """The data set a checkpoint says it was trained on, else ``fallback`` (the page's)."""
    data = metadata.get("dataset") if isinstance(metadata.get("dataset"), dict) else {}
    if data.get("source") not in SOURCES:
        return fallback
    return DatasetSpec(data["source"], data.get("root"), data.get("split_scheme") or "lake", data.get("image_size"))


def shipped_path(inputs: AlgorithmInputs) -> str | None:
    """The shipped checkpoint the page uses, relative to the repository; None for any other model."""
    if not inputs.model.label.startswith(SHIPPED_PREFIX):
        return None
    path = shipped_checkpoints(inputs.model.algorithm.name).get(inputs.model.label.removeprefix(SHIPPED_PREFIX))
    if path is None:
        return None
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def code_expander(functions: Sequence[Callable], snippet: str, command: str) -> None:
    """A collapsed "The code" expander: each function's source, then the snippet and the command."""
    with st.expander(t("code_view.title"), icon=":material/code:"):
        st.markdown(t("code_view.functions"))
        for function in functions:
            st.caption(f"`{qualified_name(function)}`")
            st.code(function_source(function), language="python")
        st.markdown(t("code_view.snippet"))
        st.code(snippet, language="python")
        st.markdown(t("code_view.command"))
        st.code(command, language="bash")


def show_code(functions: Sequence[Callable], inputs: AlgorithmInputs) -> None:
    """``code_expander`` filled in with the page's data set, episode and model."""
    model = inputs.model.algorithm
    checkpoint = shipped_path(inputs)
    out = f"checkpoints/{Path(checkpoint).name if checkpoint else f'{model.name}-{inputs.spec.source}'}"
    snippet = episode_snippet(inputs.spec, inputs.choice, checkpoint)
    metadata = inputs.model.metadata
    command = train_command(model.name, model.settings, metadata, trained_spec(metadata, inputs.spec), out)
    code_expander(functions, snippet, command)

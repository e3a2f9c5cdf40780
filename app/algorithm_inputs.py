"""The opening every algorithm page shares: data set, episode and device in the sidebar, then the model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from app.datasets import dataset_controls, load_or_explain
from app.device import device_control
from app.episode_controls import EpisodeChoice, episode_controls, sample_or_explain
from app.model_picker import ModelChoice, model_picker
from app.training_panel import TrainingDefaults
from core.algorithms import FewShotAlgorithm
from core.datasets import ClassDataset, DatasetSpec
from core.episodes import Episode


@dataclass(frozen=True)
class AlgorithmInputs:
    """What an algorithm page explains; ``raw_episode`` is as sampled, before the model's preprocessing."""

    spec: DatasetSpec
    dataset: ClassDataset
    choice: EpisodeChoice
    model: ModelChoice
    raw_episode: Episode


def algorithm_inputs(
    prefix: str,
    algorithm: str,
    build: Callable[..., FewShotAlgorithm],
    n_query_default: int,
    sidebar_options: Callable[[], dict] | None = None,
    hyperparameters: Callable[[], dict] | None = None,
    defaults: TrainingDefaults | None = None,
) -> AlgorithmInputs | None:
    """The sidebar's data set, episode and device controls, then the model picker; None when the page has
    nothing to show yet (it has then said why).

    ``sidebar_options()`` draws the page's own sidebar widgets below the device and returns their values,
    which ``build`` receives as keyword arguments; ``prefix``, ``build``, ``hyperparameters`` and
    ``defaults`` are the model picker's (see ``model_picker``).
    """
    spec = dataset_controls()
    dataset = load_or_explain(spec)
    if dataset is None:
        return None
    choice = episode_controls(spec, dataset, n_query_default=n_query_default)
    device_control()
    options = sidebar_options() if sidebar_options else {}
    model = model_picker(prefix, algorithm, spec, dataset, partial(build, **options), hyperparameters, defaults)
    raw_episode = sample_or_explain(dataset, choice)
    if model is None or raw_episode is None:
        return None
    return AlgorithmInputs(spec, dataset, choice, model, raw_episode)

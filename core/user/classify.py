"""Classify the queries of a person's own class set with any few-shot model, and say how."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from core.algorithms import MAML, FewShotAlgorithm
from core.episodes import Episode
from core.errors import InputError
from core.user import ClassSet, prepare_for_model


@dataclass(frozen=True, eq=False)
class UserResult:
    """Predictions for a person's queries, the images as the model saw them, and the algorithm's trace.

    ``trace`` is what ``explain`` returns for the episode whose query labels are the
    predictions (the true ones are unknown): PrototypeTrace, RelationTrace or AdaptationTrace.
    """

    class_names: tuple[str, ...]
    probabilities: torch.Tensor  # [Q, n_way]
    episode: Episode  # support and queries as the model sees them; query_y = predictions
    trace: Any
    blank_queries: tuple[bool, ...] = ()  # per query: no ink, so its probabilities mean nothing

    @property
    def predictions(self) -> torch.Tensor:
        return self.probabilities.argmax(1)


def class_set_episode(class_set: ClassSet, algorithm: FewShotAlgorithm) -> Episode:
    """The class set as an episode in the model's input form (query labels all 0 until predicted).

    Images go through ``prepare_for_model``, as ``Learner.predict``'s do: character models get
    every image cropped to its ink first (``crops_to_ink``). Blank support images are left out
    unless their class keeps them (``UserClass.support_images``).
    """
    preprocessing = algorithm.preprocessing
    support = [item.image for user_class in class_set.classes for item in user_class.support_images]
    labels = [k for k, user_class in enumerate(class_set.classes) for _ in user_class.support_images]
    queries = [item.image for item in class_set.queries]
    support_x = prepare_for_model(support, preprocessing)
    query_x = prepare_for_model(queries, preprocessing)
    n_way = len(class_set.classes)
    return Episode(support_x, torch.tensor(labels), query_x, torch.zeros(len(queries), dtype=torch.long),
                   tuple(class_set.class_names), tuple(range(n_way)), seed=0, index=0)  # fmt: skip


def classify(class_set: ClassSet, algorithm: FewShotAlgorithm, maml_steps: int | None = None) -> UserResult:
    """Probabilities of each query for each class, and the trace the pages draw.

    Raises an ``InputError`` (a ValueError) saying what to do when the model cannot take this set
    (a MAML head of another size).
    """
    if isinstance(algorithm, MAML) and len(class_set.classes) != algorithm.n_way:
        raise InputError(
            f"this MAML model classifies exactly {algorithm.n_way} classes and the set has "
            f"{len(class_set.classes)}; use {algorithm.n_way} classes or another model",
            code="classify.maml_n_way", n_way=algorithm.n_way, classes=len(class_set.classes),
        )  # fmt: skip
    episode = class_set_episode(class_set, algorithm)
    algorithm.eval()
    support_x, support_y, query_x, _ = algorithm.inputs(episode)
    with torch.no_grad():
        probabilities = algorithm(support_x, support_y, query_x).softmax(1).cpu()
    labelled = Episode(episode.support_x, episode.support_y, episode.query_x, probabilities.argmax(1),
                       episode.class_names, episode.class_ids, 0, 0)  # fmt: skip
    trace = algorithm.explain(labelled, maml_steps) if isinstance(algorithm, MAML) else algorithm.explain(labelled)
    blank = tuple(item.blank for item in class_set.queries)
    return UserResult(episode.class_names, probabilities, labelled, trace, blank)


def predictions_csv(result: UserResult, query_names: list[str]) -> str:
    """One row per query: its file name, the predicted class and every class's probability."""
    header = ["query", "predicted", *(f"p({name})" for name in result.class_names)]
    rows = [",".join(_csv_field(v) for v in header)]
    for name, probabilities in zip(query_names, result.probabilities.tolist(), strict=True):
        predicted = result.class_names[max(range(len(probabilities)), key=probabilities.__getitem__)]
        rows.append(",".join([_csv_field(name), _csv_field(predicted), *(f"{p:.4f}" for p in probabilities)]))
    return "\n".join(rows) + "\n"


def _csv_field(value: str) -> str:
    text = str(value)
    if text[:1] in ("=", "+", "-", "@"):  # would run as a formula in a spreadsheet
        text = "'" + text
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text

"""You vs the model: one-shot trials a person and every model answer alike.

A trial is Lake et al.'s (2015) one-shot classification task: ``n_way`` characters,
one drawing of each (the support set), and one new drawing of one of them (the
query). Lake's people, on 20-way trials whose characters all came from one
alphabet, erred 4.5% of the time (95.5% correct), the reference the page shows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from core.datasets import ClassDataset
from core.episodes import Episode
from core.errors import InputError
from core.evaluation import Accuracy, accuracy_with_ci

HUMAN_ACCURACY_LAKE_2015 = 0.955  # 20-way within-alphabet one-shot classification, Lake et al. (2015)


def alphabet(class_name: str) -> str:
    """``"Greek/character03"`` -> ``"Greek"`` (glyphs and Omniglot name classes alphabet/character)."""
    return class_name.split("/", 1)[0]


def one_shot_trials(
    dataset: ClassDataset, split: str, n_way: int, trials: int, seed: int = 0, within_alphabet: bool = True
) -> list[Episode]:
    """``trials`` seeded one-shot episodes with a single query each.

    With ``within_alphabet`` every trial's characters come from one alphabet (the harder
    task Lake et al. gave people); otherwise from the whole split.
    """
    groups = _class_groups(dataset, split, within_alphabet)
    eligible = [g for g in groups if len(g) >= n_way]
    if not eligible:
        largest = max((len(g) for g in groups), default=0)
        where = "alphabet" if within_alphabet else "split"
        message = (f"{n_way}-way trials need {n_way} characters with 2 drawings in one {where}; "
                   f"the largest has {largest}: lower n_way")  # fmt: skip
        if within_alphabet:
            raise InputError(message, code="game.too_few_in_alphabet", n_way=n_way, largest=largest)
        raise InputError(message, code="game.too_few_in_split", n_way=n_way, largest=largest)
    return [_trial(dataset, eligible, n_way, seed, index) for index in range(trials)]


def _class_groups(dataset: ClassDataset, split: str, within_alphabet: bool) -> list[np.ndarray]:
    classes = dataset.classes_in(split)
    classes = classes[dataset.class_counts[classes] >= 2]
    if not within_alphabet:
        return [classes]
    names = np.array([alphabet(dataset.class_names[c]) for c in classes])
    return [classes[names == name] for name in dict.fromkeys(names)]


def _trial(dataset: ClassDataset, groups: list[np.ndarray], n_way: int, seed: int, index: int) -> Episode:
    rng = np.random.default_rng([seed, index, 271828])
    group = groups[rng.integers(len(groups))]
    classes = np.sort(rng.choice(group, size=n_way, replace=False))
    target = int(rng.integers(n_way))
    support, query = [], None
    for position, class_id in enumerate(classes):
        first = int(dataset.class_offsets[class_id])
        drawings = rng.choice(int(dataset.class_counts[class_id]), size=2, replace=False) + first
        support.append(int(drawings[0]))
        if position == target:
            query = int(drawings[1])
    return Episode(
        support_x=dataset.images[support], support_y=torch.arange(n_way),
        query_x=dataset.images[[query]], query_y=torch.tensor([target]),
        class_names=tuple(dataset.class_names[c] for c in classes), class_ids=tuple(int(c) for c in classes),
        seed=seed, index=index,
    )  # fmt: skip


@dataclass(frozen=True)
class PlayerScore:
    """A player's answers to the trials (None: could not answer) and their accuracy."""

    player: str
    answers: tuple[int | None, ...]
    accuracy: Accuracy | None
    skipped: str = ""


def score(player: str, answers: Sequence[int | None], trials: Sequence[Episode]) -> PlayerScore:
    """Accuracy of ``answers`` (one support position per trial) with its 95% CI."""
    if len(answers) != len(trials):
        raise ValueError(f"{len(answers)} answers for {len(trials)} trials; answer every trial")
    correct = [float(answer == int(trial.query_y[0])) for answer, trial in zip(answers, trials, strict=True)]
    return PlayerScore(player, tuple(answers), accuracy_with_ci(correct) if correct else None)


def model_score(player: str, predict: Callable[[Episode], torch.Tensor], trials: Sequence[Episode]) -> PlayerScore:
    """A model's answers to the same trials; a model that cannot take them (ValueError) is skipped with why."""
    try:
        with torch.no_grad():
            answers = [int(predict(trial)[0]) for trial in trials]
    except ValueError as error:
        return PlayerScore(player, (), None, skipped=str(error))
    return score(player, answers, trials)

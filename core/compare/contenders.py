"""The line-up the Compare page, the game and the benchmarks put side by side."""

from __future__ import annotations

from core.algorithms import DISPLAY_NAMES, FewShotAlgorithm
from core.compare.baselines import TrainFromScratch, pixel_nearest_neighbour_predict
from core.compare.runner import Contender

BASELINE_ALGORITHMS = {"finetune"}
PIXEL_NN = "nearest neighbour on pixels"
FROM_SCRATCH = "trained from scratch on the support set"


def display_name(algorithm: FewShotAlgorithm) -> str:
    """``first-order MAML`` for MAML with ``first_order``, else the algorithm's display name."""
    if algorithm.name == "maml" and algorithm.settings.get("first_order"):
        return "first-order MAML"
    return DISPLAY_NAMES.get(algorithm.name, algorithm.name)


def model_contender(label: str, algorithm: FewShotAlgorithm, note: str = "") -> Contender:
    """A trained model as a contender (the fine-tuning baseline counts as a baseline)."""
    kind = "baseline" if algorithm.name in BASELINE_ALGORITHMS else "meta-learned"
    parameters = sum(p.numel() for p in algorithm.parameters())
    return Contender(label, algorithm.eval().predict_episode, parameters, kind, note)


def baseline_contenders(channels: int, image_size: int, n_way: int = 5) -> list[Contender]:
    """Nearest neighbour on pixels and the Conv-4 trained from scratch on each support set."""
    scratch = TrainFromScratch(channels, image_size)
    return [
        Contender(PIXEL_NN, pixel_nearest_neighbour_predict, 0, "baseline"),
        Contender(FROM_SCRATCH, scratch.predict, scratch.parameter_count(n_way), "baseline"),
    ]


def fits(algorithm: FewShotAlgorithm, image_shape: tuple[int, ...]) -> str:
    """Empty when the model takes images of ``image_shape`` ([C, H, W]), else why not."""
    preprocessing = algorithm.preprocessing
    expected = (preprocessing.channels, preprocessing.image_size, preprocessing.image_size)
    if tuple(image_shape) == expected:
        return ""
    return f"it takes {_shape(expected)} images and this data set has {_shape(image_shape)}"


def unseen_classes_note(metadata: dict, split_scheme: str, split: str) -> str:
    """Empty when ``split`` of the data set whose classes were split as ``split_scheme`` (``ClassDataset.split_scheme``)
    holds exactly the classes the model was kept away from in training, else a warning."""
    trained_on = metadata.get("dataset", {}).get("split_scheme_used")
    if trained_on != split_scheme:
        return f"trained on other classes ({trained_on or 'not recorded'}): some '{split}' classes may have been seen"
    splits = metadata.get("splits", {})
    if split == splits.get("train"):
        return f"trained on the '{split}' classes: this measures memory, not few-shot learning"
    if split != splits.get("test"):
        return f"the model's held-out classes are '{splits.get('test')}', not '{split}'"
    return ""


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(side) for side in shape)

"""Checkpoints: ``name.safetensors`` (weights) beside ``name.json`` (everything else).

Nothing is ever unpickled: weights are read with safetensors, the rest is JSON, and
the architecture is rebuilt from the JSON before the weights are checked against it.
A checkpoint may also carry snapshots of the weights taken during training
(``snapshot.<step>.<name>`` tensors, their steps listed in the JSON), to replay training.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from core.algorithms import ALGORITHMS, FewShotAlgorithm
from core.errors import CodedError
from core.preprocessing import Preprocessing

FORMAT = "meta-learning-playground/checkpoint-v1"
MAX_BYTES = 200 * 1024 * 1024
MAX_JSON_BYTES = 1024 * 1024


class CheckpointError(CodedError, ValueError):
    """A file that is not a usable checkpoint; the message says which file and why."""


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The model's weights (and buffers, e.g. BatchNorm statistics) after ``step`` training steps, on the CPU."""

    step: int
    state: dict[str, torch.Tensor]


def checkpoint_paths(path: str | Path) -> tuple[Path, Path]:
    """(weights, metadata) paths for ``path`` given with or without a suffix."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix in (".safetensors", ".json") else path
    return stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")


def save_checkpoint(
    path: str | Path, algorithm: FewShotAlgorithm, metadata: dict[str, Any], snapshots: Sequence[Snapshot] = (),
    snapshot_dtype: torch.dtype = torch.float16,
) -> tuple[Path, Path]:  # fmt: skip
    """Write weights and metadata; ``metadata`` holds data set, split, training and accuracy.

    ``snapshots`` (``TrainingRun.snapshots``) go into the same file, their floating-point tensors in
    ``snapshot_dtype`` (half precision halves their size; they are for pictures, not for predictions).
    """
    weights_path, json_path = checkpoint_paths(path)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in algorithm.state_dict().items()}
    save_file(state | snapshot_tensors(snapshots, snapshot_dtype), str(weights_path))
    record = {
        "format": FORMAT,
        "algorithm": algorithm.name,
        "settings": algorithm.settings,
        "preprocessing": algorithm.preprocessing.to_dict(),
        **metadata,
    }
    if snapshots:
        record["snapshots"] = {
            "steps": [s.step for s in snapshots],
            "dtype": str(snapshot_dtype).removeprefix("torch."),
        }
    json_path.write_text(json.dumps(record, indent=2, default=_jsonable) + "\n")
    return weights_path, json_path


def resume_path(path: str | Path) -> Path:
    """``name.resume.safetensors``: the last weights and optimiser state that ``--resume`` continues from."""
    weights_path, _ = checkpoint_paths(path)
    return weights_path.with_name(weights_path.name.removesuffix(".safetensors") + ".resume.safetensors")


def save_resume_state(path: str | Path, tensors: dict[str, torch.Tensor]) -> Path:
    """Write ``TrainingRun.resume_state()`` beside the checkpoint at ``path``."""
    target = resume_path(path)
    save_file({name: tensor.contiguous() for name, tensor in tensors.items()}, str(target))
    return target


def read_resume_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors ``save_resume_state`` wrote (safetensors only, size-limited, like the weights)."""
    return _read_weights(resume_path(path))


def training_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """The model's current weights and the optimiser's moments as flat CPU tensors (``model.*``, ``adam.<i>.*``)."""
    tensors = {f"model.{k}": v.detach().cpu().clone() for k, v in model.state_dict().items()}
    for index, state in optimizer.state_dict()["state"].items():
        tensors |= {f"adam.{index}.{k}": torch.as_tensor(v).detach().cpu().clone() for k, v in state.items()}
    return tensors


def restore_training_state(
    model: torch.nn.Module, optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]
) -> None:
    """Put ``training_state``'s tensors back; a ValueError says when they do not fit this model."""
    weights = {k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")}
    try:
        model.load_state_dict(weights)
        optimizer.load_state_dict({"state": _adam_state(tensors, list(model.parameters())),
                                   "param_groups": optimizer.state_dict()["param_groups"]})  # fmt: skip
    except (RuntimeError, KeyError, IndexError, ValueError) as error:
        raise ValueError(f"the resume state does not fit this model ({error}); train without --resume") from None


def _adam_state(tensors: dict[str, torch.Tensor], parameters: list[torch.Tensor]) -> dict[int, dict]:
    """``adam.<index>.<name>`` tensors -> Adam's per-parameter state, each moment checked against its parameter."""
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("adam."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    for index, entry in state.items():
        shape = tuple(parameters[index].shape)
        if {k: tuple(v.shape) for k, v in entry.items()} != {"step": (), "exp_avg": shape, "exp_avg_sq": shape}:
            raise KeyError(f"Adam's state for parameter {index} does not match its shape {shape}")
    return state


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The checkpoint's JSON, checked for the fields needed to rebuild the model."""
    _, json_path = checkpoint_paths(path)
    if not json_path.is_file():
        raise CheckpointError(f"{json_path} is missing: a checkpoint is a .safetensors file with a .json beside it",
                              code="checkpoint.no_json", file=str(json_path))  # fmt: skip
    size, limit = json_path.stat().st_size / 2**20, MAX_JSON_BYTES // 2**20
    if size > limit:
        raise CheckpointError(
            f"{json_path} is {size:.1f} MB, above the {limit} MB limit for a "
            "checkpoint description; use the .json saved beside the weights",
            code="checkpoint.json_too_large", file=str(json_path), size_mb=size, limit_mb=limit,
        )  # fmt: skip
    try:
        record = json.loads(json_path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise CheckpointError(f"{json_path} is not valid JSON ({error})", code="checkpoint.bad_json",
                              file=str(json_path), detail=str(error)) from None  # fmt: skip
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise CheckpointError(f"{json_path} is not a playground checkpoint description (no format {FORMAT!r})",
                              code="checkpoint.not_ours", file=str(json_path), format=FORMAT)  # fmt: skip
    if not isinstance(record.get("algorithm"), str) or record["algorithm"] not in ALGORITHMS:
        raise CheckpointError(
            f"{json_path} names algorithm {record.get('algorithm')!r}; known: {', '.join(ALGORITHMS)}",
            code="checkpoint.unknown_algorithm", file=str(json_path), algorithm=record.get("algorithm"),
            known=", ".join(ALGORITHMS),
        )  # fmt: skip
    return record


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> tuple[FewShotAlgorithm, dict]:
    """Rebuild the model its JSON describes and load the weights into it (in eval mode)."""
    weights_path, json_path = checkpoint_paths(path)
    record = read_metadata(path)
    algorithm = build_algorithm(record, json_path)
    state = {k: v for k, v in _read_weights(weights_path).items() if not k.startswith("snapshot.")}
    expected = algorithm.state_dict()
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or unexpected:
        missing_shown = f"{missing[:3]}{'...' if len(missing) > 3 else ''}"
        unexpected_shown = f"{unexpected[:3]}{'...' if len(unexpected) > 3 else ''}"
        raise CheckpointError(
            f"{weights_path} does not fit the {record['algorithm']} architecture in {json_path.name}: "
            f"missing {missing_shown}, unexpected {unexpected_shown}",
            code="checkpoint.wrong_tensors", file=str(weights_path), algorithm=record["algorithm"],
            json=json_path.name, missing=missing_shown, unexpected=unexpected_shown,
        )  # fmt: skip
    wrong = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(v.shape)}" for k, v in expected.items()
             if state[k].shape != v.shape]  # fmt: skip
    if wrong:
        raise CheckpointError(
            f"{weights_path} has tensors of the wrong shape for its architecture: {'; '.join(wrong[:3])}",
            code="checkpoint.wrong_shapes", file=str(weights_path), shapes="; ".join(wrong[:3]),
        )  # fmt: skip
    algorithm.load_state_dict(state)
    return algorithm.to(device).eval(), record


def load_snapshots(path: str | Path) -> tuple[Snapshot, ...]:
    """The snapshots saved with the checkpoint at ``path``, in step order; () for a checkpoint without any.

    Each is checked against the architecture the JSON describes, like the weights themselves.
    """
    weights_path, json_path = checkpoint_paths(path)
    record = read_metadata(path)
    listed = record.get("snapshots")
    steps = listed.get("steps") if isinstance(listed, dict) else None
    if not steps:
        return ()
    expected = build_algorithm(record, json_path).state_dict()
    try:
        return split_snapshot_tensors(_read_weights(weights_path), steps, expected)
    except (ValueError, TypeError) as error:
        message = f"{weights_path}: {error}; use the files saved together"
        raise CheckpointError(message, code="checkpoint.bad_snapshots", file=str(weights_path),
                              detail=str(error)) from None  # fmt: skip


def snapshot_tensors(snapshots: Sequence[Snapshot], dtype: torch.dtype | None = None) -> dict[str, torch.Tensor]:
    """Flat ``snapshot.<step>.<name>`` tensors, floating ones converted to ``dtype`` (integer buffers kept)."""
    return {f"snapshot.{snapshot.step}.{name}": (tensor.to(dtype) if dtype and tensor.is_floating_point()
                                                 else tensor).contiguous()
            for snapshot in snapshots for name, tensor in snapshot.state.items()}  # fmt: skip


def split_snapshot_tensors(
    tensors: dict[str, torch.Tensor], steps: Sequence[int], expected: dict[str, torch.Tensor]
) -> tuple[Snapshot, ...]:
    """``snapshot_tensors``' keys among ``tensors`` -> snapshots in step order, in ``expected``'s dtypes.

    Raises ValueError, naming the step, when the steps differ from ``steps`` or a snapshot does not fit.
    """
    grouped: dict[int, dict[str, torch.Tensor]] = {}
    for name, tensor in tensors.items():
        if name.startswith("snapshot."):
            _, step, key = name.split(".", 2)
            if not step.isdigit():
                raise ValueError(f"snapshot tensor {name!r} does not name a step")
            grouped.setdefault(int(step), {})[key] = tensor
    if sorted(grouped) != sorted(int(step) for step in steps):
        raise ValueError(f"the snapshot steps {sorted(grouped)} differ from the JSON's {sorted(steps)}")
    snapshots = []
    for step, state in sorted(grouped.items()):
        if set(state) != set(expected) or any(state[k].shape != v.shape for k, v in expected.items()):
            raise ValueError(f"the snapshot at step {step} does not fit the model's weights")
        snapshots.append(Snapshot(step, {k: state[k].to(v.dtype) for k, v in expected.items()}))
    return tuple(snapshots)


def build_algorithm(record: dict, source: Path | str = "checkpoint") -> FewShotAlgorithm:
    """The untrained model ``record`` describes; raises ``CheckpointError`` when it cannot be built.

    The JSON may come from anyone, so the architecture is first built on the "meta" device
    (shapes only, no memory) and refused when its weights could not fit in ``MAX_BYTES``.
    """
    try:
        preprocessing = Preprocessing.from_dict(record["preprocessing"])
        cls, settings = ALGORITHMS[record["algorithm"]], dict(record.get("settings", {}))
        if "fetch" in inspect.signature(cls).parameters:
            settings["fetch"] = False  # a checkpoint carries its own weights: it never starts a download
        with torch.device("meta"):
            skeleton = cls(preprocessing, **settings)
    except Exception as error:  # untrusted settings fail in many ways (negative sizes, wrong types...)
        raise CheckpointError(
            f"{source} describes a model that cannot be built ({type(error).__name__}: {error}); "
            "use the .json saved with these weights",
            code="checkpoint.cannot_build", file=str(source), kind=type(error).__name__, detail=str(error),
        ) from None  # fmt: skip
    size = sum(tensor.numel() * tensor.element_size() for tensor in skeleton.state_dict().values())
    if size > MAX_BYTES:
        raise CheckpointError(
            f"{source} describes a model of {size / 2**20:.0f} MB of weights, above the "
            f"{MAX_BYTES // 2**20} MB limit; use the .json saved with these weights",
            code="checkpoint.model_too_large", file=str(source), size_mb=size / 2**20, limit_mb=MAX_BYTES // 2**20,
        )  # fmt: skip
    return cls(preprocessing, **settings)


def _read_weights(weights_path: Path) -> dict[str, torch.Tensor]:
    if not weights_path.is_file():
        raise CheckpointError(f"{weights_path} is missing: the weights belong beside the .json",
                              code="checkpoint.no_weights", file=str(weights_path))  # fmt: skip
    size, limit = weights_path.stat().st_size / 2**20, MAX_BYTES // 2**20
    if size > limit:
        raise CheckpointError(f"{weights_path} is {size:.0f} MB, above the {limit} MB limit", size_mb=size,
                              code="checkpoint.weights_too_large", file=str(weights_path), limit_mb=limit)  # fmt: skip
    with weights_path.open("rb") as handle:
        head = handle.read(9)  # safetensors: the header's length (8 bytes, any values), then its JSON's "{"
    if head[8:9] != b"{" and (head[:1] == b"\x80" or head[:2] == b"PK"):
        raise CheckpointError(
            f"{weights_path} is a pickle or torch.save file, not safetensors: such files can run code "
            "when loaded, so they are refused. Convert it with safetensors.torch.save_file.",
            code="checkpoint.pickle", file=str(weights_path),
        )  # fmt: skip
    try:
        return load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as error:
        message = f"{weights_path} is truncated or not a safetensors file ({error})"
        raise CheckpointError(message, code="checkpoint.not_safetensors", file=str(weights_path),
                              detail=str(error)) from None  # fmt: skip


def _jsonable(value: Any) -> Any:
    if hasattr(value, "__dict__"):
        return vars(value)
    if isinstance(value, tuple | set):
        return list(value)
    return str(value)

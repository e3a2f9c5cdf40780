"""Data-parallel training: two CPU processes with gloo against one process doing both halves."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from core import load_learner
from core.algorithms import MAML, PrototypicalNetworks, RelationNetworks
from core.checkpoints import load_checkpoint
from core.cli.commands import main
from core.datasets.class_dataset import from_class_lists
from core.episodes import EpisodeSampler
from core.preprocessing import Preprocessing
from core.runtime.distributed import DistributedContext, average_gradients, from_environment, start, stop
from core.training import TrainConfig, TrainingRun

ROOT = Path(__file__).resolve().parents[1]
WORLD = 2
BUILDERS = {
    "protonet": lambda p: PrototypicalNetworks(p, hidden=8),
    "maml-second-order": lambda p: MAML(p, n_way=3, hidden=8, inner_lr=0.1, train_steps=2, first_order=False),
    "relationnet": lambda p: RelationNetworks(p, hidden=8),
}
SMALL_RUN = ["--dataset", "glyphs", "--image-size", "16", "--n-way", "5", "--n-shot", "1", "--n-query", "2",
             "--episodes", "6", "--validate-every", "3", "--val-episodes", "3", "--test-episodes", "3",
             "--test-shots", "1"]  # fmt: skip


def tiny_sampler() -> EpisodeSampler:
    """3-way 1-shot 2-query episodes of 6 random 28x28 classes (the same in every process)."""
    generator = torch.Generator().manual_seed(0)
    images = [torch.randint(0, 256, (4, 1, 28, 28), generator=generator, dtype=torch.uint8) for _ in range(6)]
    dataset = from_class_lists("random", images, [f"c{i}" for i in range(6)], ["train"] * 6)
    return EpisodeSampler(dataset, "train", 3, 1, 2, seed=0)


def first_step_gradients(name: str, meta_batch: int, context: DistributedContext) -> dict[str, torch.Tensor]:
    """The gradients the loop stepped with at step 1 (they stay in .grad until the next step)."""
    torch.manual_seed(0)
    model = BUILDERS[name](Preprocessing(image_size=28, mean=(0.5,), std=(0.3,)))
    # the per-task path both ways: the ranks hold one episode each, and this checks the averaging
    config = TrainConfig(episodes=1, meta_batch=meta_batch, validate_every=0, task_batched=False)
    run = TrainingRun(model, tiny_sampler(), config, distributed=context)
    next(run)
    return {k: p.grad.detach().contiguous() for k, p in model.named_parameters() if p.grad is not None}


def three_validated_steps(context: DistributedContext) -> dict[str, torch.Tensor]:
    """ProtoNet's weights and buffers after 3 steps validated at every step, and which steps validated here."""
    torch.manual_seed(context.rank)  # different starting weights: the run must broadcast rank 0's
    model = BUILDERS["protonet"](Preprocessing(image_size=28, mean=(0.5,), std=(0.3,)))
    config = TrainConfig(episodes=3, validate_every=1, validation_episodes=2)
    run = TrainingRun(model, tiny_sampler(), config, tiny_sampler(), distributed=context)
    records = [next(run) for _ in range(3)]  # not finish(): rank 0 alone would then restore its best weights
    validated = torch.tensor([r.val_accuracy is not None for r in records])
    return {**{k: v.contiguous() for k, v in model.state_dict().items()}, "validated": validated}


def run_rank(out: str) -> None:
    """One rank, started by torchrun (tests/ddp_gradient_worker.py): join with gloo, take one step per
    algorithm, save its grads."""
    torch.set_num_threads(1)
    context = from_environment()
    start(context, "cpu")
    try:
        for name in BUILDERS:
            save_file(first_step_gradients(name, 1, context), f"{out}/{name}-{context.rank}.safetensors")
        save_file(three_validated_steps(context), f"{out}/steps-{context.rank}.safetensors")
        unused, partly = nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(2))
        partly.grad = torch.full((2,), 4.0) if context.rank == 0 else None  # a grad only rank 0 computed
        average_gradients([unused, partly], WORLD)
        save_file({"partly": partly.grad, "unused_is_none": torch.tensor(unused.grad is None)},
                  f"{out}/missing-{context.rank}.safetensors")  # fmt: skip
        print(f"rank {context.rank}: all saved", file=sys.stderr, flush=True)
    finally:
        stop(context)


@pytest.fixture(scope="module")
def rank_gradients(tmp_path_factory):
    """Two gloo ranks under torchrun, as users start them (mp.spawn children aborted now and then in CI)."""
    out = tmp_path_factory.mktemp("ranks")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={WORLD}",
               str(ROOT / "tests" / "ddp_gradient_worker.py"), str(out)]  # fmt: skip
    paths = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": paths},
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, (sorted(p.name for p in out.iterdir()), done.stderr[-3000:])
    return out


@pytest.fixture(scope="module")
def ddp_checkpoint(tmp_path_factory) -> Path:
    """A checkpoint from ``torchrun --nproc_per_node=2 -m core train`` (gloo, CPU)."""
    out = tmp_path_factory.mktemp("ddp") / "ddp"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={WORLD}",
               "-m", "core", "train", *SMALL_RUN, "--device", "cpu", "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.count("device: cpu, 2 processes") == 1  # only rank 0 speaks
    return out


def test_ranks_take_disjoint_slots_of_the_global_meta_batch():
    ranks = [DistributedContext(rank, 3, rank) for rank in range(3)]
    for step in range(4):
        used = [i for context in ranks for i in context.episode_indices(step, 2)]
        assert used == list(DistributedContext().episode_indices(step, 6))  # one process, 3x the meta-batch


def test_the_environment_without_torchrun_is_one_process_and_bad_values_are_explained():
    assert from_environment({}) == DistributedContext(0, 1, 0)
    assert from_environment({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"}) == DistributedContext(3, 4, 1)
    with pytest.raises(ValueError, match="use torchrun"):
        from_environment({"WORLD_SIZE": "2"})
    with pytest.raises(ValueError, match="outside"):
        from_environment({"RANK": "2", "WORLD_SIZE": "2", "LOCAL_RANK": "0"})


@pytest.mark.slow  # torchrun
@pytest.mark.parametrize("name", list(BUILDERS))
def test_two_ranks_average_to_the_gradient_of_one_process_on_both_episodes(rank_gradients, name):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the ranks: other thread counts sum in another order
    try:
        reference = first_step_gradients(name, WORLD, DistributedContext())  # episodes 0 and 1 in one process
    finally:
        torch.set_num_threads(threads)
    ranks = [load_file(rank_gradients / f"{name}-{rank}.safetensors") for rank in range(WORLD)]
    assert set(ranks[0]) == set(ranks[1]) == set(reference)
    for key, expected in reference.items():
        assert torch.equal(ranks[0][key], ranks[1][key]), f"{key} differs between the ranks"
        error = (ranks[0][key] - expected).norm() / expected.norm().clamp_min(1e-12)
        assert error < 1e-5, f"{name} {key}: relative error {error:.2e}"  # float32 rounding; a wrong episode: ~1


@pytest.mark.slow  # torchrun
def test_ranks_stay_identical_and_only_rank_0_validates(rank_gradients):
    ranks = [load_file(rank_gradients / f"steps-{rank}.safetensors") for rank in range(WORLD)]
    assert ranks[0].pop("validated").all() and not ranks[1].pop("validated").any()
    for key, value in ranks[0].items():  # parameters and BatchNorm statistics alike
        assert torch.equal(value, ranks[1][key]), f"{key} differs between the ranks"


@pytest.mark.slow  # torchrun
def test_a_grad_missing_on_some_ranks_counts_as_zeros_and_on_all_stays_none(rank_gradients):
    for rank in range(WORLD):
        result = load_file(rank_gradients / f"missing-{rank}.safetensors")
        assert torch.equal(result["partly"], torch.full((2,), 2.0)) and bool(result["unused_is_none"])


@pytest.mark.slow  # torchrun
def test_a_torchrun_checkpoint_has_the_single_process_format(ddp_checkpoint, tmp_path):
    assert main(["train", *SMALL_RUN, "--device", "cpu", "--out", str(tmp_path / "single")]) == 0
    single = json.loads((tmp_path / "single.json").read_text())
    ddp = json.loads(ddp_checkpoint.with_suffix(".json").read_text())
    assert key_paths(single) == key_paths(ddp)
    assert tensor_shapes(tmp_path / "single.safetensors") == tensor_shapes(ddp_checkpoint.with_suffix(".safetensors"))
    assert (ddp["training"]["world_size"], ddp["training"]["global_meta_batch"], ddp["training"]["device"]) == (
        2, 2, "cpu")  # fmt: skip
    assert (single["training"]["world_size"], single["training"]["global_meta_batch"]) == (1, 1)


@pytest.mark.slow  # torchrun
def test_a_torchrun_checkpoint_loads_and_predicts(ddp_checkpoint):
    algorithm, record = load_checkpoint(ddp_checkpoint)
    assert record["algorithm"] == "protonet" and not algorithm.training
    support = torch.randint(0, 256, (4, 1, 16, 16), dtype=torch.uint8)
    prediction = load_learner(ddp_checkpoint).predict(support, ["a", "a", "b", "b"], support[:3])
    assert prediction.probabilities.shape == (3, 2) and set(prediction.labels) <= {"a", "b"}
    assert torch.allclose(prediction.probabilities.sum(1), torch.ones(3))


@pytest.mark.slow  # torchrun
def test_a_torchrun_checkpoint_loads_in_the_app(ddp_checkpoint):
    from app.models import load_shipped

    loaded = load_shipped(ddp_checkpoint)
    assert loaded is not None and loaded[0].name == "protonet" and loaded[1]["training"]["world_size"] == 2


def key_paths(record: dict, prefix: str = "") -> set[str]:
    """Every key of a nested JSON record, as dotted paths (values ignored)."""
    paths = set()
    for key, value in record.items():
        paths.add(prefix + key)
        if isinstance(value, dict):
            paths |= key_paths(value, f"{prefix}{key}.")
    return paths


def tensor_shapes(path: Path) -> dict[str, tuple]:
    with safe_open(str(path), "pt") as weights:
        return {k: (tuple(weights.get_slice(k).get_shape()), weights.get_slice(k).get_dtype()) for k in weights.keys()}  # noqa: SIM118

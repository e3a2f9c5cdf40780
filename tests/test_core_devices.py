import pytest
import torch

from core.cli.commands import main
from core.runtime.devices import available_devices, describe_device, resolve_device


@pytest.fixture
def machine(monkeypatch):
    """Pretend the machine has the given accelerators: machine(cuda=2, mps=False)."""

    def pretend(cuda: int = 0, mps: bool = False) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return pretend


def test_auto_falls_back_to_the_cpu_without_accelerators(machine):
    machine(cuda=0, mps=False)
    assert available_devices() == ["cpu"]
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")


def test_auto_prefers_cuda_then_mps(machine):
    machine(cuda=1, mps=True)
    assert available_devices() == ["cuda", "mps", "cpu"]
    assert resolve_device("auto").type == "cuda"
    machine(cuda=0, mps=True)
    assert resolve_device("auto") == torch.device("mps")


def test_asking_for_a_missing_device_names_what_to_pass_instead(machine):
    machine(cuda=0, mps=False)
    with pytest.raises(ValueError, match=r"not available.*available: cpu.*--device auto or --device cpu"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="'mps' is not available"):
        resolve_device("mps")


def test_a_gpu_index_beyond_the_machine_and_unknown_names_are_refused(machine):
    machine(cuda=2)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(ValueError, match=r"no cuda:2.*cuda:0 to cuda:1"):
        resolve_device("cuda:2")
    with pytest.raises(ValueError, match="choose one of auto, cpu, cuda, mps"):
        resolve_device("tpu")


def test_describe_names_the_cpu_plainly():
    assert describe_device(torch.device("cpu")) == "cpu"


def test_every_cli_command_refuses_a_missing_device_with_advice(machine, tmp_path, capsys):
    machine(cuda=0, mps=False)
    assert main(["eval", "--checkpoint", str(tmp_path / "absent"), "--device", "cuda"]) == 2
    assert "pass --device auto or --device cpu" in capsys.readouterr().err
    assert main(["train", "--device", "cuda", "--episodes", "1", "--out", str(tmp_path / "m")]) == 2
    assert "pass --device auto or --device cpu" in capsys.readouterr().err


def test_amp_on_a_cpu_without_bf16_is_refused_before_any_data_is_loaded(machine, tmp_path, capsys, monkeypatch):
    machine(cuda=0, mps=False)
    monkeypatch.setattr("core.training.config.cpu_has_bf16", lambda: False)
    assert main(["train", "--amp", "--device", "cpu", "--episodes", "1", "--out", str(tmp_path / "m")]) == 2
    assert "--amp (bf16 autocast) needs a CUDA device or a CPU with bf16 instructions" in capsys.readouterr().err

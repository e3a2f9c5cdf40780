"""Which device computes: ``auto`` picks CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def available_devices() -> list[str]:
    """The device types this machine can use now, fastest first; "cpu" is always last."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    if _mps_available():
        found.append("mps")
    return [*found, "cpu"]


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"mps"`` -> a usable torch.device.

    Raises ValueError, naming what is available, when the asked device is not.
    """
    text = str(name).strip().lower()
    available = available_devices()
    if text == "auto":
        return torch.device(available[0])
    try:
        device = torch.device(text)
    except RuntimeError:
        raise ValueError(f"unknown device {name!r}; choose one of {', '.join(DEVICE_CHOICES)} (or cuda:N)") from None
    if device.type not in DEVICE_CHOICES:
        raise ValueError(f"unknown device {name!r}; choose one of {', '.join(DEVICE_CHOICES)} (or cuda:N)")
    if device.type not in available:
        raise ValueError(
            f"device {text!r} is not available on this machine (available: {', '.join(available)}); "
            f"pass --device auto or --device {available[0]}"
        )
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        count = torch.cuda.device_count()
        raise ValueError(f"there is no {text}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}")
    return device


def describe_device(device: torch.device) -> str:
    """A short line for logs and pages: ``cpu``, ``cuda:0 (NVIDIA H100 80GB HBM3)``, ``mps``."""
    if device.type != "cuda":
        return str(device)
    index = torch.cuda.current_device() if device.index is None else device.index
    return f"cuda:{index} ({torch.cuda.get_device_name(index)})"


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())

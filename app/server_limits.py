"""What one server gives each browser session: training limits, upload sizes, and the public-demo mode.

Hosts set these with environment variables (README, "Hosting the playground"). Every browser
session runs in the same process, so the limits here are what keeps one visitor's training run
from taking the server from everyone else.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import NamedTuple

import torch

from app.i18n import current_language, text
from core.user import ImageLimits

PUBLIC_DEMO = "PLAYGROUND_PUBLIC_DEMO"
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("", "0", "false", "no", "off")


def _default_torch_threads() -> int:
    """One core fewer than the machine has: page rendering and other sessions keep a core of their own."""
    return max(1, (os.cpu_count() or 1) - 1)


@dataclass(frozen=True)
class ServerLimits:
    """Each field can be set by the environment variable in its metadata; 0 seconds means no limit."""

    public_demo: bool = field(default=False, metadata={"env": PUBLIC_DEMO})
    training_episodes: int = field(default=20_000, metadata={"env": "PLAYGROUND_MAX_TRAINING_EPISODES"})
    training_seconds: int = field(default=1800, metadata={"env": "PLAYGROUND_MAX_TRAINING_SECONDS"})
    session_training_seconds: int = field(default=0, metadata={"env": "PLAYGROUND_MAX_SESSION_TRAINING_SECONDS"})
    training_runs: int = field(default=2, metadata={"env": "PLAYGROUND_MAX_TRAINING_RUNS"})
    upload_mb: int = field(default=10, metadata={"env": "PLAYGROUND_MAX_UPLOAD_MB"})  # images and class sets
    checkpoint_mb: int = field(default=20, metadata={"env": "PLAYGROUND_MAX_CHECKPOINT_MB"})
    torch_threads: int = field(default_factory=_default_torch_threads, metadata={"env": "PLAYGROUND_TORCH_THREADS"})

    @property
    def folder_paths(self) -> bool:
        """Whether visitors may type a path on the server's disk (never in the public demo)."""
        return not self.public_demo


PUBLIC_DEMO_LIMITS = {
    "training_episodes": 500,
    "training_seconds": 120,
    "session_training_seconds": 600,
    "training_runs": 1,
    "upload_mb": 2,
    "checkpoint_mb": 5,
}


class LimitProblem(NamedTuple):
    """A setting that could not be used: the catalog key ``limits.<code>`` and its placeholders."""

    code: str
    params: dict[str, object]


def limit_problem_text(problem: LimitProblem, language: str | None = None) -> str:
    """The sentence for ``problem`` in ``language`` (default: the visitor's)."""
    return text(language or current_language(), f"limits.{problem.code}", **problem.params)


def read_limits(environ: Mapping[str, str] | None = None) -> tuple[ServerLimits, list[LimitProblem]]:
    """The limits the environment sets, and a problem for each value that could not be used."""
    environ = os.environ if environ is None else environ
    problems: list[LimitProblem] = []
    demo_word = environ.get(PUBLIC_DEMO, "").strip().lower()
    if demo_word not in TRUE_WORDS + FALSE_WORDS:
        problems.append(LimitProblem("demo_switch_unreadable", {"variable": PUBLIC_DEMO, "value": repr(demo_word)}))
    limits = ServerLimits(public_demo=demo_word not in FALSE_WORDS)
    if limits.public_demo:
        limits = replace(limits, **PUBLIC_DEMO_LIMITS)
    for item in fields(ServerLimits):
        variable, raw = item.metadata["env"], environ.get(item.metadata["env"], "").strip()
        if item.name == "public_demo" or not raw:
            continue
        default = getattr(limits, item.name)
        minimum = 0 if item.name.endswith("seconds") else 1
        if not raw.isdigit() or int(raw) < minimum:
            problems.append(LimitProblem("not_a_number", {"variable": variable, "value": repr(raw), "minimum": minimum,
                                                          "default": default}))  # fmt: skip
            continue
        value = int(raw)
        if limits.public_demo and item.name in PUBLIC_DEMO_LIMITS and _looser(item.name, value, default):
            problems.append(LimitProblem("looser_than_demo", {"variable": variable, "value": value,
                                                              "default": default}))  # fmt: skip
            continue
        limits = replace(limits, **{item.name: value})
    return limits, problems


def _looser(name: str, value: int, demo_value: int) -> bool:
    return value > demo_value or (name.endswith("seconds") and value == 0)


def server_limits() -> ServerLimits:
    """The limits as the environment sets them now (read each time: a few lookups, and tests can set them)."""
    return read_limits()[0]


DEFAULT_IMAGE_LIMITS = ImageLimits()


def image_limits() -> ImageLimits:
    """Core's limits on images and class sets, with files no larger than this server's upload limit."""
    upload_bytes = server_limits().upload_mb * 1_000_000
    return replace(DEFAULT_IMAGE_LIMITS, max_file_bytes=min(DEFAULT_IMAGE_LIMITS.max_file_bytes, upload_bytes),
                   max_zip_bytes=min(DEFAULT_IMAGE_LIMITS.max_zip_bytes, 100 * upload_bytes))  # fmt: skip


def upload_mb() -> int:
    """For ``st.file_uploader(max_upload_size=...)``: the browser refuses larger files before sending them."""
    return server_limits().upload_mb


def apply_torch_threads(limits: ServerLimits) -> None:
    """Cap torch's intra-op threads; they belong to the whole process, which every session shares."""
    if torch.get_num_threads() != limits.torch_threads:
        torch.set_num_threads(limits.torch_threads)


class TrainingSlots:
    """Counts the training runs going on across every session of this server."""

    def __init__(self) -> None:
        self._running = 0
        self._lock = threading.Lock()

    @property
    def running(self) -> int:
        return self._running

    def try_take(self, capacity: int) -> bool:
        """Take a slot if fewer than ``capacity`` runs are going on; False otherwise."""
        with self._lock:
            if self._running >= capacity:
                return False
            self._running += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self._running = max(0, self._running - 1)


TRAINING_SLOTS = TrainingSlots()

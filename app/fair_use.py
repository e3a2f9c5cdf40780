"""A turn to train on a shared server: a free slot, a time allowance, and the seconds counted against the visit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import streamlit as st

from app.i18n import t
from app.server_limits import TRAINING_SLOTS, ServerLimits, server_limits

SECONDS_USED = "training_seconds_used"  # this visit's training time, against session_training_seconds


@dataclass(frozen=True)
class Deadline:
    """When a run has to stop, and the sentence that says why; ``seconds`` None means no limit."""

    seconds: float | None
    reason: str = ""
    started: float = 0.0

    def passed(self) -> bool:
        return self.seconds is not None and time.monotonic() - self.started >= self.seconds


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 60 and seconds % 60 == 0:
        return t("fair_use.minutes", minutes=seconds // 60)
    return t("fair_use.seconds", seconds=seconds)


def limits_sentence(limits: ServerLimits, count_episodes: bool = True) -> str:
    """What this server allows one run (and one visit), in words."""
    episodes = t("fair_use.episodes", episodes=f"{limits.training_episodes:,}") if count_episodes else None
    seconds = duration(limits.training_seconds) if limits.training_seconds else None
    per_run = t("fair_use.both", episodes=episodes, duration=seconds) if episodes and seconds else episodes or seconds
    parts = t("fair_use.per_run", limits=per_run) if per_run else ""
    if limits.session_training_seconds:
        parts += t("fair_use.per_visit", duration=duration(limits.session_training_seconds))
    runs = limits.training_runs
    runs_text = t("fair_use.runs_one" if runs == 1 else "fair_use.runs_many", runs=runs)
    return t("fair_use.sentence", parts=parts, runs=runs_text)


def seconds_left(limits: ServerLimits) -> float | None:
    """This visit's training time left, or None where the server sets no such limit."""
    if not limits.session_training_seconds:
        return None
    return limits.session_training_seconds - st.session_state.get(SECONDS_USED, 0.0)


@contextmanager
def training_turn(limits: ServerLimits | None = None) -> Iterator[Deadline | None]:
    """A training slot on this server and this run's deadline; None, after saying why, when there is no turn.

    The run's seconds count against the visit even when a click interrupts it, and the slot is
    given back however the run ends.
    """
    limits = limits or server_limits()
    left = seconds_left(limits)
    if left is not None and left <= 0:
        st.warning(t("fair_use.visit_used", duration=duration(limits.session_training_seconds)))
        yield None
        return
    if not TRAINING_SLOTS.try_take(limits.training_runs):
        running = TRAINING_SLOTS.running
        st.warning(t("fair_use.busy_one" if running == 1 else "fair_use.busy_many", running=running))
        yield None
        return
    started = time.monotonic()
    try:
        yield _deadline(limits, left, started)
    finally:
        TRAINING_SLOTS.give_back()
        st.session_state[SECONDS_USED] = st.session_state.get(SECONDS_USED, 0.0) + time.monotonic() - started


def _deadline(limits: ServerLimits, left: float | None, started: float) -> Deadline:
    if left is not None and (not limits.training_seconds or left < limits.training_seconds):
        used_up = t("fair_use.visit_used_up", duration=duration(limits.session_training_seconds))
        return Deadline(left, used_up, started)
    if limits.training_seconds:
        per_run = t("fair_use.run_limit", duration=duration(limits.training_seconds))
        return Deadline(limits.training_seconds, per_run, started)
    return Deadline(None, "", started)

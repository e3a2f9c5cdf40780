"""The CLI's progress display for training runs, on stderr.

On a terminal it is a tqdm bar redrawn in place: steps, rate, ETA and a postfix with the
loss, accuracy and last validation accuracy. Anywhere else (a pipe, a log file, CI) it
writes whole lines instead, one every ``LOG_EVERY`` of the run and one at each
validation, so a log holds no carriage returns and every line stands on its own.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
from typing import IO

from tqdm import tqdm

LOG_EVERY = 0.05  # a plain line per 5% of the run when stderr is not a terminal
METER = "{n_fmt}/{total_fmt} ({percentage:.0f}%) [{elapsed}<{remaining}, {rate_fmt}]"


class ProgressBar:
    """Progress of one run of ``total`` steps; ``update`` it with each record, then ``close`` it.

    A record needs ``step``, ``loss`` and ``accuracy``; ``val_accuracy`` and ``best`` are
    shown when present. ``interactive`` (default: whether ``file`` is a terminal) picks the
    redrawn bar over plain lines; ``disable`` shows nothing (the other ranks under torchrun).
    """

    def __init__(
        self,
        total: int,
        unit: str = "ep",
        file: IO[str] | None = None,
        interactive: bool | None = None,
        disable: bool = False,
    ) -> None:
        self.total, self.unit, self.disable = total, unit, disable
        self.file = sys.stderr if file is None else file  # looked up now: tests and pipes swap sys.stderr
        self.interactive = _is_terminal(self.file) if interactive is None else interactive
        self.every = max(1, math.ceil(total * LOG_EVERY))
        self.step: int | None = None
        self.validation = ""
        self._bar: tqdm | None = None
        self._initial = self._printed = 0
        self._start = 0.0

    def update(self, record, extra: str = "") -> None:
        """Show ``record``; the rate and ETA count from the first record shown (a resumed run's, say)."""
        if self.disable:
            return
        if self.step is None:  # the first step's warm-up and a resumed run's earlier steps stay out of the rate
            self._initial, self._start = record.step, time.perf_counter()
            if self.interactive:
                self._bar = tqdm(total=self.total, initial=self._initial, unit=self.unit, file=self.file,
                                 dynamic_ncols=True, leave=True)  # fmt: skip
        if getattr(record, "val_accuracy", None) is not None:
            self.validation = f"val {100 * record.val_accuracy:.1f}%" + ("*" if record.best else "")
        self.step = record.step
        postfix = ", ".join(filter(None, (f"loss {record.loss:.3f}", f"acc {100 * record.accuracy:.1f}%",
                                          self.validation, extra.strip())))  # fmt: skip
        if self._bar is not None:
            self._bar.set_postfix_str(postfix, refresh=False)
            self._bar.update(record.step - self._bar.n)  # redraws at most every tqdm.mininterval
        elif self._line_due(record):  # a step past the next 5% mark: callers may show only every 10th step
            print(f"{self._meter()} {postfix}", file=self.file, flush=True)
            self._printed = record.step

    def close(self) -> None:
        """Finish the bar's line (a no-op for plain lines, which end themselves)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def _line_due(self, record) -> bool:
        if getattr(record, "val_accuracy", None) is not None or record.step >= self.total:
            return True
        return record.step == self._initial or record.step // self.every > self._printed // self.every

    def _meter(self) -> str:
        elapsed = time.perf_counter() - self._start
        return tqdm.format_meter(self.step, self.total, elapsed, unit=self.unit, initial=self._initial,
                                 bar_format=METER)  # fmt: skip


def _is_terminal(file: IO[str]) -> bool:
    """A terminal with a width: tqdm draws nothing at all on a pseudo-terminal of 0 columns."""
    try:
        return file.isatty() and os.get_terminal_size(file.fileno()).columns > 0
    except (AttributeError, ValueError, OSError):  # no isatty or fileno, a closed stream, no size
        return False


def drive(run, total: int, show: bool = True) -> bool:
    """Run to the end with a progress display (when ``show``); True when stopped by Ctrl-C.

    The first Ctrl-C only raises a flag, checked after each step: a KeyboardInterrupt that lands
    in a finaliser is printed and ignored by Python, and the run would go on (a CI run hung so).
    A second Ctrl-C interrupts at once.
    """
    stop = threading.Event()

    def on_ctrl_c(signum, frame) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    in_main = threading.current_thread() is threading.main_thread()  # only there can a handler be set
    previous = signal.signal(signal.SIGINT, on_ctrl_c) if in_main else None
    try:
        with ProgressBar(total, disable=not show) as progress:
            try:
                for record in run:
                    progress.update(record)
                    if stop.is_set():
                        break
            except KeyboardInterrupt:
                stop.set()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if stop.is_set() and show:
        print("interrupted: keeping the best weights so far", file=sys.stderr)
    return stop.is_set()


_current: ProgressBar | None = None


def bar(record, total: int, extra: str, unit: str = "ep") -> None:
    """Show ``record`` (step, loss, accuracy) of ``total`` steps on the one open bar, closed at the last step.

    For loops that keep no bar of their own; a new run (another total or unit, or a step
    that went back) opens a new bar. ``extra`` is appended to the postfix.
    """
    global _current
    current = _current
    if current is None or (current.total, current.unit) != (total, unit) or record.step <= (current.step or 0):
        if current is not None:
            current.close()
        current = _current = ProgressBar(total, unit)
    current.update(record, extra)
    if record.step >= total:
        current.close()
        _current = None

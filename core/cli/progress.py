"""The CLI's one-line progress bar for training runs (stderr, rewritten in place)."""

from __future__ import annotations

import sys


def drive(run, total: int, show: bool = True) -> bool:
    """Run to the end with a progress bar (when ``show``); True when stopped by Ctrl-C."""
    last_val = ""
    try:
        for record in run:
            if record.val_accuracy is not None:
                last_val = f" val {100 * record.val_accuracy:.1f}%" + ("*" if record.best else "")
            if show and (record.step % 10 == 0 or record.step == total or record.val_accuracy is not None):
                bar(record, total, last_val)
    except KeyboardInterrupt:
        if show:
            print("\ninterrupted: keeping the best weights so far", file=sys.stderr)
        return True
    return False


def bar(record, total: int, extra: str, unit: str = "ep") -> None:
    """Redraw the bar for ``record`` (step, loss, accuracy, seconds) of ``total`` steps."""
    done = record.step / total
    eta = record.seconds / record.step * (total - record.step)
    filled = "#" * int(30 * done) + "." * (30 - int(30 * done))
    print(
        f"\r[{filled}] {record.step}/{total} loss {record.loss:.3f} acc {100 * record.accuracy:.1f}%{extra} "
        f"{record.step / record.seconds:.1f} {unit}/s eta {eta:.0f}s ",
        end="",
        file=sys.stderr,
        flush=True,
    )

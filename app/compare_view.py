"""The Compare page's runs: streamed progress, the results table, charts and CSV downloads."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.compare.runner import ContenderResult, SweepPoint, run_comparison, run_sweep
from core.evaluation import Accuracy
from core.figures.compare import accuracy_against_time, accuracy_bars, sweep_curves

UPDATE_EVERY = 2  # episodes between table refreshes while a comparison runs


def results_rows(results: tuple[ContenderResult, ...]) -> list[dict]:
    """One row per contender: what the table shows and the CSV holds."""
    rows = []
    for result in results:
        accuracy = result.accuracy
        rows.append({
            "method": result.name, "kind": result.kind,
            "accuracy %": round(100 * accuracy.mean, 2) if accuracy else None,
            "95% CI ±": round(100 * accuracy.ci95, 2) if accuracy else None,
            "episodes": len(result.per_episode),
            "ms per episode (median)": round(result.ms_per_episode, 1) if result.seconds else None,
            "parameters": result.parameters,
            "peak MiB (tensors, 1st episode)": round(result.peak_mib, 2) if result.peak_mib is not None else None,
            "note": (result.skipped and f"skipped: {result.skipped}") or result.note,
        })  # fmt: skip
    return sorted(rows, key=lambda row: -(row["accuracy %"] or -1))


def to_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def per_episode_csv(results: tuple[ContenderResult, ...]) -> str:
    """Every contender's accuracy on every episode, with the hash of the episode it was given."""
    rows = [{"method": r.name, "episode": i, "accuracy": acc, "seconds": round(r.seconds[i], 5),
             "episode_sha256": r.episode_hashes[i]}
            for r in results for i, acc in enumerate(r.per_episode)]  # fmt: skip
    return to_csv(rows) if rows else ""


def stream_comparison(contenders, sampler, episodes: int) -> tuple[ContenderResult, ...]:
    """Run the comparison with a progress bar and a table that fills in as episodes finish."""
    bar, table = st.progress(0.0, text="starting…"), st.empty()
    results = ()
    for progress in run_comparison(contenders, sampler, episodes):
        results = progress.results
        if progress.done % UPDATE_EVERY == 0 or progress.done == progress.total:
            bar.progress(progress.done / progress.total, text=f"episode {progress.done} of {progress.total}")
            table.dataframe(results_rows(results), hide_index=True)
    bar.empty()
    table.empty()
    return results


def show_results(results: tuple[ContenderResult, ...], description: str, chance: float, prefix: str) -> None:
    rows = results_rows(results)
    st.dataframe(rows, hide_index=True)
    first = next((r for r in results if r.episode_hashes), None)
    same = first is not None and all(r.episode_hashes == first.episode_hashes for r in results if r.episode_hashes)
    st.caption(
        f"{description}. Every method got the same episodes"
        + (" (checked: equal SHA-256 of each episode's tensors)." if same else ".")
        + " Time includes each method's adaptation to the support set; peak memory counts the tensors a method "
        "allocates on the first episode (weights excluded)."
    )
    left, right = st.columns(2)
    left.plotly_chart(accuracy_bars(list(results), chance, "Query accuracy with 95% CI"), key=f"{prefix}_bars")
    right.plotly_chart(accuracy_against_time(list(results)), key=f"{prefix}_cost")
    left, right = st.columns(2)
    left.download_button("Results (CSV)", to_csv(rows), "comparison.csv", "text/csv", icon=":material/download:",
                         key=f"{prefix}_csv")  # fmt: skip
    right.download_button("Every episode (CSV)", per_episode_csv(results), "comparison-episodes.csv", "text/csv",
                          icon=":material/download:", key=f"{prefix}_episodes_csv")  # fmt: skip


def stream_sweep(contenders, make_sampler, axis: str, values: list[int], base: tuple[int, int],
                 episodes: int) -> list[SweepPoint]:  # fmt: skip
    bar, chart = st.progress(0.0, text="starting…"), st.empty()
    points: tuple[SweepPoint, ...] = ()
    for progress in run_sweep(contenders, make_sampler, axis, values, base, episodes):
        bar.progress(progress.fraction, text=f"{axis} sweep: {100 * progress.fraction:.0f}%")
        if progress.points != points:
            points = progress.points
            chart.plotly_chart(sweep_curves(list(points), axis, "so far"), key=f"sweep_live_{len(points)}")
    bar.empty()
    chart.empty()
    return list(points)


def sweep_rows(points: list[SweepPoint]) -> list[dict]:
    return [{"method": p.contender, p.axis: p.value,
             "accuracy %": round(100 * p.accuracy.mean, 2) if p.accuracy else None,
             "95% CI ±": round(100 * p.accuracy.ci95, 2) if p.accuracy else None,
             "episodes": p.accuracy.episodes if p.accuracy else 0, "skipped": p.skipped}
            for p in points]  # fmt: skip


SHIPPED_RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "compare_shipped.json"
SHIPPED_COMMAND = "python -m benchmarks.compare_shipped"


@dataclass(frozen=True)
class ShippedResult:
    """One method's row of the shipped comparison, shaped like a ``ContenderResult`` for the figures."""

    name: str
    kind: str
    parameters: int
    accuracy: Accuracy | None
    ms_per_episode: float | None
    peak_mib: float | None
    skipped: str
    note: str


@st.cache_data(max_entries=4)
def _shipped_file(path: str) -> tuple[dict, str]:
    """The results JSON and its date: the JSON's own, else the last commit that changed it."""
    result = json.loads(Path(path).read_text())
    date = result.get("date")
    if not date:
        try:
            done = subprocess.run(["git", "log", "-1", "--format=%cs", "--", path], capture_output=True, text=True,
                                  timeout=5, cwd=Path(path).parent)  # fmt: skip
            date = done.stdout.strip() if done.returncode == 0 else ""
        except (OSError, subprocess.SubprocessError):
            date = ""
    return result, date or "date not recorded"


def shipped_results(source: str, n_way: int, n_shot: int, path: Path = SHIPPED_RESULTS
                    ) -> tuple[list[ShippedResult], str, float] | None:  # fmt: skip
    """The shipped comparison's methods at this setting (else 5-way 1-shot) on ``source``, a description and
    the chance accuracy of the setting shown."""
    if not path.exists():
        return None
    result, date = _shipped_file(str(path))
    rows = [r for r in result["rows"] if r["data"] == source and r["models_trained_on"] == source]
    setting = (n_way, n_shot) if any((r["n_way"], r["n_shot"]) == (n_way, n_shot) for r in rows) else (5, 1)
    rows = [r for r in rows if (r["n_way"], r["n_shot"]) == setting]
    if not rows:
        return None
    episodes = max(r["episodes"] for r in rows)
    results = [ShippedResult(
        r["method"], r["kind"], r["parameters"],
        Accuracy(r["accuracy"], r["ci95"], r["episodes"]) if r["accuracy"] is not None else None,
        r["ms_per_episode"], r["peak_mib"], r["skipped"] or "", r["note"] or "",
    ) for r in rows]  # fmt: skip
    description = (f"Shipped precomputed result ({SHIPPED_COMMAND}, {date}, {result.get('threads', '?')} CPU "
                   f"thread(s)): {source}, held-out classes, {setting[0]}-way {setting[1]}-shot, 15 queries per "
                   f"class, {episodes} episodes of seed 0, the shipped models trained on {source}")  # fmt: skip
    return results, description, 1 / setting[0]


def show_shipped(source: str, n_way: int, n_shot: int, prefix: str) -> None:
    """The shipped comparison as a table and the page's two charts, labelled as such; nothing when absent."""
    found = shipped_results(source, n_way, n_shot)
    if found is None:
        return
    results, description, chance = found
    st.info(f"{description}. Press **Run the comparison** to measure your own line-up on your own settings.",
            icon=":material/inventory_2:")  # fmt: skip
    rows = [{"method": r.name, "kind": r.kind,
             "accuracy %": round(100 * r.accuracy.mean, 2) if r.accuracy else None,
             "95% CI ±": round(100 * r.accuracy.ci95, 2) if r.accuracy else None,
             "episodes": r.accuracy.episodes if r.accuracy else 0,
             "ms per episode (median)": round(r.ms_per_episode, 1) if r.ms_per_episode else None,
             "parameters": r.parameters,
             "peak MiB (tensors, 1st episode)": round(r.peak_mib, 2) if r.peak_mib is not None else None,
             "note": (r.skipped and f"skipped: {r.skipped}") or r.note}
            for r in sorted(results, key=lambda r: -(r.accuracy.mean if r.accuracy else -1))]  # fmt: skip
    st.dataframe(rows, hide_index=True)
    left, right = st.columns(2)
    left.plotly_chart(accuracy_bars(results, chance, "Query accuracy with 95% CI (shipped result)"),
                      key=f"{prefix}_shipped_bars")  # fmt: skip
    right.plotly_chart(accuracy_against_time(results), key=f"{prefix}_shipped_cost")

"""The Compare page's runs: streamed progress, the results table, charts and CSV downloads."""

from __future__ import annotations

import csv
import io

import streamlit as st

from core.compare.runner import ContenderResult, SweepPoint, run_comparison, run_sweep
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

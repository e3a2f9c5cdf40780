"""The Compare page's runs: streamed progress, the results table, charts and CSV downloads."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from app.charts import show_chart
from app.i18n import t
from core.compare.runner import (
    QUICK_MIN_EPISODES,
    ContenderResult,
    SweepPoint,
    run_comparison,
    run_for,
    run_sweep,
)  # fmt: skip
from core.evaluation import Accuracy
from core.figures.compare import accuracy_against_time, accuracy_bars, sweep_curves

UPDATE_EVERY = 2  # episodes between table refreshes while a comparison runs

# Data column -> (catalog key of the label and help shown, width in px); "kind" and "note" are in the CSV only.
# The data columns (and so the CSV) keep their English names.
TABLE_COLUMNS = {
    "method": ("method", 280),
    "accuracy %": ("accuracy", 85),
    "95% CI ±": ("ci", 75),
    "episodes": ("episodes", 75),
    "ms per episode (median)": ("ms", 95),
    "parameters": ("parameters", 90),
    "peak MiB (tensors, 1st episode)": ("peak", 80),
}


def results_rows(results) -> list[dict]:
    """One row per contender (``ContenderResult`` or ``ShippedResult``), best first: what the table and CSV hold."""
    rows = []
    for result in results:
        accuracy = result.accuracy
        rows.append({
            "method": result.name, "kind": result.kind,
            "accuracy %": round(100 * accuracy.mean, 2) if accuracy else None,
            "95% CI ±": round(100 * accuracy.ci95, 2) if accuracy else None,
            "episodes": accuracy.episodes if accuracy else 0,
            "ms per episode (median)": round(result.ms_per_episode, 1) if result.ms_per_episode else None,
            "parameters": result.parameters,
            "peak MiB (tensors, 1st episode)": round(result.peak_mib, 2) if result.peak_mib is not None else None,
            "note": (result.skipped and f"skipped: {result.skipped}") or result.note,
        })  # fmt: skip
    return sorted(rows, key=lambda row: -(row["accuracy %"] or -1))


def show_table(rows: list[dict]) -> None:
    """The results as a table that fits the page (the notes, long, as a caption under it)."""
    config = {column: st.column_config.Column(t(f"compare.column.{name}"), width=width,
                                              help=t(f"compare.column.{name}_help"))
              for column, (name, width) in TABLE_COLUMNS.items()}  # fmt: skip
    st.dataframe(rows, hide_index=True, column_config=config, column_order=list(TABLE_COLUMNS))
    notes = [f"**{row['method']}**: {row['note']}" for row in rows if row["note"]]
    if notes:
        st.caption(t("compare.notes", notes="; ".join(notes)))


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


def stream_comparison(contenders, sampler, episodes: int, seconds: float | None,
                      shipped: tuple[str, int, int]) -> tuple[ContenderResult, ...]:  # fmt: skip
    """Run the comparison (for at most ``seconds`` when given, see ``run_for``) with a progress bar, the shipped
    result (``shipped``: source, n_way, n_shot) meanwhile, and a table that fills in as episodes finish."""
    bar, meanwhile = st.progress(0.0, text=t("compare.starting")), st.empty()
    with meanwhile.container():
        st.caption(t("compare.while_running"))
        show_shipped(*shipped, prefix="cmp_meanwhile")
    table = st.empty()
    start, results = time.perf_counter(), ()
    runs = run_comparison(contenders, sampler, episodes) if seconds is None else \
        run_for(contenders, sampler, seconds, episodes, min(QUICK_MIN_EPISODES, episodes))  # fmt: skip
    for progress in runs:
        results = progress.results
        if progress.done % UPDATE_EVERY == 0 or progress.done == progress.total:
            fraction = progress.done / progress.total if seconds is None else \
                min(1.0, (time.perf_counter() - start) / seconds)  # fmt: skip
            words = t("compare.episode_progress", done=progress.done) if seconds else \
                t("compare.episode_progress_of", done=progress.done, total=progress.total)  # fmt: skip
            bar.progress(fraction, text=words)
            table.dataframe(results_rows(results), hide_index=True, column_order=list(TABLE_COLUMNS)[:4])
    bar.empty()
    meanwhile.empty()
    table.empty()
    return results


def quick_note(results: tuple[ContenderResult, ...], seconds: float) -> str:
    """What a quick run did and how wide its intervals are."""
    ran = [r for r in results if r.accuracy]
    widest = max((100 * r.accuracy.ci95 for r in ran), default=0.0)
    return t("compare.quick_note", episodes=max((len(r.per_episode) for r in ran), default=0),
             seconds=f"{seconds:.0f}", widest=f"{widest:.1f}")  # fmt: skip


def show_comparison(results, chance: float, title: str, prefix: str) -> list[dict]:
    """The bar chart first (the figure the page exists for), then the table; returns the table's rows."""
    kinds = {"meta-learned": t("compare.kind_meta_learned"), "baseline": t("compare.kind_baseline")}
    show_chart(accuracy_bars(list(results), chance, title, axis_title=t("compare.bars_axis"),
                             chance_label=t("compare.chance", chance=f"{100 * chance:.0f}%"), kind_names=kinds,
                             ci_hover=t("compare_figures.ci_hover")), key=f"{prefix}_bars")  # fmt: skip
    rows = results_rows(results)
    show_table(rows)
    return rows


def show_cost(results, prefix: str) -> None:
    show_chart(accuracy_against_time(list(results), t("compare.cost"), x_title=t("compare.cost_x"),
                                     y_title=t("compare.accuracy"), ms_hover=t("compare_figures.ms_hover")),
               key=f"{prefix}_cost")  # fmt: skip


def show_results(results: tuple[ContenderResult, ...], description: str, chance: float, prefix: str) -> None:
    rows = show_comparison(results, chance, t("compare.bars"), prefix)
    first = next((r for r in results if r.episode_hashes), None)
    same = first is not None and all(r.episode_hashes == first.episode_hashes for r in results if r.episode_hashes)
    checked = t("compare.same_episodes_checked" if same else "compare.same_episodes", description=description)
    st.caption(f"{checked} {t('compare.time_and_memory')}")
    show_cost(results, prefix)
    left, right = st.columns(2)
    left.download_button(t("compare.results_csv"), to_csv(rows), "comparison.csv", "text/csv",
                         icon=":material/download:", key=f"{prefix}_csv")  # fmt: skip
    right.download_button(t("compare.episodes_csv"), per_episode_csv(results), "comparison-episodes.csv", "text/csv",
                          icon=":material/download:", key=f"{prefix}_episodes_csv")  # fmt: skip


def stream_sweep(contenders, make_sampler, axis: str, values: list[int], base: tuple[int, int],
                 episodes: int) -> list[SweepPoint]:  # fmt: skip
    bar, chart = st.progress(0.0, text=t("compare.starting")), st.empty()
    points: tuple[SweepPoint, ...] = ()
    for progress in run_sweep(contenders, make_sampler, axis, values, base, episodes):
        bar.progress(
            progress.fraction, text=t("compare.sweep_progress", axis=axis, percent=f"{100 * progress.fraction:.0f}")
        )
        if progress.points != points:
            points = progress.points
            show_chart(sweep_curves(list(points), axis, t("compare.sweep_live"), y_title=t("compare.accuracy")),
                       container=chart, key=f"sweep_live_{len(points)}")  # fmt: skip
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
    return result, date


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
    description = t("compare.shipped", command=SHIPPED_COMMAND, date=date or t("compare.no_date"),
                    threads=result.get("threads", "?"), source=source, n_way=setting[0], n_shot=setting[1],
                    episodes=episodes)  # fmt: skip
    return results, description, 1 / setting[0]


def show_shipped(source: str, n_way: int, n_shot: int, prefix: str) -> None:
    """The shipped comparison as the page's chart, table and cost chart, labelled as such; nothing when absent."""
    found = shipped_results(source, n_way, n_shot)
    if found is None:
        return
    results, description, chance = found
    show_comparison(results, chance, t("compare.bars_shipped"), f"{prefix}_shipped")
    st.info(t("compare.shipped_info", description=description), icon=":material/inventory_2:")
    show_cost(results, f"{prefix}_shipped")

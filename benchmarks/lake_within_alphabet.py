"""Lake et al.'s (2015) 20-way within-alphabet one-shot classification, for the shipped Omniglot models.

    python -m benchmarks.lake_within_alphabet [--trials 400] [--seed 0] [--checkpoint PATH] [--out DIR]

Each trial takes one of the 20 evaluation alphabets of Lake's split (``images_evaluation``)
and 20 of its characters; the support set is one drawing of each, all by one drawer, and
the query is a drawing of one of those characters by another drawer. People placed such
queries correctly 95.5% of the time, Bayesian program learning 96.7% (Lake, Salakhutdinov
and Tenenbaum, Science 350:1332, 2015: error rates 4.5% and 3.3%). Lake's trials are not
ours: the comparison is of the task, not of identical trials.

Every checkpoint in ``assets/`` that trained and chose its weights on Lake's background
alphabets only is scored on the same seeded trials, with nearest neighbour on pixels as a
reference row; any other (the Vinyals split, evaluation alphabets seen, glyphs, a MAML
head that is not 20-way) is skipped with the reason. Writes ``lake_within_alphabet.md``
and ``.json`` to ``benchmarks/results/``; with ``--checkpoint`` it scores that one model and
prints, writing only where ``--out`` says.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.augment import predict_over_distortions
from core.checkpoints import CheckpointError, load_checkpoint, read_metadata
from core.compare.baselines import pixel_nearest_neighbour_predict
from core.compare.contenders import PIXEL_NN, display_name, fits
from core.compare.game import HUMAN_ACCURACY_LAKE_2015, alphabet, model_score
from core.datasets import ClassDataset, DatasetSpec, find_omniglot_root, load_dataset
from core.episodes import Episode

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "assets"
RESULTS = Path(__file__).parent / "results"
BPL_ACCURACY_LAKE_2015 = 0.967  # Bayesian program learning, same task, Lake et al. (2015)
N_WAY = 20
SPLIT = "evaluation"
LAKE_SCHEME = "Lake background/evaluation"  # how load_omniglot names the lake split
COMMAND = "python -m benchmarks.lake_within_alphabet"


@dataclass(frozen=True)
class Trial:
    """One trial as rows of the data set: ``support_rows[i]`` is a drawing of class ``class_ids[i]``
    by ``support_drawer``; ``query_row`` is a drawing of ``class_ids[target]`` by ``query_drawer``."""

    alphabet: str
    class_ids: tuple[int, ...]
    support_rows: tuple[int, ...]
    query_row: int
    target: int
    support_drawer: int
    query_drawer: int
    seed: int
    index: int


def drawer_rows(dataset: ClassDataset, root: str | Path, split: str = SPLIT) -> dict[int, dict[int, int]]:
    """For each class of ``split``: {drawer (1..20): its row in ``dataset.images``}.

    The ClassDataset keeps no file names, but ``load_omniglot`` stores each character's
    drawings in sorted file order, and Omniglot names them ``<imageid>_<drawer>.png``: the
    same sorted listing gives each row's drawer. A class whose file count differs from its
    image count (another copy of the data, a changed loader) raises rather than guess.
    """
    rows = {}
    for class_id in dataset.classes_in(split):
        folder = Path(root) / f"images_{split}" / dataset.class_names[class_id]
        drawers = [int(path.stem.rsplit("_", 1)[1]) for path in sorted(folder.glob("*.png"))]
        count = int(dataset.class_counts[class_id])
        if len(drawers) != count:
            raise ValueError(f"{folder} holds {len(drawers)} drawings but the data set has {count} for "
                             f"{dataset.class_names[class_id]}: load the data set from {root}")  # fmt: skip
        first = int(dataset.class_offsets[class_id])
        rows[int(class_id)] = {drawer: first + k for k, drawer in enumerate(drawers)}
    return rows


def plan_trials(dataset: ClassDataset, rows: dict[int, dict[int, int]], trials: int, seed: int = 0,
                n_way: int = N_WAY) -> list[Trial]:  # fmt: skip
    """``trials`` seeded trials; trial ``i`` depends only on ``(seed, i)`` and the data set."""
    alphabets: dict[str, list[int]] = {}
    for class_id in sorted(rows):
        if len(rows[class_id]) >= 2:  # a query needs a drawer besides the support one
            alphabets.setdefault(alphabet(dataset.class_names[class_id]), []).append(class_id)
    drawers = {name: _support_drawers(classes, rows, n_way) for name, classes in alphabets.items()}
    eligible = sorted(name for name, found in drawers.items() if found)
    if not eligible:
        raise ValueError(f"no alphabet has {n_way} characters drawn by one drawer and another: lower n_way")
    return [_plan(alphabets, drawers, eligible, rows, n_way, seed, index) for index in range(trials)]


def _support_drawers(classes: list[int], rows: dict[int, dict[int, int]], n_way: int) -> list[int]:
    """The drawers who drew at least ``n_way`` of ``classes``."""
    counts: dict[int, int] = {}
    for class_id in classes:
        for drawer in rows[class_id]:
            counts[drawer] = counts.get(drawer, 0) + 1
    return sorted(drawer for drawer, count in counts.items() if count >= n_way)


def _plan(alphabets, drawers, eligible, rows, n_way: int, seed: int, index: int) -> Trial:
    rng = np.random.default_rng([seed, index, 2015])
    name = eligible[rng.integers(len(eligible))]
    support_drawer = int(rng.choice(drawers[name]))
    drawn = [c for c in alphabets[name] if support_drawer in rows[c]]
    classes = np.sort(rng.choice(drawn, size=n_way, replace=False))
    target = int(rng.integers(n_way))
    others = sorted(d for d in rows[int(classes[target])] if d != support_drawer)
    query_drawer = int(rng.choice(others))
    return Trial(
        alphabet=name, class_ids=tuple(int(c) for c in classes),
        support_rows=tuple(rows[int(c)][support_drawer] for c in classes),
        query_row=rows[int(classes[target])][query_drawer], target=target,
        support_drawer=support_drawer, query_drawer=query_drawer, seed=seed, index=index,
    )  # fmt: skip


def trial_episode(dataset: ClassDataset, trial: Trial) -> Episode:
    """The trial as a 20-way 1-shot Episode with one query (images as stored, uint8)."""
    return Episode(
        support_x=dataset.images[list(trial.support_rows)], support_y=torch.arange(len(trial.class_ids)),
        query_x=dataset.images[[trial.query_row]], query_y=torch.tensor([trial.target]),
        class_names=tuple(dataset.class_names[c] for c in trial.class_ids), class_ids=trial.class_ids,
        seed=trial.seed, index=trial.index,
    )  # fmt: skip


def refusal(metadata: dict) -> str:
    """Why a checkpoint may not take this test (empty when it may): it must have trained and
    chosen its weights on Lake's background alphabets alone, never seen an evaluation one."""
    dataset, splits = metadata.get("dataset") or {}, metadata.get("splits") or {}
    if dataset.get("source") != "omniglot":
        return f"trained on {dataset.get('source') or 'an unrecorded data set'}, not Omniglot"
    used = dataset.get("split_scheme_used") or ""
    if dataset.get("split_scheme") != "lake" or not used.startswith(LAKE_SCHEME):
        return (f"trained on the {dataset.get('split_scheme')!r} split ({used or 'not recorded'}), not Lake's: "
                "its training characters include some of the evaluation alphabets")  # fmt: skip
    carved = dict(re.findall(r"; (\S+) = \d+ (\S+) classes", used))  # "; val = 96 background classes (seed 0)"
    for role in ("train", "val"):
        split = splits.get(role)
        if split is None and role == "val":
            continue
        if carved.get(split, split) != "background":
            return f"its {role} split is {split!r}, not Lake's background alphabets: it may have seen evaluation ones"
    return ""


def cannot_answer(algorithm, image_shape: tuple[int, ...], n_way: int = N_WAY) -> str:
    """Why a loaded model cannot answer these trials (empty when it can)."""
    head = algorithm.settings.get("n_way")
    if head is not None and head != n_way:
        return f"its head is fixed at {head}-way; these trials are {n_way}-way"
    return fits(algorithm, image_shape)


def score(name: str, checkpoint: str, predict: Callable[[Episode], torch.Tensor], episodes: list[Episode]) -> dict:
    """One result row: accuracy with its 95% CI, answers, seconds (or ``skipped`` with why)."""
    start = time.perf_counter()
    result = model_score(name, predict, episodes)
    row = {"model": name, "checkpoint": checkpoint, "trials": len(episodes),
           "seconds": round(time.perf_counter() - start, 1)}  # fmt: skip
    if result.accuracy is None:
        return {**row, "skipped": result.skipped}
    return {**row, "accuracy": result.accuracy.mean, "ci95": result.accuracy.ci95, "answers": list(result.answers)}


def score_checkpoint(path: Path, trials_at: Callable[[int], tuple[ClassDataset, list[Episode]]],
                     copies: int = 0) -> list[dict]:  # fmt: skip
    """The row of the checkpoint at ``path``: scored, or skipped with the reason; with ``copies``, a second
    row for the same model deciding over the trial and that many distorted copies of it. ``trials_at(size)``
    gives the data set and the trials with images of the model's size (the same drawings, decoded at it)."""
    name, shown = path.with_suffix("").name, _shown(path)
    try:
        reason = refusal(read_metadata(path))
    except CheckpointError as error:
        return [{"model": name, "checkpoint": shown, "skipped": str(error)}]
    if not reason:
        algorithm, _ = load_checkpoint(path)
        name = f"{display_name(algorithm)} ({name})"
        dataset, episodes = trials_at(algorithm.preprocessing.image_size)
        reason = cannot_answer(algorithm, dataset.image_shape)
    if reason:
        return [{"model": name, "checkpoint": shown, "skipped": reason}]
    note = batch_statistics_note(algorithm)
    rows = [{**score(name, shown, algorithm.predict_episode, episodes), "note": note}]
    if copies:
        averaged = predict_over_distortions(algorithm, copies)
        rows.append({**score(f"{name} + {copies} distorted copies", shown, averaged, episodes), "note": note})
    return rows


def batch_statistics_note(algorithm: torch.nn.Module) -> str:
    """A note when the model normalises with the current batch's BatchNorm statistics: a trial's lone
    query then runs beside its support set, sharing its statistics (``core.algorithms.adaptation.query_logits``)."""
    batch_norms = (m for m in algorithm.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))
    if any(not m.track_running_stats for m in batch_norms):
        return (
            "BatchNorm on the current batch's statistics: each trial's one query is normalised together "
            "with its support set"
        )
    return ""


def _shown(path: Path) -> str:
    """``path`` relative to the repository when inside it (results do not name a home folder)."""
    path = path.resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def table(result: dict) -> str:
    """The markdown report of ``run``'s result."""
    people, bpl = 100 * HUMAN_ACCURACY_LAKE_2015, 100 * BPL_ACCURACY_LAKE_2015
    lines = [
        f"**Lake et al. (2015) 20-way within-alphabet one-shot classification**, {result['date']}: "
        f"{result['trials']} trials (seed {result['seed']}) on the 20 evaluation alphabets of Lake's split; "
        "each trial is 20 characters of one alphabet, one drawing of each by one drawer, and a drawing by "
        "another drawer of one of them to place. ± is the 95% confidence interval; the last two columns are "
        "accuracy minus Lake's people and Bayesian program learning, in points.",
        "",
        f"Reproduce: `{result['command']}`",
        "",
        f"| model | trials | accuracy (%) | vs people ({people:.1f}%) | vs BPL ({bpl:.1f}%) | seconds |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in (r for r in result["rows"] if "accuracy" in r):
        mean = 100 * row["accuracy"]
        lines.append(f"| {row['model']} | {row['trials']} | {mean:.1f} ± {100 * row['ci95']:.1f} | "
                     f"{mean - people:+.1f} | {mean - bpl:+.1f} | {row['seconds']:.0f} |")  # fmt: skip
    lines += [f"| people (Lake et al., 2015) | — | {people:.1f} | | | |",
              f"| Bayesian program learning (Lake et al., 2015) | — | {bpl:.1f} | | | |"]  # fmt: skip
    notes = [r for r in result["rows"] if r.get("note")]
    if notes:
        lines += ["", "Notes:", *(f"- {r['model']}: {r['note']}" for r in notes)]
    skipped = [r for r in result["rows"] if "skipped" in r]
    if skipped:
        lines += ["", "Not scored:", *(f"- {r['model']}: {r['skipped']}" for r in skipped)]
    return "\n".join(lines) + "\n"


def run(checkpoints: list[Path], trials: int, seed: int, root: str | Path | None = None, copies: int = 0) -> dict:
    """Score ``checkpoints`` and nearest neighbour on pixels on the same ``trials`` seeded trials."""
    root = root or find_omniglot_root()
    if root is None:
        raise FileNotFoundError("Omniglot not found: set OMNIGLOT_ROOT to the folder holding images_evaluation/")
    dataset = load_dataset(DatasetSpec("omniglot", str(root), split_scheme="lake"))
    planned = plan_trials(dataset, drawer_rows(dataset, root), trials, seed)
    episodes = [trial_episode(dataset, t) for t in planned]
    sizes = {dataset.image_shape[-1]: (dataset, episodes)}

    def trials_at(size: int) -> tuple[ClassDataset, list[Episode]]:
        if size not in sizes:  # another model's size: the same files decoded at it give the same rows
            resized = load_dataset(DatasetSpec("omniglot", str(root), split_scheme="lake", image_size=size))
            if resized.class_names != dataset.class_names or list(resized.class_counts) != list(dataset.class_counts):
                raise ValueError(f"Omniglot at {size} px lists other drawings than at {dataset.image_shape[-1]} px")
            sizes[size] = (resized, [trial_episode(resized, t) for t in planned])
        return sizes[size]

    rows = []
    for path in checkpoints:
        for row in score_checkpoint(path, trials_at, copies):
            rows.append(row)
            print(f"{row['model']}: " + (f"{100 * row['accuracy']:.1f}%" if "accuracy" in row
                  else f"skipped, {row['skipped']}"), flush=True)  # fmt: skip
    rows.append(score(PIXEL_NN, "", pixel_nearest_neighbour_predict, episodes))
    return {"date": datetime.date.today().isoformat(), "trials": trials, "seed": seed, "n_way": N_WAY,
            "split": f"{dataset.split_scheme}, {SPLIT}", "threads": torch.get_num_threads(), "rows": rows}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=400, help="trials (at least 400 for the reported table)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", type=Path, help="score this one checkpoint instead of the shipped ones")
    parser.add_argument("--omniglot", default=None, help="Omniglot folder (default: the usual places)")
    parser.add_argument("--augmentations", type=int, default=0,
                        help="also score each model deciding over the trial and this many distorted copies "
                             "(core.augment: test-time augmentation); default 0")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help=f"results folder (default {RESULTS}; none with "
                        "--checkpoint)")  # fmt: skip
    args = parser.parse_args()
    if args.trials < 1:
        parser.error(f"--trials must be at least 1, got {args.trials}")
    if args.checkpoint is not None:
        if reason := refusal(read_metadata(args.checkpoint)):
            parser.exit(1, f"{args.checkpoint} refused: {reason}\n")
        checkpoints, out = [args.checkpoint], args.out
    else:
        checkpoints, out = sorted(ASSETS.glob("*.json")), args.out or RESULTS
    torch.manual_seed(0)
    start = time.perf_counter()
    result = run(checkpoints, args.trials, args.seed, args.omniglot, args.augmentations)
    command = f"{COMMAND} --trials {args.trials} --seed {args.seed}"
    if args.augmentations:
        command += f" --augmentations {args.augmentations}"
    if args.checkpoint is not None:
        command += f" --checkpoint {args.checkpoint}"
    result |= {"command": command, "seconds": round(time.perf_counter() - start, 1)}
    report = table(result)
    print("\n" + report + f"\nwhole run: {result['seconds']:.0f} s")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "lake_within_alphabet.md").write_text(report)
        (out / "lake_within_alphabet.json").write_text(json.dumps(result, indent=1) + "\n")
    if args.checkpoint is not None and "skipped" in result["rows"][0]:
        parser.exit(1, f"{args.checkpoint} not scored: {result['rows'][0]['skipped']}\n")


if __name__ == "__main__":
    main()

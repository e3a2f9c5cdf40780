"""The one-shot game: a trial at a time, then your score beside every model's on the same trials."""

from __future__ import annotations

import streamlit as st

from app.charts import show_chart
from app.compare_lineup import candidates
from app.datasets import cached_dataset
from core.compare.contenders import baseline_contenders, model_contender
from core.compare.game import HUMAN_ACCURACY_LAKE_2015, PlayerScore, model_score, one_shot_trials, score
from core.datasets import ClassDataset, DatasetSpec, find_omniglot_root
from core.episodes import Episode
from core.figures.compare import game_scores
from core.figures.montage import to_display

GAME = "game_state"
YOU = "you"
COLUMNS = 5
LAKE_N_WAY = 20  # people's 95.5% is for 20-way trials within one alphabet
TEXT = {
    "title": "You and the models on the same {trials} trials",
    "axis": "accuracy (%), error bar: 95% CI",
    "chance": "chance ({chance})",
    "people": "people, Lake et al. (2015), 20-way: {accuracy}",
    "reference": "For reference, people in Lake et al. (2015): {accuracy} on 20-way one-shot trials with every "
                 "character from one alphabet (Omniglot's evaluation alphabets, {errors} errors)",
    "drawn": ", the green line: the task of this game.",
    "not_drawn": "; this game is {n_way}-way{mixed}, another task, so no line is drawn for it.",
    "mixed": " with characters from any alphabet",
    "wide": " With a handful of trials every interval is wide: play more for a tighter one. MAML and the fine-tuned "
            "network normalise with the statistics of the images they are given, here one query at a time.",
}  # fmt: skip


def start(settings: dict) -> None:
    st.session_state[GAME] = {"settings": settings, "answers": [], "scores": None}


def state() -> dict | None:
    return st.session_state.get(GAME)


def _answer(choice: int) -> None:
    st.session_state[GAME]["answers"].append(choice)


def ink_on_paper(images) -> list:
    """Stored strokes are bright on dark; people read characters dark on light."""
    return to_display(255 - images, scale=3)


def game_data(settings: dict) -> tuple[ClassDataset, list[Episode]]:
    """The characters and the seeded trials of a game's ``settings``; ValueError when they cannot be drawn."""
    omniglot_root = find_omniglot_root()
    use_omniglot = settings["source"] == "omniglot" and omniglot_root is not None
    spec = DatasetSpec("omniglot", str(omniglot_root), split_scheme="lake") if use_omniglot else DatasetSpec("glyphs")
    with st.spinner("Loading the characters…"):
        dataset = cached_dataset(spec)
    trials = one_shot_trials(dataset, "evaluation", settings["n_way"], settings["trials"], settings["seed"],
                             settings["within"])  # fmt: skip
    return dataset, trials


def show_trial(trial: Episode, number: int, total: int, preview: bool = False) -> None:
    """The query on top, the n_way support drawings below, a button under each (disabled in a ``preview``)."""
    text = f"Trial {number + 1} of {total}" + (": a preview, press Start to answer" if preview else "")
    st.progress(number / total, text=text)
    left, right = st.columns([1, 3], vertical_alignment="center")
    left.image(ink_on_paper(trial.query_x)[0], caption="this drawing…", width=110)
    right.markdown(f"### …is the same character as which of these {trial.n_way}?\nOne drawing of each; click it.")
    drawings = ink_on_paper(trial.support_x)
    for first in range(0, trial.n_way, COLUMNS):
        columns = st.columns(COLUMNS)
        for offset, column in enumerate(columns[: trial.n_way - first]):
            choice = first + offset
            column.image(drawings[choice], width=84)
            if preview:
                column.button(f"{choice + 1}", key=f"game_preview_{choice}", disabled=True, help="press Start first")
            else:
                column.button(f"{choice + 1}", key=f"game_pick_{number}_{choice}", on_click=_answer, args=(choice,),
                              help="this one")  # fmt: skip


def model_scores(trials: list[Episode], image_shape: tuple[int, ...], source: str) -> list[PlayerScore]:
    """Every shipped model made for ``source`` and both baselines, on exactly the trials the person played."""
    found, _ = candidates(image_shape)
    players = [model_contender(c.label, c.algorithm) for c in found if c.shipped_for == source]
    players += baseline_contenders(image_shape[0], image_shape[1], trials[0].n_way)
    return [model_score(p.name, p.predict, trials) for p in players]


def human_reference(n_way: int, within_alphabet: bool) -> tuple[tuple[float, str] | None, str]:
    """People's accuracy as a line for the chart where this game is Lake's task (else None), and the caption."""
    accuracy = f"{100 * HUMAN_ACCURACY_LAKE_2015:.1f}%"
    text = TEXT["reference"].format(accuracy=accuracy, errors=f"{100 * (1 - HUMAN_ACCURACY_LAKE_2015):.1f}%")
    if n_way == LAKE_N_WAY and within_alphabet:
        return (HUMAN_ACCURACY_LAKE_2015, TEXT["people"].format(accuracy=accuracy)), text + TEXT["drawn"]
    return None, text + TEXT["not_drawn"].format(n_way=n_way, mixed="" if within_alphabet else TEXT["mixed"])


def show_results(you: PlayerScore, models: list[PlayerScore], trials: list[Episode], within_alphabet: bool) -> None:
    """Your accuracy beside the chart of everyone's, then what the lines mean and the trials one by one."""
    scored = [you] + [m for m in models if m.accuracy]
    n_way = trials[0].n_way
    human, reference = human_reference(n_way, within_alphabet)
    metric, chart = st.columns([1, 5])
    metric.metric("Your accuracy", f"{100 * you.accuracy.mean:.0f}%",
                  help=f"{sum(a == int(t.query_y[0]) for a, t in zip(you.answers, trials, strict=True))} of "
                       f"{len(trials)} trials; 95% CI ±{100 * you.accuracy.ci95:.0f} points")  # fmt: skip
    figure = game_scores(scored, n_way, TEXT["title"].format(trials=len(trials)), axis_title=TEXT["axis"],
                         chance_label=TEXT["chance"], human=human)  # fmt: skip
    show_chart(figure, container=chart, key="game_scores")
    st.caption(reference + TEXT["wide"])
    skipped = [m for m in models if m.skipped]
    if skipped:
        st.caption("Could not play: " + "; ".join(f"{m.player} ({m.skipped})" for m in skipped))
    with st.expander("Trial by trial"):
        rows = []
        for index, trial in enumerate(trials):
            truth = int(trial.query_y[0])
            row = {"trial": index + 1, "character": trial.class_names[truth], "answer": truth + 1,
                   "you": _mark(you.answers[index], truth)}  # fmt: skip
            row.update({m.player: _mark(m.answers[index], truth) for m in models if m.accuracy})
            rows.append(row)
        st.dataframe(rows, hide_index=True)


def _mark(answer: int | None, truth: int) -> str:
    return "—" if answer is None else f"{answer + 1} {'✓' if answer == truth else '✗'}"


def your_score(trials: list[Episode]) -> PlayerScore:
    return score(YOU, state()["answers"], trials)

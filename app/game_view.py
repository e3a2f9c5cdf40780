"""The one-shot game: a trial at a time, then your score beside every model's on the same trials."""

from __future__ import annotations

import streamlit as st

from app.charts import show_chart
from app.compare_lineup import candidates
from app.datasets import cached_dataset
from app.i18n import t
from core.compare.contenders import baseline_contenders, model_contender
from core.compare.game import HUMAN_ACCURACY_LAKE_2015, PlayerScore, model_score, one_shot_trials, score
from core.datasets import ClassDataset, DatasetSpec, find_omniglot_root
from core.episodes import Episode
from core.figures.compare import game_scores
from core.figures.montage import png_data_url, to_display

GAME = "game_state"
COLUMNS = 5
LAKE_N_WAY = 20  # people's 95.5% is for 20-way trials within one alphabet


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
    with st.spinner(t("game.loading")):
        dataset = cached_dataset(spec)
    trials = one_shot_trials(dataset, "evaluation", settings["n_way"], settings["trials"], settings["seed"],
                             settings["within"])  # fmt: skip
    return dataset, trials


def show_trial(trial: Episode, number: int, total: int, preview: bool = False) -> None:
    """The query on top, the n_way support drawings below, a button under each (disabled in a ``preview``)."""
    progress = t("game.trial_preview" if preview else "game.trial_progress", number=number + 1, total=total)
    st.progress(number / total, text=progress)
    left, right = st.columns([1, 3], vertical_alignment="center")
    left.image(png_data_url(ink_on_paper(trial.query_x)[0]), caption=t("game.this_drawing"), width=110)
    right.markdown(t("game.question", n_way=trial.n_way))
    drawings = ink_on_paper(trial.support_x)
    for first in range(0, trial.n_way, COLUMNS):
        columns = st.columns(COLUMNS)
        for offset, column in enumerate(columns[: trial.n_way - first]):
            choice = first + offset
            column.image(png_data_url(drawings[choice]), width=84)
            if preview:
                column.button(
                    f"{choice + 1}", key=f"game_preview_{choice}", disabled=True, help=t("game.press_start_first")
                )
            else:
                column.button(f"{choice + 1}", key=f"game_pick_{number}_{choice}", on_click=_answer, args=(choice,),
                              help=t("game.this_one"))  # fmt: skip


def model_scores(trials: list[Episode], image_shape: tuple[int, ...], source: str) -> list[PlayerScore]:
    """Every shipped model made for ``source`` and both baselines, on exactly the trials the person played."""
    found, _ = candidates(image_shape)
    players = [model_contender(c.label, c.algorithm) for c in found if c.shipped_for == source]
    players += baseline_contenders(image_shape[0], image_shape[1], trials[0].n_way)
    return [model_score(p.name, p.predict, trials) for p in players]


def human_reference(n_way: int, within_alphabet: bool) -> tuple[tuple[float, str] | None, str]:
    """People's accuracy as a line for the chart where this game is Lake's task (else None), and the caption."""
    accuracy = f"{100 * HUMAN_ACCURACY_LAKE_2015:.1f}%"
    text = t("game.reference", accuracy=accuracy, errors=f"{100 * (1 - HUMAN_ACCURACY_LAKE_2015):.1f}%")
    if n_way == LAKE_N_WAY and within_alphabet:
        return (HUMAN_ACCURACY_LAKE_2015, t("game.people", accuracy=accuracy)), text + t("game.drawn")
    return None, text + t("game.not_drawn" if within_alphabet else "game.not_drawn_mixed", n_way=n_way)


def show_results(you: PlayerScore, models: list[PlayerScore], trials: list[Episode], within_alphabet: bool) -> None:
    """Your accuracy beside the chart of everyone's, then what the lines mean and the trials one by one."""
    scored = [you] + [m for m in models if m.accuracy]
    n_way = trials[0].n_way
    human, reference = human_reference(n_way, within_alphabet)
    metric, chart = st.columns([1, 5])
    right = sum(answer == int(trial.query_y[0]) for answer, trial in zip(you.answers, trials, strict=True))
    metric.metric(t("game.your_accuracy"), f"{100 * you.accuracy.mean:.0f}%",
                  help=t("game.your_accuracy_help", right=right, total=len(trials),
                         ci=f"{100 * you.accuracy.ci95:.0f}"))  # fmt: skip
    figure = game_scores(scored, n_way, t("game.chart_title", trials=len(trials)), axis_title=t("game.axis"),
                         chance_label=t("game.chance", chance=f"{100 / n_way:.0f}%"), human=human,
                         ci_hover=t("compare_figures.ci_hover"))  # fmt: skip
    show_chart(figure, container=chart, key="game_scores")
    st.caption(reference + t("game.wide"))
    skipped = [m for m in models if m.skipped]
    if skipped:
        st.caption(t("game.could_not_play", players="; ".join(f"{m.player} ({m.skipped})" for m in skipped)))
    with st.expander(t("game.trial_by_trial")):
        rows = []
        for index, trial in enumerate(trials):
            truth = int(trial.query_y[0])
            row = {t("game.column_trial"): index + 1, t("game.column_character"): trial.class_names[truth],
                   t("game.column_answer"): truth + 1, you.player: _mark(you.answers[index], truth)}  # fmt: skip
            row.update({m.player: _mark(m.answers[index], truth) for m in models if m.accuracy})
            rows.append(row)
        st.dataframe(rows, hide_index=True)


def _mark(answer: int | None, truth: int) -> str:
    return "—" if answer is None else f"{answer + 1} {'✓' if answer == truth else '✗'}"


def your_score(trials: list[Episode]) -> PlayerScore:
    return score(t("game.you"), state()["answers"], trials)

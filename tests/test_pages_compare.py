"""AppTest: the Compare page runs every method on the same episodes; the game plays and scores."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.datasets import find_omniglot_root

ROOT = Path(__file__).resolve().parents[1]


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300).run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_compare_runs_models_and_baselines_on_the_same_episodes():
    at = open_page("pages/7_Compare.py")
    lineup = at.multiselect(key="cmp_lineup").value
    assert {"MAML · maml-glyphs", "first-order MAML · fomaml-glyphs", "Prototypical Networks · protonet-glyphs",
            "Relation Networks · relationnet-glyphs", "pre-trained + fine-tuned · finetune-glyphs",
            "nearest neighbour on pixels", "trained from scratch on the support set"} == set(lineup)  # fmt: skip
    at.number_input(key="cmp_episodes").set_value(4).run()
    at.button(key="cmp_run").click().run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    table = at.dataframe[0].value
    assert len(table) == 7 and (table["episodes"] == 4).all()
    assert table["accuracy %"].between(0, 100).all() and (table["ms per episode (median)"] > 0).all()
    assert (table.loc[table["method"] != "nearest neighbour on pixels", "parameters"] > 100_000).all()
    assert any("checked: equal SHA-256" in caption.value for caption in at.caption)
    assert {"Results (CSV)", "Every episode (CSV)"} <= {button.label for button in at.get("download_button")}


def test_a_quick_comparison_stops_after_a_few_seconds_and_says_how_wide_its_intervals_are():
    at = open_page("pages/7_Compare.py")
    at.button(key="cmp_quick").click().run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    table = at.dataframe[0].value
    assert len(table) == 7 and (table["episodes"] >= 3).all() and (table["episodes"] < 100).all()
    assert table["peak MiB (tensors, 1st episode)"].isna().all()  # not measured: it would double the first episode
    note = next(caption.value for caption in at.caption if caption.value.startswith("Quick run:"))
    assert f"{table['episodes'].max()} episodes" in note
    widest = float(re.search(r"up to ±([\d.]+) points", note).group(1))
    assert widest == pytest.approx(table["95% CI ±"].max(), abs=0.06)  # the note rounds to 0.1
    titles = [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]
    assert titles[0] == "Query accuracy with 95% CI"  # the run's own result comes first, the shipped one is gone
    assert not any("shipped" in title for title in titles)


def test_compare_sweeps_n_shot_and_draws_one_curve_per_method():
    at = open_page("pages/7_Compare.py")
    at.multiselect(key="cmp_lineup").set_value(["Prototypical Networks · protonet-glyphs",
                                                "nearest neighbour on pixels"])  # fmt: skip
    at.multiselect(key="cmp_values_n_shot").set_value([1, 3])
    at.number_input(key="cmp_sweep_episodes").set_value(2).run()
    at.button(key="cmp_sweep").click().run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    curves = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    sweep = next(c for c in curves if c["layout"]["title"]["text"].startswith("Accuracy against n_shot"))
    lines = [trace for trace in sweep["data"] if trace.get("mode") == "lines+markers"]
    assert {trace["name"] for trace in lines} == {"Prototypical Networks · protonet-glyphs",
                                                  "nearest neighbour on pixels"}  # fmt: skip
    assert all(trace["x"] == [1, 3] for trace in lines)


def test_compare_says_what_to_change_when_the_episodes_do_not_fit():
    at = open_page("pages/7_Compare.py")
    at.number_input(key="cmp_n_query").set_value(20).run()
    at.button(key="cmp_run").click().run()
    assert not at.exception
    assert any("lower n_shot or n_query" in error.value for error in at.error)


def test_compare_shows_the_paper_models_against_the_papers_and_says_how_to_run_them():
    at = open_page("pages/7_Compare.py")
    assert "Against the papers (Omniglot, Vinyals split)" in [s.value for s in at.subheader]
    papers = at.table[0].value
    assert list(papers["method"]) == ["Prototypical Networks", "MAML", "first-order MAML", "Relation Networks"]
    assert any("class split **vinyals**" in caption.value for caption in at.caption)
    lineup = at.multiselect(key="cmp_lineup")
    assert not any("paper:" in option for option in lineup.options)  # glyphs: the paper models do not fit its task


@pytest.mark.skipif(find_omniglot_root() is None, reason="needs Omniglot (../shared/data/omniglot or $OMNIGLOT_ROOT)")
def test_on_omniglots_vinyals_split_the_lineup_starts_with_the_paper_models_for_the_cell():
    at = open_page("pages/7_Compare.py")
    at.selectbox(key="dataset").set_value("omniglot").run()
    at.selectbox(key="split_scheme").set_value("vinyals").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="split").value == "test"
    lineup = at.multiselect(key="cmp_lineup").value
    assert set(lineup) == {"Prototypical Networks · paper: protonet-60way-1shot", "MAML · paper: maml-5way-1shot",
                           "first-order MAML · paper: fomaml-5way-1shot",
                           "Relation Networks · paper: relationnet-5way-1shot",
                           "nearest neighbour on pixels", "trained from scratch on the support set"}  # fmt: skip
    at.multiselect(key="cmp_lineup").set_value(["MAML · paper: maml-5way-1shot", "nearest neighbour on pixels"])
    at.number_input(key="cmp_episodes").set_value(3).run()
    at.button(key="cmp_run").click().run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    table = at.dataframe[0].value
    assert len(table) == 2 and (table["episodes"] == 3).all()
    notes = " ".join(caption.value for caption in at.caption if caption.value.startswith("Notes"))
    assert "paper: maml-5way-1shot" not in notes  # trained on the Vinyals train classes: no warning on its test split


def play(at: AppTest, answers) -> AppTest:
    for trial, answer in enumerate(answers):
        at.button(key=f"game_pick_{trial}_{answer}").click().run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def game_trials(source: str, n_way: int, trials: int, seed: int):
    from core.compare.game import one_shot_trials
    from core.datasets import DatasetSpec, find_omniglot_root, load_dataset

    spec = DatasetSpec("omniglot", str(find_omniglot_root()), split_scheme="lake") if source == "omniglot" else \
        DatasetSpec("glyphs")  # fmt: skip
    return one_shot_trials(load_dataset(spec), "evaluation", n_way, trials, seed)


def start_game(trials: int) -> AppTest:
    at = open_page("pages/8_You_vs_the_model.py")
    at.radio(key="game_source").set_value("glyphs")
    at.number_input(key="game_trials").set_value(trials).run()
    at.button(key="game_start").click().run()
    return at


def test_a_perfect_game_scores_100_and_the_models_play_the_same_trials():
    at = start_game(3)
    answers = [int(t.query_y[0]) for t in game_trials("glyphs", 5, 3, seed=0)]
    play(at, answers)
    assert at.metric[0].value == "100%"
    review = at.dataframe[0].value
    assert list(review["answer"]) == [a + 1 for a in answers] and all(review["you"].str.endswith("✓"))
    assert "Prototypical Networks · protonet-glyphs" in review.columns
    scores = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "you" in scores["data"][0]["y"]
    lines = [a["text"] for a in scores["layout"]["annotations"] if a.get("name") != "value"]
    assert lines == ["chance (20%)"]  # people's 95.5% is for 20-way trials: said in words, not drawn on a 5-way game
    assert any("people in Lake et al. (2015): 95.5% on 20-way" in caption.value for caption in at.caption)


def test_a_new_game_gives_new_trials_and_twenty_way_leaves_maml_out():
    at = start_game(2)
    first = [b.key for b in at.button if b.key and b.key.startswith("game_pick_0_")]
    at.radio(key="game_n_way").set_value(20).run()
    at.button(key="game_start").click().run()
    picks = [b.key for b in at.button if b.key and b.key.startswith("game_pick_0_")]
    assert len(first) == 5 and len(picks) == 20
    play(at, [0, 0])
    assert any("MAML" in caption.value and "5-way head" in caption.value for caption in at.caption)
    scores = json.loads(at.get("plotly_chart")[0].proto.spec)
    lines = [a["text"] for a in scores["layout"]["annotations"] if a.get("name") != "value"]
    assert lines == ["chance (5%)", "people, Lake et al. (2015), 20-way: 95.5%"]  # Lake's task: drawn


def test_the_guide_rests_on_the_measured_comparison():
    from app.guide import compare_rows

    at = open_page("pages/9_Which_algorithm.py")
    if not compare_rows():
        assert any("python -m benchmarks.compare_shipped" in info.value for info in at.info)
        return
    table = at.dataframe[0].value
    assert {"Prototypical Networks", "MAML", "nearest neighbour on pixels"} <= set(table["method"])
    headers = [header.value for header in at.header]
    assert len(headers) == 6 and headers[0].startswith("1. What is your data like")
    papers = at.table[0].value  # the paper models against the papers, from assets/paper
    assert list(papers["method"]) == ["Prototypical Networks", "MAML", "first-order MAML", "Relation Networks"]
    assert list(papers.columns[1:5]) == ["5-way 1-shot", "5-way 5-shot", "20-way 1-shot", "20-way 5-shot"]
    maml = papers[papers["method"] == "MAML"].iloc[0]
    assert maml["20-way 1-shot"].endswith("(paper 95.8)") and maml["training minutes"] > 0
    links = {link.proto.page for link in at.main.get("page_link")}  # the guide's own, not the sidebar's
    assert {"Compare", "MAML", "Prototypical_Networks", "Your_images"} <= links


def test_compare_shows_the_shipped_result_with_its_date_and_episodes_before_any_run():
    from app.compare_view import SHIPPED_RESULTS

    shipped = json.loads(SHIPPED_RESULTS.read_text())
    rows = [r for r in shipped["rows"] if r["data"] == r["models_trained_on"] == "glyphs" and
            (r["n_way"], r["n_shot"]) == (5, 1)]  # fmt: skip
    at = open_page("pages/7_Compare.py")
    label = next(info.value for info in at.info if "Shipped precomputed result" in info.value)
    assert re.search(r"\d{4}-\d{2}-\d{2}", label) and f"{shipped['episodes']} episodes" in label
    assert "5-way 1-shot" in label
    table = at.dataframe[0].value
    assert set(table["method"]) == {r["method"] for r in rows} and (table["episodes"] == shipped["episodes"]).all()
    best = max(rows, key=lambda r: r["accuracy"] or 0)
    assert table["method"][0] == best["method"] and table["accuracy %"][0] == round(100 * best["accuracy"], 2)
    charts = at.get("plotly_chart")
    titles = [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in charts]
    assert titles[0] == "Query accuracy with 95% CI (shipped result)"  # the page's figure comes first
    for chart in charts:  # in the app's style, which Streamlit's own chart theme would override, and no toolbar
        assert chart.proto.theme == "" and json.loads(chart.proto.config)["displayModeBar"] is False
        assert json.loads(chart.proto.spec)["layout"]["template"]["layout"]["font"]["size"] >= 14
    assert any(t.startswith("Accuracy against time per episode") for t in titles)


def test_compare_shows_the_shipped_result_at_the_chosen_setting_when_it_was_measured():
    at = open_page("pages/7_Compare.py")
    at.number_input(key="cmp_n_way").set_value(20).run()
    at.number_input(key="cmp_n_shot").set_value(5).run()
    assert not at.exception
    assert any("Shipped precomputed result" in i.value and "20-way 5-shot" in i.value for i in at.info)


def test_the_game_shows_its_first_trial_before_start_but_takes_no_answer():
    at = open_page("pages/8_You_vs_the_model.py")
    at.radio(key="game_source").set_value("glyphs").run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.image) == 1 + 5  # the query and one drawing of each of the 5 characters
    previews = [b for b in at.button if b.key and b.key.startswith("game_preview_")]
    assert len(previews) == 5 and all(b.disabled for b in previews)
    assert not any(b.key and b.key.startswith("game_pick_") for b in at.button)
    at.radio(key="game_n_way").set_value(20).run()
    assert len(at.image) == 1 + 20


def test_the_paper_table_counts_the_minutes_a_sitting_trained_not_those_it_asked_for(monkeypatch):
    from app import guide

    cell = {"n_way": 20, "n_shot": 1, "published": 95.8, "test": {"mean": 0.845, "ci95": 0.003}}
    sittings = [{"minutes_asked": 4.5}, {"minutes_asked": 120, "training_minutes": 43.1}]
    record = {"paper": {"row": "MAML", "cells": [cell], "sittings": sittings}}
    monkeypatch.setattr(guide, "paper_records", lambda: (record,))
    [row] = guide.paper_table()
    assert row["training minutes"] == round(4.5 + 43.1) and row["20-way 1-shot"] == "84.5 ± 0.3 (paper 95.8)"

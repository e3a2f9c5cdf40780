"""You vs the model: play one-shot trials, then see your accuracy beside every model's on the same trials."""

import streamlit as st

from app import game_view
from app.errors import explain
from app.i18n import t
from app.page import page_setup
from core.datasets import find_omniglot_root

page_setup(t("nav.game"))
st.title(t("game.title"))
result_area = st.container()  # a finished game's result comes first, above the settings
st.markdown(t("game.intro"))

omniglot_root = find_omniglot_root()
sources = ["omniglot", "glyphs"] if omniglot_root else ["glyphs"]
left, middle, right, last = st.columns(4)
source = left.radio(t("game.characters"), sources, key="game_source", help=t("game.characters_help"),
                    format_func=lambda name: t(f"game.source_{name}"))  # fmt: skip
n_way = middle.radio(t("game.n_way"), [5, 20], horizontal=True, key="game_n_way")
trials_count = right.number_input(t("game.trials"), 1, 50, 10, key="game_trials")
within = last.checkbox(t("game.within"), True, key="game_within", help=t("game.within_help"))
seed = st.session_state.setdefault("game_seed", 0)
if not omniglot_root:
    st.caption(t("game.no_omniglot"))
settings = {"source": source, "n_way": int(n_way), "trials": int(trials_count), "within": within, "seed": seed}

game = game_view.state()
if st.button(
    t("game.new_game") if game else t("game.start"), type="primary", icon=":material/sports_esports:", key="game_start"
):
    st.session_state["game_seed"] = seed + 1 if game else seed
    game_view.start({**settings, "seed": st.session_state["game_seed"]})
    game = game_view.state()
played = game["settings"] if game else settings
try:
    dataset, trials = game_view.game_data(played)
except ValueError as error:
    st.error(t("game.cannot_play", reason=explain(error)))
    st.stop()
if game is None:
    st.info(t("game.preview_info"))
    game_view.show_trial(trials[0], 0, len(trials), preview=True)
    st.stop()
if played != {**settings, "seed": played["seed"]}:
    st.caption(t("game.settings_changed"))

answered = len(game["answers"])
if answered < len(trials):
    game_view.show_trial(trials[answered], answered, len(trials))
    st.stop()
with result_area:
    if game["scores"] is None:
        with st.spinner(t("game.models_play")):
            game["scores"] = game_view.model_scores(trials, tuple(dataset.images.shape[1:]), played["source"])
    game_view.show_results(game_view.your_score(trials), game["scores"], trials, played["within"])

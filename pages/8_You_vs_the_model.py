"""You vs the model: play one-shot trials, then see your accuracy beside every model's on the same trials."""

import streamlit as st

from app import game_view
from app.page import page_setup
from core.datasets import find_omniglot_root

page_setup("You vs the model")
st.title("You vs the model")
result_area = st.container()  # a finished game's result comes first, above the settings
st.markdown(
    "One-shot learning, felt first-hand: you see **one drawing of each character** and a new drawing of one of "
    "them; pick which. Characters come from alphabets no model here was trained on. At the end your accuracy "
    "stands beside every model's on **exactly the same trials**."
)

omniglot_root = find_omniglot_root()
sources = ["omniglot", "glyphs"] if omniglot_root else ["glyphs"]
left, middle, right, last = st.columns(4)
source = left.radio("characters", sources, key="game_source", help="the evaluation alphabets: unseen in training")
n_way = middle.radio("n_way", [5, 20], horizontal=True, key="game_n_way")
trials_count = right.number_input("trials", 1, 50, 10, key="game_trials")
within = last.checkbox("one alphabet per trial", True, key="game_within",
                       help="as in Lake et al.: all candidates from the same alphabet, the harder task")  # fmt: skip
seed = st.session_state.setdefault("game_seed", 0)
if not omniglot_root:
    st.caption("Omniglot not found (set OMNIGLOT_ROOT to add it); playing with generated glyphs.")
settings = {"source": source, "n_way": int(n_way), "trials": int(trials_count), "within": within, "seed": seed}

game = game_view.state()
if st.button("New game" if game else "Start", type="primary", icon=":material/sports_esports:", key="game_start"):
    st.session_state["game_seed"] = seed + 1 if game else seed
    game_view.start({**settings, "seed": st.session_state["game_seed"]})
    game = game_view.state()
played = game["settings"] if game else settings
try:
    dataset, trials = game_view.game_data(played)
except ValueError as error:
    st.error(f"{error}.")
    st.stop()
if game is None:
    st.info("The first trial of these settings: press **Start** to answer it and the rest.")
    game_view.show_trial(trials[0], 0, len(trials), preview=True)
    st.stop()
if played != {**settings, "seed": played["seed"]}:
    st.caption("Settings changed: they apply from the next game.")

answered = len(game["answers"])
if answered < len(trials):
    game_view.show_trial(trials[answered], answered, len(trials))
    st.stop()
with result_area:
    if game["scores"] is None:
        with st.spinner("The models play the same trials…"):
            game["scores"] = game_view.model_scores(trials, tuple(dataset.images.shape[1:]), played["source"])
    game_view.show_results(game_view.your_score(trials), game["scores"], trials, played["within"])

"""Compare: every algorithm and three baselines on the same seeded episodes."""

import time

import streamlit as st

from app import compare_view, guide
from app.charts import show_chart
from app.compare_lineup import contenders, lineup_picker
from app.datasets import dataset_controls, load_or_explain, split_control
from app.errors import explain
from app.i18n import t
from app.page import page_setup
from core.compare.runner import QUICK_MAX_EPISODES, QUICK_SECONDS
from core.datasets.roles import assign_roles
from core.episodes import EpisodeSampler
from core.figures.compare import sweep_curves

page_setup(t("nav.compare"))
st.title(t("compare.title"))
st.caption(t("compare.caption"))

spec = dataset_controls()
loaded = load_or_explain(spec)
if loaded is None:
    st.stop()
dataset, roles = assign_roles(loaded)
split = split_control(dataset)
image_shape = tuple(dataset.images.shape[1:])

run_row = st.container()  # filled below, once the settings it names are known
with st.expander(t("compare.settings"), icon=":material/tune:"):
    columns = st.columns(5)
    n_way = columns[0].number_input(t("compare.n_way"), 2, 60, 5, key="cmp_n_way", bind="query-params")
    n_shot = columns[1].number_input(t("compare.n_shot"), 1, 20, 1, key="cmp_n_shot", bind="query-params")
    n_query = columns[2].number_input(t("compare.n_query"), 1, 20, 5, key="cmp_n_query", bind="query-params")
    episodes = columns[3].number_input(t("compare.episodes"), 1, 2000, 100, key="cmp_episodes",
                                       bind="query-params", help=t("compare.episodes_help"))  # fmt: skip
    seed = columns[4].number_input(t("compare.seed"), 0, 10**6, 0, key="cmp_seed", bind="query-params")
    chosen = lineup_picker("cmp", spec, image_shape, int(n_way), int(n_shot))
if split == roles.train:
    st.warning(t("compare.training_split", split=split, test=roles.test))
quick_column, full_column, summary_column = run_row.columns([0.9, 1.5, 1.6], vertical_alignment="center")
quick = quick_column.button(t("compare.quick", seconds=QUICK_SECONDS), type="primary", icon=":material/bolt:",
                            key="cmp_quick", disabled=not chosen, width="stretch",
                            help=t("compare.quick_help"))  # fmt: skip
full = full_column.button(t("compare.full", episodes=episodes), icon=":material/play_arrow:", key="cmp_run",
                          disabled=not chosen, width="stretch")  # fmt: skip
summary_column.caption(t("compare.summary", dataset=dataset.name, split=split, n_way=n_way, n_shot=n_shot,
                         n_query=n_query, seed=seed, methods=len(chosen)))  # fmt: skip


def sampler(n_way_: int, n_shot_: int) -> EpisodeSampler:
    return EpisodeSampler(dataset, split, int(n_way_), int(n_shot_), int(n_query), seed=int(seed))


if quick or full:
    try:
        episodes_source = sampler(n_way, n_shot)
    except ValueError as error:
        st.error(t("compare.cannot_sample", reason=explain(error)))
        st.stop()
    lineup = contenders("cmp", chosen, dataset.split_scheme, split, image_shape, int(n_way))
    seconds = None if full else QUICK_SECONDS
    started = time.perf_counter()
    results = compare_view.stream_comparison(lineup, episodes_source, int(episodes) if full else
                                             QUICK_MAX_EPISODES, seconds,
                                             (spec.source, int(n_way), int(n_shot)))  # fmt: skip
    ran = max((len(r.per_episode) for r in results), default=0)
    description = t("compare.description", dataset=dataset.name, split=split, n_way=n_way, n_shot=n_shot,
                    n_query=n_query, episodes=ran, seed=seed)  # fmt: skip
    if quick:
        description = f"{compare_view.quick_note(results, time.perf_counter() - started)} {description}"
    st.session_state["cmp_results"] = (results, description, 1 / int(n_way))
if "cmp_results" in st.session_state:
    compare_view.show_results(*st.session_state["cmp_results"], prefix="cmp")
else:
    compare_view.show_shipped(spec.source, int(n_way), int(n_shot), prefix="cmp")

if papers := guide.paper_table():
    st.subheader(t("guide.papers"))
    st.table(papers, hide_index=True)  # a static table wraps its long cells to the page
    st.caption(f"{t('guide.papers_caption')} {t('compare.papers_run')}")

st.header(t("compare.sweep_header"))
left, middle, right = st.columns(3)
axis = left.radio(t("compare.vary"), ["n_shot", "n_way"], horizontal=True, key="cmp_axis")
options = list(range(1, 11)) if axis == "n_shot" else list(range(5, 21))
default_values = [1, 2, 5, 10] if axis == "n_shot" else [5, 10, 15, 20]
values = middle.multiselect(t("compare.values", axis=axis), options, default=default_values, key=f"cmp_values_{axis}")
per_point = right.number_input(t("compare.per_point"), 1, 1000, 20, key="cmp_sweep_episodes")
other = f"n_way = {n_way}" if axis == "n_shot" else f"n_shot = {n_shot}"
st.caption(t("compare.other_setting", other=other))
if st.button(
    t("compare.run_sweep", axis=axis), icon=":material/show_chart:", key="cmp_sweep", disabled=not (chosen and values)
):
    lineup = contenders("cmp", chosen, dataset.split_scheme, split, image_shape, int(n_way))
    try:
        sampler(max(values) if axis == "n_way" else n_way, max(values) if axis == "n_shot" else n_shot)
        points = compare_view.stream_sweep(lineup, sampler, axis, sorted(values), (int(n_way), int(n_shot)),
                                           int(per_point))  # fmt: skip
    except ValueError as error:
        st.error(t("compare.cannot_sample", reason=explain(error)))
        st.stop()
    st.session_state[f"cmp_sweep_{axis}"] = points
for swept in ("n_shot", "n_way"):
    points = st.session_state.get(f"cmp_sweep_{swept}")
    if points:
        show_chart(sweep_curves(points, swept, t("compare.sweep_title", axis=swept, split=split),
                                y_title=t("compare.accuracy")), key=f"cmp_curve_{swept}")  # fmt: skip
        st.download_button(t("compare.sweep_csv", axis=swept), compare_view.to_csv(compare_view.sweep_rows(points)),
                           f"sweep-{swept}.csv", "text/csv", key=f"cmp_sweep_csv_{swept}")  # fmt: skip

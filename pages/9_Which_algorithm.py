"""Which algorithm should I use? A short guide grounded in the Compare measurements."""

import streamlit as st

from app import guide
from app.i18n import t
from app.page import page_setup

page_setup(t("nav.which_algorithm"))
st.title(t("guide.title"))
st.markdown(t("guide.intro", command=guide.COMMAND))

blocks = {(r["data"], r["models_trained_on"]) for r in guide.compare_rows()}
data = "omniglot" if ("omniglot", "omniglot") in blocks else "glyphs"
rows = guide.block(data, data)
if not rows:
    st.info(t("guide.no_measurements", command=guide.COMMAND))
    st.page_link("pages/7_Compare.py", label=t("guide.link_measure_now"), icon=":material/leaderboard:")
    st.stop()

st.subheader(t("guide.measurements", data=data))
st.dataframe(guide.pivot(rows), hide_index=True)
episodes = max(r["episodes"] for r in rows)
st.caption(t("guide.measurements_caption", episodes=episodes))
if papers := guide.paper_table():
    st.subheader(t("guide.papers"))
    st.table(papers, hide_index=True)  # a static table wraps its long cells to the page
    st.caption(t("guide.papers_caption"))

protonet, maml = guide.cell(rows, "Prototypical Networks", 5, 1), guide.cell(rows, "MAML", 5, 1)
finetune = guide.cell(rows, "pre-trained + fine-tuned", 5, 1)
top_1, top_20 = guide.best(rows, 5, 1), guide.best(rows, 20, 5)

st.header(t("guide.q1"))
st.markdown(t("guide.a1", best_1=guide.method_name(top_1["method"]), best_1_percent=guide.percent(top_1),
              best_20=guide.method_name(top_20["method"]) if top_20 else "—",
              best_20_percent=guide.percent(top_20)))  # fmt: skip
st.page_link("pages/6_Your_images.py", label=t("guide.link_your_images"), icon=":material/add_photo_alternate:")

st.header(t("guide.q2"))
cross = guide.block("omniglot", "glyphs")
if cross:
    glyph_best = guide.best(cross, 5, 1)
    st.markdown(t("guide.a2", glyph_protonet=guide.percent(guide.cell(cross, "Prototypical Networks", 5, 1)),
                  protonet=guide.percent(protonet), glyph_best=guide.method_name(glyph_best["method"]),
                  glyph_best_percent=guide.percent(glyph_best)))  # fmt: skip
else:
    st.markdown(t("guide.a2_missing"))

st.header(t("guide.q3"))
ratio = maml["ms_per_episode"] / protonet["ms_per_episode"] if maml and protonet else None
if ratio:
    st.markdown(t("guide.a3", protonet_ms=f"{protonet['ms_per_episode']:.0f}", maml_ms=f"{maml['ms_per_episode']:.0f}",
                  ratio=f"{ratio:.1f}"))  # fmt: skip
else:
    st.markdown(t("guide.a3_missing"))
st.page_link("pages/3_MAML.py", label=t("guide.link_maml"), icon=":material/timeline:")

st.header(t("guide.q4"))
st.markdown(t("guide.a4"))
left, right = st.columns(2)
left.page_link("pages/2_Prototypical_Networks.py", label=t("guide.link_map"), icon=":material/scatter_plot:")
right.page_link("pages/5_Relation_Networks.py", label=t("guide.link_heat_map"), icon=":material/grid_on:")

st.header(t("guide.q5"))
st.markdown(t("guide.a5", finetune=guide.percent(finetune)))

st.header(t("guide.in_one_line"))
st.markdown(t("guide.one_line"))
st.page_link("pages/7_Compare.py", label=t("guide.link_compare"), icon=":material/leaderboard:")

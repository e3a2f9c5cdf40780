"""Which algorithm should I use? A short guide grounded in the Compare measurements."""

import streamlit as st

from app import guide
from app.page import page_setup

page_setup("Which algorithm?")
st.title("Which algorithm should I use?")
st.markdown(
    "Five questions decide it. Each answer below rests on a measurement made with the Compare page's own code "
    f"(`{guide.COMMAND}`, shipped models, the same seeded episodes for every method) and links to the page "
    "where you can see the point for yourself."
)

blocks = {(r["data"], r["models_trained_on"]) for r in guide.compare_rows()}
data = "omniglot" if ("omniglot", "omniglot") in blocks else "glyphs"
rows = guide.block(data, data)
if not rows:
    st.info(f"No measurements yet: run `{guide.COMMAND}` (a few minutes per data set), then reload this page.")
    st.page_link("pages/7_Compare.py", label="Or measure on the Compare page now", icon=":material/leaderboard:")
    st.stop()

st.subheader(f"The measurements ({data}, held-out classes)")
st.dataframe(guide.pivot(rows), hide_index=True)
episodes = max(r["episodes"] for r in rows)
st.caption(f"{episodes} episodes per cell, 15 queries per class, 95% CIs; ms: median time per 5-way 1-shot episode "
           "on a 2-core CPU, adaptation included.")  # fmt: skip

protonet, maml = guide.cell(rows, "Prototypical Networks", 5, 1), guide.cell(rows, "MAML", 5, 1)
finetune = guide.cell(rows, "pre-trained + fine-tuned", 5, 1)
top_1, top_20 = guide.best(rows, 5, 1), guide.best(rows, 20, 5)

st.header("1. What is your data like?")
st.markdown(
    f"On characters like the training ones, the best at 5-way 1-shot was **{top_1['method']}** "
    f"({guide.percent(top_1)}) and at 20-way 5-shot **{top_20['method'] if top_20 else '—'}** "
    f"({guide.percent(top_20)}); the best trained methods are within a few points of each other, far above the "
    "untrained baselines. Train the metric learners (Prototypical or Relation Networks) on classes of the same "
    "kind as your new ones. Photos of everyday objects are another domain altogether: there a frozen ImageNet "
    "backbone with prototypes (the Your images page) is the sensible start."
)
st.page_link("pages/6_Your_images.py", label="Try it on your own images", icon=":material/add_photo_alternate:")

st.header("2. How far are the new tasks from the training tasks?")
cross = guide.block("omniglot", "glyphs")
if cross:
    glyph_protonet = guide.cell(cross, "Prototypical Networks", 5, 1)
    glyph_best = guide.best(cross, 5, 1)
    st.markdown(
        f"Models trained on the generated glyphs and tested on real Omniglot characters: Prototypical Networks "
        f"scored {guide.percent(glyph_protonet)} against {guide.percent(protonet)} when trained on Omniglot itself; "
        f"the best of the glyph-trained line-up was **{glyph_best['method']}** ({guide.percent(glyph_best)}). "
        "The further the tasks drift, the more a plain pre-trained network fine-tuned on the support set "
        "catches up (Chen et al., 2019): always keep that baseline in the comparison."
    )
else:
    st.markdown("Run the benchmark with Omniglot present to measure glyph-trained models on real characters.")

st.header("3. What is your compute budget?")
ratio = maml["ms_per_episode"] / protonet["ms_per_episode"] if maml and protonet else None
st.markdown(
    f"At test time Prototypical Networks need one forward pass ({protonet['ms_per_episode']:.0f} ms per 5-way "
    f"1-shot episode here); MAML takes gradient steps on every new task ({maml['ms_per_episode']:.0f} ms, "
    f"{ratio:.1f}× as long) and second-order meta-training is the costliest of all (see the MAML speed table in "
    "the README). With little compute, or a model that must answer in real time, choose Prototypical Networks."
    if ratio
    else "Prototypical Networks need one forward pass at test time; MAML adapts with gradient steps."
)
st.page_link("pages/3_MAML.py", label="Watch MAML's inner loop adapt, step by step", icon=":material/timeline:")

st.header("4. Must you explain the decision?")
st.markdown(
    "Prototypical Networks give a picture anyone can read: every image as a point, each class as the mean of its "
    "examples, the answer as the nearest mean. Relation Networks show a score for every (query, class) pair. "
    "MAML's decision lives in adapted weights; what you can show is how the loss fell."
)
left, right = st.columns(2)
left.page_link("pages/2_Prototypical_Networks.py", label="Embedding map and distances", icon=":material/scatter_plot:")
right.page_link("pages/5_Relation_Networks.py", label="Relation score heat map", icon=":material/grid_on:")

st.header("5. What does adapting cost when a task arrives?")
st.markdown(
    "Metric learners adapt by averaging or comparing embeddings: any n_way, any n_shot, no training at test. "
    "MAML's head fixes n_way (the shipped models are 5-way only) and each task costs gradient steps. Fine-tuning a "
    f"pre-trained network costs steps too, and its step count and rate matter "
    f"({guide.percent(finetune)} at 5-way 1-shot with the settings chosen on validation classes)."
)

st.header("In one line")
st.markdown(
    "Start with **Prototypical Networks**; add **Relation Networks** when a learned comparison helps; use **MAML** "
    "when tasks need real adaptation (regression, control, changing label sets) and you can pay for it; and "
    "always measure a **pre-trained + fine-tuned** baseline on your own data first."
)
st.page_link("pages/7_Compare.py", label="Measure all of them on your data: Compare", icon=":material/leaderboard:")

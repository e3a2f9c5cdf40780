"""Home: what meta-learning is, its three families, and what each page shows."""

import streamlit as st

from app.page import page_setup

page_setup("Home")
st.title("Meta-Learning Playground")
st.markdown(
    """
**Meta-learning is learning to learn.** An ordinary learner is trained on one task
until it solves it. A meta-learner is trained on *many small tasks* so that it gets
better at learning the next one: given a task it has never seen, with one to five
examples per class, it is ready after a glance instead of after thousands of images.

Two learners are at work. The **base learner** solves one task: it looks at that
task's few labelled examples (the *support set*) and classifies new images (the
*query set*). The **meta-learner** improves how the base learner learns, across
tasks: a good initialisation, a good embedding, a good way to compare. Training is
organised in **episodes** that mimic the test: each episode is an `n_way`-class,
`n_shot`-example task drawn from the training classes, and the model is judged on
classes it never saw.
"""
)

left, right = st.columns(2)
left.markdown(
    """
#### Few-shot learning
The *problem*: learn a new class from a handful of examples. Meta-learning is one
way to solve it; a plain nearest neighbour on pixels is another (a weak one, which
is why the playground always shows it for comparison).
"""
)
right.markdown(
    """
#### Transfer learning
Pre-train on a big data set, then fine-tune on the new one. It transfers *features*;
meta-learning goes further and trains the very act of adapting, on tasks shaped like
the ones to come. The two combine well: many strong few-shot systems start from a
pre-trained backbone.
"""
)

st.header("Three families")
metric, model, optimisation = st.columns(3)
metric.markdown(
    """
#### Metric-based
Learn an embedding in which a simple comparison classifies: the query goes to the
nearest class.
- Siamese Networks (Koch et al., 2015)
- Matching Networks (Vinyals et al., 2016)
- **Prototypical Networks** (Snell et al., 2017)
- **Relation Networks** (Sung et al., 2018)
"""
)
model.markdown(
    """
#### Model-based
A network whose architecture reads the support set and adapts in its activations,
through memory or attention.
- Memory-Augmented Neural Networks (Santoro et al., 2016)
- SNAIL (Mishra et al., 2018)
"""
)
optimisation.markdown(
    """
#### Optimisation-based
Learn how to take gradient steps: an initialisation, learning rates or an optimiser
from which a few steps on the support set suffice.
- **MAML** (Finn et al., 2017) and first-order MAML
- Meta-SGD (Li et al., 2017)
- Reptile (Nichol et al., 2018)
- Learned optimisers (Ravi & Larochelle, 2017; Andrychowicz et al., 2016)
"""
)
st.caption("In bold: the algorithms this playground implements.")

st.header("What each page shows")
st.page_link(
    "pages/1_Episodes.py",
    label="Episodes",
    icon=":material/grid_view:",
    help="Sample N-way K-shot episodes from glyphs, Omniglot or your own folder of images.",
)
st.markdown(
    "Pick a data set (the generated **glyphs**, **Omniglot** when it is on disk, or any "
    "folder of images with one sub-folder per class), a split, `n_way`, `n_shot`, "
    "`n_query` and a seed, and see the support set one row per class and the query set "
    "with its true labels, with statistics of the data set. The settings live in the "
    "URL, so a pasted link reproduces the same episode."
)
st.page_link(
    "pages/2_Prototypical_Networks.py", label="Prototypical Networks", icon=":material/scatter_plot:",
    help="Embeddings, prototypes, distances and probabilities on the current episode.",
)  # fmt: skip
st.markdown(
    "On the same episode, see what Prototypical Networks compute: every image embedded, each class's "
    "**prototype** (the mean of its support embeddings) and the queries in a 2-D map, the distance from each "
    "query to each prototype and the resulting probabilities, with the formulas filled in with this "
    "episode's numbers. Use the shipped model, or train one in the page and watch its curves live."
)

MORE_PAGES = [
    ("pages/3_MAML.py", "MAML", ":material/timeline:",
     "Step MAML's inner loop on an episode (play, pause, one step), the loss per step over many episodes, and the "
     "same adaptation from a random and from a pre-trained start."),
    ("pages/4_MAML_regression.py", "MAML regression", ":material/ssid_chart:",
     "The paper's sinusoids: meta-train in the page in seconds, then fit a new curve from 5 or 10 points."),
    ("pages/5_Relation_Networks.py", "Relation Networks", ":material/grid_on:",
     "A learned comparison: the relation score of every query with every class, beside ProtoNet's distances."),
    ("pages/6_Your_images.py", "Your images", ":material/add_photo_alternate:",
     "Upload, photograph or draw your own classes and have new images classified."),
    ("pages/7_Compare.py", "Compare", ":material/leaderboard:",
     "Every algorithm and three baselines on the same seeded episodes: accuracy with 95% CIs, time, size, memory, "
     "and curves against n_shot and n_way."),
    ("pages/8_You_vs_the_model.py", "You vs the model", ":material/sports_esports:",
     "Play one-shot trials yourself, then see your accuracy beside every model's on the same trials."),
    ("pages/9_Which_algorithm.py", "Which algorithm?", ":material/alt_route:",
     "A short guide to choosing, grounded in measurements."),
    ("pages/10_Learn_meta-learning.py", "Learn: meta-learning", ":material/school:",
     "What it is, where it came from, the three families, and an FAQ."),
    ("pages/11_Learn_algorithms.py", "Learn: algorithms", ":material/functions:",
     "Each algorithm's principle, steps, equations, strengths and weaknesses."),
    ("pages/12_Learn_applications.py", "Learn: applications", ":material/medical_services:",
     "Medical images, robotics, recommendation; libraries, data sets, papers and open problems."),
]  # fmt: skip
for path, label, icon, text in MORE_PAGES:
    st.page_link(path, label=label, icon=icon)
    st.markdown(text)

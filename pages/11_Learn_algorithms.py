"""Learn: each algorithm's principle, steps, equations, strengths and weaknesses, and where to try it."""

import streamlit as st

from app.learn_text import section
from app.page import page_setup

EQUATIONS = {
    "protonet": [
        r"c_k = \frac{1}{|S_k|} \sum_{(x_j, y_j) \in S_k} f_\varphi(x_j)",
        r"p_\varphi(y = k \mid x) = \frac{\exp\big(-d(f_\varphi(x), c_k)\big)}"
        r"{\sum_{k'} \exp\big(-d(f_\varphi(x), c_{k'})\big)}, \qquad d(z, c) = \lVert z - c \rVert^2",
        r"J(\varphi) = -\frac{1}{|Q|} \sum_{(x, y) \in Q} \log p_\varphi(y \mid x)",
    ],
    "relationnet": [
        r"C_k = \sum_{x_j \in S_k} f_\varphi(x_j) \qquad \text{(summed over the } n\_shot \text{ support images)}",
        r"r_{i,k} = g_\phi\big(\mathcal{C}(C_k, f_\varphi(x_i))\big) \in (0, 1)"
        r" \qquad \mathcal{C} = \text{concatenation along the channels}",
        r"\varphi, \phi \leftarrow \arg\min_{\varphi, \phi} \sum_{i \in Q} \sum_{k=1}^{n\_way}"
        r" \big(r_{i,k} - \mathbf{1}(y_i = k)\big)^2",
    ],
    "maml": [
        r"\theta'_i = \theta - \alpha \, \nabla_\theta \mathcal{L}^{\text{support}}_{\mathcal{T}_i}(\theta)",
        r"\theta \leftarrow \theta - \beta \, \nabla_\theta \sum_{\mathcal{T}_i}"
        r" \mathcal{L}^{\text{query}}_{\mathcal{T}_i}(\theta'_i)",
        r"\nabla_\theta \mathcal{L}^{\text{query}}(\theta'_i) = \big(I - \alpha \, \nabla^2_\theta"
        r" \mathcal{L}^{\text{support}}(\theta)\big) \, \nabla_{\theta'} \mathcal{L}^{\text{query}}(\theta'_i)",
    ],
    "maml_variants": [
        r"\text{first order:} \quad \nabla_\theta \mathcal{L}^{\text{query}}(\theta'_i) \approx"
        r" \nabla_{\theta'} \mathcal{L}^{\text{query}}(\theta'_i)",
        r"\text{Meta-SGD:} \quad \theta'_i = \theta - \boldsymbol{\alpha} \odot \nabla_\theta"
        r" \mathcal{L}^{\text{support}}_{\mathcal{T}_i}(\theta), \qquad (\theta, \boldsymbol{\alpha}) \leftarrow"
        r" (\theta, \boldsymbol{\alpha}) - \beta \, \nabla_{(\theta, \boldsymbol{\alpha})} \sum_{\mathcal{T}_i}"
        r" \mathcal{L}^{\text{query}}_{\mathcal{T}_i}(\theta'_i)",
    ],
    "baselines": [
        r"\text{pixels:} \quad \hat{y}(x) = y_{j^*}, \qquad j^* = \arg\min_{j \in S} \lVert x - x_j \rVert_2",
        r"\text{scratch:} \quad \theta_0 \text{ random}, \qquad \theta_{t+1} = \theta_t - \alpha \,"
        r" \nabla_\theta \mathcal{L}^{\text{support}}(\theta_t)",
        r"\text{pre-training:} \quad \varphi^*, W = \arg\min_{\varphi, W} \sum_{(x, y) \in D_{\text{train}}}"
        r" \text{CE}\big(W f_\varphi(x), y\big), \quad \text{then a new head } W' \text{ fitted on } S",
    ],
}


def algorithm(title: str, names: list[str], links: list[tuple[str, str, str]]) -> None:
    """One section: principle and steps with their equations, strengths and weaknesses, where to try it."""
    st.header(title)
    for name in names:
        st.markdown(section(name))
        for equation in EQUATIONS[name]:
            st.latex(equation)
    st.markdown(section(f"{names[0]}_tradeoffs"))
    for page, label, icon in links:
        st.page_link(page, label=label, icon=icon)


page_setup("Learn: algorithms")
st.title("Learn: the algorithms")
st.markdown(section("algorithms_intro"))
st.markdown(
    "To read the code itself, open **The code** at the bottom of each algorithm page: the `core` functions that "
    "computed what the page draws, a Python snippet that redoes its episode, and the command that trains its model."
)
for column, (page, label) in zip(
    st.columns(3),
    [
        ("pages/2_Prototypical_Networks.py", "Try it in code: Prototypical Networks"),
        ("pages/5_Relation_Networks.py", "Try it in code: Relation Networks"),
        ("pages/3_MAML.py", "Try it in code: MAML"),
    ],
    strict=True,
):
    column.page_link(page, label=label, icon=":material/code:")
algorithm("Prototypical Networks", ["protonet"], [
    ("pages/2_Prototypical_Networks.py", "Try it on the Prototypical Networks page: prototypes and distances",
     ":material/scatter_plot:"),
    ("pages/6_Your_images.py", "Try it on Your images: prototypes of your own classes",
     ":material/add_photo_alternate:"),
])  # fmt: skip
algorithm("Relation Networks", ["relationnet"], [
    ("pages/5_Relation_Networks.py", "Try it on the Relation Networks page: relation scores as a heat map",
     ":material/compare_arrows:"),
])  # fmt: skip
algorithm("MAML, first-order MAML and Meta-SGD", ["maml", "maml_variants"], [
    ("pages/3_MAML.py", "Try it on the MAML page: the inner loop step by step, first order, Meta-SGD",
     ":material/model_training:"),
    ("pages/4_MAML_regression.py", "Try it on the MAML regression page: sine waves", ":material/show_chart:"),
])  # fmt: skip
algorithm("Baselines", ["baselines"], [
    ("pages/3_MAML.py", "Try it on the MAML page: the same inner loop from MAML's start, from a random one "
     "(from scratch) and from a pre-trained network", ":material/model_training:"),
    ("pages/7_Compare.py", "Try it on the Compare page: algorithms and baselines on the same episodes",
     ":material/leaderboard:"),
])  # fmt: skip

"""Learn: each algorithm's principle, steps, equations, strengths and weaknesses, and where to try it."""

import streamlit as st

from app.i18n import t
from app.learn_text import section
from app.page import page_setup


def words(name: str) -> str:
    r"""A formula's words in the visitor's language, for ``\text{...}`` (the notation itself never changes)."""
    return t(f"learn.algorithms.formula.{name}")


def equations() -> dict[str, list[str]]:
    return {
        "protonet": [
            r"c_k = \frac{1}{|S_k|} \sum_{(x_j, y_j) \in S_k} f_\varphi(x_j)",
            r"p_\varphi(y = k \mid x) = \frac{\exp\big(-d(f_\varphi(x), c_k)\big)}"
            r"{\sum_{k'} \exp\big(-d(f_\varphi(x), c_{k'})\big)}, \qquad d(z, c) = \lVert z - c \rVert^2",
            r"J(\varphi) = -\frac{1}{|Q|} \sum_{(x, y) \in Q} \log p_\varphi(y \mid x)",
        ],
        "relationnet": [
            r"C_k = \sum_{x_j \in S_k} f_\varphi(x_j) \qquad \text{" + words("summed") + "}",
            r"r_{i,k} = g_\phi\big(\mathcal{C}(C_k, f_\varphi(x_i))\big) \in (0, 1)"
            r" \qquad \mathcal{C} = \text{" + words("concatenation") + "}",
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
            r"\text{" + words("first_order") + r":} \quad \nabla_\theta \mathcal{L}^{\text{query}}(\theta'_i) \approx"
            r" \nabla_{\theta'} \mathcal{L}^{\text{query}}(\theta'_i)",
            r"\text{Meta-SGD:} \quad \theta'_i = \theta - \boldsymbol{\alpha} \odot \nabla_\theta"
            r" \mathcal{L}^{\text{support}}_{\mathcal{T}_i}(\theta), \qquad (\theta, \boldsymbol{\alpha}) \leftarrow"
            r" (\theta, \boldsymbol{\alpha}) - \beta \, \nabla_{(\theta, \boldsymbol{\alpha})} \sum_{\mathcal{T}_i}"
            r" \mathcal{L}^{\text{query}}_{\mathcal{T}_i}(\theta'_i)",
        ],
        "baselines": [
            r"\text{" + words("pixels") + r":} \quad \hat{y}(x) = y_{j^*}, \qquad j^* = \arg\min_{j \in S}"
            r" \lVert x - x_j \rVert_2",
            r"\text{" + words("scratch") + r":} \quad \theta_0 \text{ " + words("random") + r"}, \qquad"
            r" \theta_{t+1} = \theta_t - \alpha \, \nabla_\theta \mathcal{L}^{\text{support}}(\theta_t)",
            r"\text{" + words("pre_training") + r":} \quad \varphi^*, W = \arg\min_{\varphi, W}"
            r" \sum_{(x, y) \in D_{\text{train}}} \text{CE}\big(W f_\varphi(x), y\big), \quad \text{"
            + words("new_head")
            + "}",
        ],
    }


def algorithm(title: str, names: list[str], links: list[tuple[str, str, str]]) -> None:
    """One section: principle and steps with their equations, strengths and weaknesses, where to try it."""
    st.header(title)
    formulas = equations()
    for name in names:
        st.markdown(section(name))
        for equation in formulas[name]:
            st.latex(equation)
    st.markdown(section(f"{names[0]}_tradeoffs"))
    for page, label, icon in links:
        st.page_link(page, label=label, icon=icon)


page_setup(t("learn.algorithms.tab"))
st.title(t("learn.algorithms.title"))
st.markdown(section("algorithms_intro"))
st.markdown(t("learn.algorithms.code_intro"))
for column, (page, label) in zip(
    st.columns(3),
    [
        ("pages/2_Prototypical_Networks.py", t("learn.algorithms.code_protonet")),
        ("pages/5_Relation_Networks.py", t("learn.algorithms.code_relationnet")),
        ("pages/3_MAML.py", t("learn.algorithms.code_maml")),
    ],
    strict=True,
):
    column.page_link(page, label=label, icon=":material/code:")
algorithm(t("nav.protonet"), ["protonet"], [
    ("pages/2_Prototypical_Networks.py", t("learn.algorithms.try_protonet"), ":material/scatter_plot:"),
    ("pages/6_Your_images.py", t("learn.algorithms.try_your_images"), ":material/add_photo_alternate:"),
])  # fmt: skip
algorithm(t("nav.relationnet"), ["relationnet"], [
    ("pages/5_Relation_Networks.py", t("learn.algorithms.try_relationnet"), ":material/compare_arrows:"),
])  # fmt: skip
algorithm(t("learn.algorithms.maml_header"), ["maml", "maml_variants"], [
    ("pages/3_MAML.py", t("learn.algorithms.try_maml"), ":material/model_training:"),
    ("pages/4_MAML_regression.py", t("learn.algorithms.try_sine"), ":material/show_chart:"),
])  # fmt: skip
algorithm(t("learn.algorithms.baselines_header"), ["baselines"], [
    ("pages/3_MAML.py", t("learn.algorithms.try_baselines_maml"), ":material/model_training:"),
    ("pages/7_Compare.py", t("learn.algorithms.try_compare"), ":material/leaderboard:"),
])  # fmt: skip

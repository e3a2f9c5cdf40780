"""Your images: classes you upload, photograph or draw, classified by any of the models."""

import streamlit as st

from app import example_sets, your_images, your_results
from app.draw_live import draw_live
from app.errors import explain
from app.i18n import t
from app.page import page_setup
from app.server_limits import DEFAULT_IMAGE_LIMITS, image_limits
from core.user import check_class_set
from core.user.classify import classify

page_setup(t("nav.your_images"))
st.title(t("your.title"))
st.markdown(t("your.intro"))
mode = st.segmented_control(
    t("your.mode"),
    ["Your classes", "Draw live"],
    default="Your classes",
    key="your_mode",
    format_func=lambda option: t("your.mode_draw" if option == "Draw live" else "your.mode_classes"),
)
# drawings by hand look like Omniglot's characters more than like the generated glyphs; each mode has its own
# picker (its own widget key), so opening Draw live gives the Omniglot model unless the visitor chose one there
if mode == "Draw live":
    picked = your_results.pick_model("draw", "protonet-omniglot")
    draw_live(picked[1] if picked else None)
    st.stop()
your_images.checkpoint_expander("your")
# an unavailable model (ImageNet offline) turns off the predictions only: the classes and queries stay
label, algorithm = your_results.pick_model("your", "protonet-glyphs") or (None, None)

current = your_images.class_set()
example_sets.example_button(empty=not current.classes)
your_images.show_notes()
st.subheader(t("your.classes"))
for index, user_class in enumerate(current.classes):
    your_images.class_editor(index, user_class, current.classes)
your_images.add_class_form(current.classes)
st.subheader(t("your.queries"))
your_images.thumbnails(current.queries, "your_queries")
your_images.image_inputs("your_queries", current.queries, DEFAULT_IMAGE_LIMITS.max_query_images, t("your.the_queries"),
                         your_images.QUERY_BLANK)  # fmt: skip
your_images.save_and_load(current)

if not current.classes:
    st.info(t("your.start"))
    st.stop()
problems = check_class_set(current, image_limits())
if problems:
    for problem in problems:
        st.warning(explain(problem))
    st.stop()
if not current.queries:
    st.info(t("your.add_queries"))
    st.stop()
if algorithm is None:
    st.info(t("your.no_model"))
    st.stop()
st.subheader(t("your.predictions_of", model=label))
try:
    result = classify(current, algorithm)
except ValueError as error:
    st.error(t("your.cannot_classify", reason=explain(error)))
    st.stop()
your_results.show_predictions(result, [item.name for item in current.queries])
your_results.show_model_view(result)
your_results.show_trace(result, algorithm, [item.name for item in current.queries])

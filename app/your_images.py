"""The class set a person builds in the page: adding images from uploads, the camera and a canvas."""

from __future__ import annotations

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app.checkpoint_upload import checkpoint_upload
from app.errors import explain
from app.i18n import t
from app.server_limits import DEFAULT_IMAGE_LIMITS, image_limits, upload_mb
from core.user import (
    ClassSet,
    ClassSetError,
    NamedImage,
    UserClass,
    UserImageError,
    decode_image,
    display_name,
    load_class_set,
    save_class_set,
)
from core.user.wording import short_name

SET_KEY, NOTES_KEY, NONCE_KEY = "your_set", "your_notes", "your_nonce"
SLOT_NOTES_KEY = "your_slot_notes"  # {input slot: [(kind, text)]}: drawn right under the input that caused them
# What a blank picture's warning adds: catalog keys, looked up when the warning is written.
CLASS_BLANK, QUERY_BLANK = "your.class_blank", "your.query_blank"
CANVAS = {"stroke_width": 14, "stroke_color": "#000000", "background_color": "#ffffff", "height": 220,
          "width": 220, "drawing_mode": "freedraw", "return_image_data": True}  # fmt: skip


def counted(count: int, noun: str) -> str:
    """``counted(2, "image")`` -> "2 images" in the visitor's language (``noun``: image, class or query)."""
    return t(f"your.{noun}_{'one' if count == 1 else 'many'}", count=count)


def class_label(index: int, name: str) -> str:
    """A class as a person reads it, numbered from 1: "Class 1 (star)", or "Class 1" without a name."""
    if name.strip():
        return t("your.class_named", number=index + 1, name=name.strip())
    return t("your.class_numbered", number=index + 1)


def _blank_hint(key: str) -> str:
    return t(key, keep_blank=t("your.keep_blank")) if key == CLASS_BLANK else t(key)


def class_set() -> ClassSet:
    """This session's class set (each browser session has its own)."""
    return st.session_state.setdefault(SET_KEY, ClassSet())


def _nonce(slot: str) -> int:
    """A counter per input slot: bumping it gives the uploader a new key, which empties it."""
    return st.session_state.setdefault(NONCE_KEY, {}).get(slot, 0)


def _bump(slot: str) -> None:
    nonces = st.session_state.setdefault(NONCE_KEY, {})
    nonces[slot] = nonces.get(slot, 0) + 1


def _note(text: str, kind: str = "warning", slot: str | None = None) -> None:
    """A message for the next run: under the input ``slot`` that caused it, or at the top with no slot."""
    if slot is None:
        st.session_state.setdefault(NOTES_KEY, []).append((kind, text))
    else:
        st.session_state.setdefault(SLOT_NOTES_KEY, {}).setdefault(slot, []).append((kind, text))


def has_notes(slot: str) -> bool:
    return bool(st.session_state.get(SLOT_NOTES_KEY, {}).get(slot))


def show_notes(slot: str | None = None) -> None:
    """Messages from the last additions, shown once after the rerun that added the images.

    With ``slot``, the messages of that input (drawn right under it, where the visitor is looking);
    without, the page-wide ones (the example set's, drawn beside its button).
    """
    if slot is None:
        notes = st.session_state.pop(NOTES_KEY, [])
    else:
        notes = st.session_state.get(SLOT_NOTES_KEY, {}).pop(slot, [])
    for kind, text in notes:
        getattr(st, kind)(text)


def _add(
    target: list[NamedImage], files: list[tuple[str, bytes]], capacity: int, where: str, blank_hint: str, slot: str
) -> None:
    """Decode and append; each bad file gets its own message and nothing else is lost.

    A blank picture (no ink once decoded) is kept, with a warning naming it and ``blank_hint``.
    """
    added = 0
    for name, data in files:
        if len(target) >= capacity:
            _note(t("your.full", where=where, images=counted(capacity, "image"), name=name), slot=slot)
            break
        try:
            decoded = decode_image(name, data, image_limits())
        except UserImageError as error:
            _note(explain(error), "error", slot)
            continue
        item = NamedImage(name, decoded.image)
        target.append(item)
        added += 1
        if decoded.note:
            _note(explain(decoded.note), "info", slot)
        if item.blank:
            _note(t("your.looks_empty", name=display_name(name), hint=_blank_hint(blank_hint)), slot=slot)
    if added:
        _note(t("your.added", images=counted(added, "image"), where=where), "success", slot)


def image_inputs(slot: str, target: list[NamedImage], capacity: int, where: str, blank_hint: str = CLASS_BLANK) -> None:
    """Upload several files, take a photo or draw: whatever arrives is added to ``target``.

    ``blank_hint`` names what happens to a blank picture here (``CLASS_BLANK``, ``QUERY_BLANK``).
    """
    upload, camera, draw = st.tabs([t("your.upload"), t("your.camera"), t("your.draw_tab")])
    nonce = _nonce(slot)
    files = upload.file_uploader(t("your.images_for", where=where), accept_multiple_files=True,
                                 key=f"{slot}_upload_{nonce}", label_visibility="collapsed",
                                 max_upload_size=upload_mb())  # fmt: skip
    if files:
        _add(target, [(f.name, f.getvalue()) for f in files], capacity, where, blank_hint, slot)
        _bump(slot)
        st.rerun()
    if camera.toggle(t("your.use_camera"), key=f"{slot}_camera_on_{nonce}"):
        photo = camera.camera_input(t("your.photo_for", where=where), key=f"{slot}_camera_{nonce}")
        if photo is not None:
            _add(target, [(f"photo-{len(target) + 1}.jpg", photo.getvalue())], capacity, where, blank_hint,
                 slot)  # fmt: skip
            _bump(slot)
            st.rerun()
    with draw:
        drawing = st_canvas(key=f"{slot}_canvas_{nonce}", **CANVAS)
        if st.button(t("your.add_drawing"), key=f"{slot}_add_drawing_{nonce}", icon=":material/add:"):
            if not drawing.json_data or not drawing.json_data.get("objects"):
                _note(t("your.canvas_empty", where=where), slot=slot)
            else:
                _add(target, [(f"drawing-{len(target) + 1}.png", drawing.image_bytes)], capacity, where,
                     blank_hint, slot)  # fmt: skip
            _bump(slot)
            st.rerun()
    show_notes(slot)


def thumbnails(images: list[NamedImage], slot: str) -> None:
    """The images with a remove button each."""
    if not images:
        st.caption(t("your.no_images"))
        return
    columns = st.columns(8)
    for index, item in enumerate(images):
        column = columns[index % 8]
        column.image(item.image, width=72)
        column.caption(t("your.blank_thumbnail", name=short_name(item.name, 10)) if item.blank else
                       short_name(item.name, 14),
                       help=item.name)  # fmt: skip
        if column.button(
            "", icon=":material/close:", key=f"{slot}_remove_{index}", help=t("your.remove", name=item.name)
        ):
            images.pop(index)
            st.rerun()


def class_editor(index: int, user_class: UserClass, classes: list[UserClass]) -> None:
    title = user_class.name or t("your.unnamed")
    label, images = class_label(index, user_class.name), counted(len(user_class.images), "image")
    blanks = sum(item.blank for item in user_class.images)
    heading = t("your.class_heading", label=label, images=images)
    if blanks:
        key = "your.blanks_used" if user_class.keep_blank else "your.blanks_left_out"
        heading = t(key, label=label, images=images, blanks=blanks)
    # open while its uploader has messages: they are drawn under it, inside the expander
    with st.expander(heading, expanded=not user_class.images or has_notes(f"your_class_{index}")):
        name_col, remove_col = st.columns([4, 1], vertical_alignment="bottom")
        user_class.name = name_col.text_input(
            t("your.name"), user_class.name, key=f"your_class_name_{index}_{id(user_class)}"
        )
        if remove_col.button(t("your.remove_class"), key=f"your_remove_class_{index}", icon=":material/delete:"):
            classes.pop(index)
            st.rerun()
        thumbnails(user_class.images, f"your_class_{index}")
        if blanks:
            user_class.keep_blank = st.checkbox(
                t("your.keep_blank"), user_class.keep_blank, key=f"your_keep_blank_{index}_{id(user_class)}",
                help=t("your.keep_blank_help"),
            )  # fmt: skip
        image_inputs(
            f"your_class_{index}",
            user_class.images,
            DEFAULT_IMAGE_LIMITS.max_images_per_class,
            t("your.class_where", name=title),
        )


def add_class_form(classes: list[UserClass]) -> None:
    with st.form("your_new_class", clear_on_submit=True, border=False):
        name_col, button_col = st.columns([4, 1], vertical_alignment="bottom")
        name = name_col.text_input(t("your.new_class"), placeholder=t("your.new_class_placeholder"))
        if button_col.form_submit_button(t("your.add_class"), icon=":material/add:"):
            if len(classes) >= DEFAULT_IMAGE_LIMITS.max_classes:
                _note(t("your.too_many_classes", limit=DEFAULT_IMAGE_LIMITS.max_classes), slot="classes")
            else:
                classes.append(UserClass(name.strip()))
            st.rerun()
    show_notes("classes")


def save_and_load(current: ClassSet) -> None:
    left, right = st.columns(2)
    if current.classes:
        left.download_button(t("your.save"), data=save_class_set(current), file_name="class-set.zip",
                             mime="application/zip", icon=":material/download:", key="your_save")  # fmt: skip
    upload = right.file_uploader(
        t("your.load"), type=["zip"], key=f"your_load_{_nonce('load')}", max_upload_size=upload_mb()
    )
    if upload is not None:
        try:
            loaded = load_class_set(upload.getvalue(), image_limits())
        except ClassSetError as error:
            _note(t("your.load_failed", file=upload.name, reason=explain(error)), "error", "load")
        else:
            st.session_state[SET_KEY] = loaded
            for note in loaded.notes:
                _note(explain(note), slot="load")
            _note(t("your.loaded", classes=counted(len(loaded.classes), "class"),
                    queries=counted(len(loaded.queries), "query"), file=upload.name), "success", "load")  # fmt: skip
        _bump("load")
        st.rerun()
    with right:
        show_notes("load")


def checkpoint_expander(prefix: str) -> None:
    """The “Upload a checkpoint” expander above the model picker ``prefix`` (``your_results.pick_model``).

    A model uploaded here joins this session's models, which the picker lists.
    """
    with st.expander(t("your.upload_checkpoint")):
        checkpoint_upload(prefix)

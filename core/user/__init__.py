"""People's own pictures as few-shot classes: untrusted bytes to images (``decoding``), ink crops
(``ink``), class sets and their zip files (``class_sets``), and classification (``classify``).

Everything here takes bytes a browser uploaded and must never trust them: sizes are
checked before pixels are decoded, every failure becomes a ``UserImageError`` or
``ClassSetError`` whose message names the file and says what to do, and a bad image in a
saved class set is skipped with a note rather than losing the rest.
"""

from core.user.class_sets import (
    FORMAT_NAME,
    ClassSet,
    NamedImage,
    UserClass,
    check_class_set,
    load_class_set,
    save_class_set,
)
from core.user.decoding import (
    ClassSetError,
    DecodedImage,
    ImageLimits,
    UserImageError,
    decode_image,
    display_name,
    normalise_image,
)
from core.user.ink import crops_to_ink, ink_box, ink_crop, looks_blank, prepare_for_model

__all__ = [
    "FORMAT_NAME",
    "ClassSet",
    "ClassSetError",
    "DecodedImage",
    "ImageLimits",
    "NamedImage",
    "UserClass",
    "UserImageError",
    "check_class_set",
    "crops_to_ink",
    "decode_image",
    "display_name",
    "ink_box",
    "ink_crop",
    "load_class_set",
    "looks_blank",
    "normalise_image",
    "prepare_for_model",
    "save_class_set",
]

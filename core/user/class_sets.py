"""A person's classes and queries, and their zip file: saved deterministically, loaded without trusting it."""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import cached_property

from PIL import Image

from core.errors import Message
from core.user.decoding import ClassSetError, ImageLimits, UserImageError, decode_image, display_name
from core.user.ink import looks_blank
from core.user.wording import class_label, counted

FORMAT_NAME = "meta-learning-playground/class-set"
FORMAT_VERSION = 1
_MEMBER_PATH = re.compile(r"(classes/\d{1,4}|queries)/[A-Za-z0-9][A-Za-z0-9._-]{0,80}\.png")
_STAMP = (1980, 1, 1, 0, 0, 0)  # fixed, so the same class set always gives the same bytes
# a member that fails its CRC, uses an unknown method or needs a password
_ZIP_ERRORS = (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError, zlib.error)


@dataclass
class NamedImage:
    """An image and the file name it came with (shown to people, never used as a path)."""

    name: str
    image: Image.Image

    @cached_property
    def blank(self) -> bool:
        """Whether the picture has (almost) no ink: nothing stands out from its border's colour (``looks_blank``)."""
        return looks_blank(self.image)


@dataclass
class UserClass:
    """A class's name and images; blank images are left out of the support set unless ``keep_blank``."""

    name: str
    images: list[NamedImage] = field(default_factory=list)
    keep_blank: bool = False

    @property
    def support_images(self) -> list[NamedImage]:
        """The images a model is given for this class: the blank ones only when the person asked for them."""
        return list(self.images) if self.keep_blank else [item for item in self.images if not item.blank]


@dataclass
class ClassSet:
    """Classes in order, each with its images, and unlabelled query images.

    A list rather than a name-keyed mapping, so that what a person is halfway through
    typing (two classes both called "cat", two unnamed ones) can be held and reported.
    `notes` says what loading skipped or changed; it is not saved.
    """

    classes: list[UserClass] = field(default_factory=list)
    queries: list[NamedImage] = field(default_factory=list)
    notes: list[Message] = field(default_factory=list)

    @property
    def class_names(self) -> list[str]:
        return [user_class.name for user_class in self.classes]


def check_class_set(class_set: ClassSet, limits: ImageLimits = ImageLimits()) -> list[Message]:
    """Every reason the set cannot be classified yet, each naming the class and what to do; [] when ready."""
    classes, problems = class_set.classes, []
    if not classes:
        problems.append(Message("No classes yet; add at least two.", code="class_set.no_classes"))
    elif len(classes) == 1:
        name = classes[0].name.strip() or Message("unnamed", code="class_set.unnamed")
        problems.append(Message(f"Only one class ({name}); add at least one more to classify.",
                                code="class_set.one_class", name=name))  # fmt: skip
    if len(classes) > limits.max_classes:
        count, limit = len(classes), limits.max_classes
        problems.append(Message(
            f"{counted(count, 'class', 'classes')}, over the limit of {limit}; remove {count - limit}.",
            code="class_set.too_many_classes", count=count, limit=limit, excess=count - limit,
        ))  # fmt: skip
    seen: dict[str, int] = {}
    for number, user_class in enumerate(classes, 1):
        name, key = user_class.name.strip(), user_class.name.strip().casefold()
        label = _class_label(number, name)
        if not name:
            problems.append(Message(f"Class {number} has no name; type a name for it.", code="class_set.no_name",
                                    number=number))  # fmt: skip
        elif key in seen:
            problems.append(Message(
                f"{label} has the same name as class {seen[key]} (names ignore case and spaces at the "
                "ends); rename one of them.", code="class_set.same_name", label=label, other=seen[key],
            ))  # fmt: skip
        else:
            seen[key] = number
        problems += _image_problems(label, user_class, limits)
    if len(class_set.queries) > limits.max_query_images:
        count, limit = len(class_set.queries), limits.max_query_images
        problems.append(Message(
            f"{counted(count, 'query image')}, over the limit of {limit}; remove {count - limit}.",
            code="class_set.too_many_queries", count=count, limit=limit, excess=count - limit,
        ))  # fmt: skip
    return problems


def _class_label(number: int, name: str) -> Message:
    """``class_label`` with what a translation needs: "Class 1 (star)", or "Class 1" without a name."""
    if name:
        return Message(class_label(number - 1, name), code="class_set.class_named", number=number, name=name)
    return Message(class_label(number - 1, name), code="class_set.class_numbered", number=number)


def _image_problems(label: Message, user_class: UserClass, limits: ImageLimits) -> list[Message]:
    count, limit = len(user_class.images), limits.max_images_per_class
    if count == 0:
        return [Message(f"{label} has no images; add at least one picture or remove the class.",
                        code="class_set.no_images", label=label)]  # fmt: skip
    if not user_class.support_images:
        return [Message(
            f"{label} has only blank images (nothing to classify); add a picture with something in it, "
            "or tick “use blank images anyway” in the class.", code="class_set.only_blank", label=label,
        )]  # fmt: skip
    if count > limit:
        return [Message(
            f"{label} has {counted(count, 'image')}, over the limit of {limit} per class; remove {count - limit}.",
            code="class_set.too_many_images", label=label, count=count, limit=limit, excess=count - limit,
        )]  # fmt: skip
    return []


def save_class_set(class_set: ClassSet) -> bytes:
    """A zip: manifest.json (format, version, classes in order with their files, queries) and PNGs."""
    manifest: dict = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "classes": [], "queries": []}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, user_class in enumerate(class_set.classes):
            files = [_write_png(archive, f"classes/{index}", i, item) for i, item in enumerate(user_class.images)]
            manifest["classes"].append({"name": user_class.name, "files": files})
        manifest["queries"] = [_write_png(archive, "queries", i, item) for i, item in enumerate(class_set.queries)]
        text = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
        archive.writestr(zipfile.ZipInfo("manifest.json", _STAMP), text, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _write_png(archive: zipfile.ZipFile, folder: str, index: int, item: NamedImage) -> dict[str, str]:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", display_name(item.name).rsplit(".", 1)[0]).strip("-.")[:60]
    path = f"{folder}/{index:03d}-{stem or 'image'}.png"
    png = io.BytesIO()
    item.image.save(png, "PNG")
    archive.writestr(zipfile.ZipInfo(path, _STAMP), png.getvalue())  # stored: PNG is compressed already
    return {"name": item.name, "path": path}


def load_class_set(data: bytes, limits: ImageLimits = ImageLimits()) -> ClassSet:
    """A zip from `save_class_set` -> the class set; raises `ClassSetError` for anything else.

    A missing, oversized or undecodable image is skipped with a note in `notes` and the
    rest is kept, so one damaged file never loses a whole set.
    """
    archive = _open_zip(data, limits)
    manifest = _read_manifest(archive)
    class_set = ClassSet()
    for entry in manifest["classes"]:
        name = "".join(ch for ch in entry["name"] if ch.isprintable())[:100]
        shown = name.strip() or Message("(unnamed)", code="class_set.unnamed_in_brackets")
        where = Message(f"class {shown}", code="class_set.in_class", name=shown)
        images = [_load_member(archive, item, where, limits, class_set.notes) for item in entry["files"]]
        class_set.classes.append(UserClass(name, [image for image in images if image]))
    in_queries = Message("queries", code="class_set.in_queries")
    queries = [_load_member(archive, item, in_queries, limits, class_set.notes) for item in manifest["queries"]]
    class_set.queries = [image for image in queries if image]
    return class_set


def _open_zip(data: bytes, limits: ImageLimits) -> zipfile.ZipFile:
    limit_mb = limits.max_zip_bytes / 1e6
    if len(data) > limits.max_zip_bytes:
        raise ClassSetError(f"This zip is {len(data) / 1e6:.0f} MB, over the {limit_mb:g} MB limit.",
                            code="class_set.zip_too_large", size_mb=len(data) / 1e6, limit_mb=limit_mb)  # fmt: skip
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise ClassSetError("This file is not a zip; choose a class set saved with this page.",
                            code="class_set.not_a_zip") from error  # fmt: skip
    if len(infos) > limits.max_zip_entries:
        raise ClassSetError(
            f"This zip holds {len(infos)} files, more than a class set can "
            f"({limits.max_zip_entries}); choose a class set saved with this page.",
            code="class_set.too_many_files", count=len(infos), limit=limits.max_zip_entries,
        )  # fmt: skip
    for info in infos:
        parts = info.filename.replace("\\", "/").split("/")
        if info.filename.startswith(("/", "\\")) or ".." in parts or re.match(r"[A-Za-z]:", info.filename):
            raise ClassSetError(
                f"This zip holds a file named {info.filename!r}, which points outside the archive; "
                "it was not opened. Choose a class set saved with this page.",
                code="class_set.unsafe_path", path=info.filename,
            )  # fmt: skip
    # zipfile stops each member at its declared size, so the declared total bounds what can be read
    total = sum(info.file_size for info in infos)
    if total > limits.max_zip_bytes:
        raise ClassSetError(
            f"This zip would unpack to {total / 1e6:.0f} MB, over the {limit_mb:g} MB limit; it was not opened.",
            code="class_set.unpacks_too_large", size_mb=total / 1e6, limit_mb=limit_mb,
        )  # fmt: skip
    return archive


def _read_manifest(archive: zipfile.ZipFile) -> dict:
    not_ours = "choose a zip made with this page's “Save class set”"
    try:
        raw = _read_member(archive, archive.getinfo("manifest.json"), 1_000_000)
    except KeyError:
        raise ClassSetError(f"This zip has no manifest.json, so it is not a saved class set; {not_ours}.",
                            code="class_set.no_manifest") from None  # fmt: skip
    except _ZIP_ERRORS as error:
        raise ClassSetError(f"This zip's manifest.json cannot be unpacked (damaged); {not_ours}.",
                            code="class_set.manifest_damaged") from error  # fmt: skip
    try:
        manifest = json.loads(raw) if raw is not None else None
    except (ValueError, UnicodeDecodeError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ClassSetError(f"This zip's manifest.json is not a class-set manifest; {not_ours}.",
                            code="class_set.not_a_manifest")  # fmt: skip
    version = manifest.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ClassSetError(
            f"This class set has format version {version!r}, newer than this app reads "
            f"({FORMAT_VERSION}); update the app or save the set again.",
            code="class_set.newer_version", version=version, supported=FORMAT_VERSION,
        )  # fmt: skip
    classes, queries = manifest.get("classes"), manifest.get("queries", [])
    valid = isinstance(classes, list) and all(
        isinstance(c, dict) and isinstance(c.get("name"), str) and _valid_files(c.get("files")) for c in classes
    )
    if not valid or not _valid_files(queries):
        raise ClassSetError(
            f"This zip's manifest.json is damaged (classes or files missing or mistyped); {not_ours}.",
            code="class_set.manifest_mistyped",
        )  # fmt: skip
    return manifest


def _valid_files(files: object) -> bool:
    return isinstance(files, list) and all(
        isinstance(f, dict)
        and isinstance(f.get("name"), str)
        and isinstance(f.get("path"), str)
        and _MEMBER_PATH.fullmatch(f["path"])
        for f in files
    )


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """The member's bytes, or None when it unpacks to more than `limit`; never reads past limit + 1."""
    with archive.open(info) as member:
        content = member.read(limit + 1)
    return content if len(content) <= limit else None


def _load_member(
    archive: zipfile.ZipFile, item: dict, where: Message, limits: ImageLimits, notes: list[Message]
) -> NamedImage | None:
    label, skipped = display_name(item["name"]), "Skipped; the rest of the set was loaded."
    try:
        data = _read_member(archive, archive.getinfo(item["path"]), limits.max_file_bytes)
    except KeyError:
        notes.append(Message(f"{where}: {label} is listed in manifest.json but missing from the zip. {skipped}",
                             code="class_set.member_missing", where=where, name=label))  # fmt: skip
        return None
    except _ZIP_ERRORS:
        notes.append(Message(f"{where}: {label} could not be unpacked (damaged or encrypted). {skipped}",
                             code="class_set.member_damaged", where=where, name=label))  # fmt: skip
        return None
    if data is None:
        limit_mb = limits.max_file_bytes / 1e6
        notes.append(Message(f"{where}: {label} unpacks to over {limit_mb:g} MB. {skipped}", where=where,
                             code="class_set.member_too_large", name=label, limit_mb=limit_mb))  # fmt: skip
        return None
    try:
        decoded = decode_image(item["name"], data, limits)
    except UserImageError as error:
        notes.append(Message(f"{where}: {error}. {skipped}", code="class_set.member_unusable", where=where,
                             reason=error))  # fmt: skip
        return None
    if decoded.note:
        notes.append(Message(f"{where}: {decoded.note}", code="class_set.member_note", where=where,
                             note=decoded.note))  # fmt: skip
    return NamedImage(label, decoded.image)

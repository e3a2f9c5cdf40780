"""The data-set controls every page shares, and the cached loader behind them."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import streamlit as st

from app.server_limits import server_limits
from core.datasets import ALL_SPLITS, ClassDataset, DatasetSpec, find_omniglot_root, load_dataset
from core.datasets import omniglot as omniglot_module
from core.datasets.omniglot import DOWNLOAD_HELP, SPLIT_SCHEMES

# Options are shown as their plain names: a URL-bound selectbox writes its label to the URL.
SOURCE_HELP = (
    "glyphs: generated handwritten-like characters, always available. "
    "omniglot: 1623 real handwritten characters (Lake et al.). "
    "folder: any folder with one sub-folder of images per class."
)
SCHEME_HELP = (
    "lake: 30 background / 20 evaluation alphabets. "
    "vinyals: train / val / test characters of Vinyals et al., rotations as extra classes. "
    "seeded: 1200 / 423 characters shuffled with a seed, as in the MAML code."
)
HELD_OUT = ("evaluation", "test")
REPO = Path(__file__).resolve().parents[1]
_DOWNLOAD_LOCK = threading.Lock()  # every browser session shares one server: one download at a time


@st.cache_resource(max_entries=4, show_spinner=False)
def cached_dataset(spec: DatasetSpec) -> ClassDataset:
    """One decoded copy per data set, shared read-only by every browser session."""
    return load_dataset(spec)


def dataset_controls() -> DatasetSpec:
    """Sidebar widgets choosing the data set (bound to the URL); returns its spec."""
    choice_slot = st.sidebar.container()  # drawn first, filled once a download has had its say
    omniglot_root = find_omniglot_root() or omniglot_download()
    folders_allowed = server_limits().folder_paths
    sources = ["glyphs"] + (["omniglot"] if omniglot_root else []) + (["folder"] if folders_allowed else [])
    source = choice_slot.selectbox("Data set", sources, key="dataset", bind="query-params", help=SOURCE_HELP)
    if not folders_allowed:
        st.sidebar.caption("This public demo opens no folders on its server: use Your images to bring your own.")
    if source == "omniglot":
        scheme = st.sidebar.selectbox(
            "Class split", SPLIT_SCHEMES, key="split_scheme", bind="query-params", help=SCHEME_HELP
        )
        return DatasetSpec("omniglot", str(omniglot_root), split_scheme=scheme)
    if source == "folder":
        path = st.sidebar.text_input(
            "Folder path",
            key="folder",
            bind="query-params",
            placeholder="/data/mini-imagenet",
            help="root/<class>/<image>, or root/train|val|test/<class>/<image>",
        )
        return DatasetSpec("folder", path.strip() or None)
    return DatasetSpec("glyphs")


def omniglot_download_folder() -> Path:
    """Where the download goes: $OMNIGLOT_ROOT if set, else ./data/omniglot (both are searched)."""
    return Path(os.environ.get("OMNIGLOT_ROOT") or REPO / "data" / "omniglot").expanduser()


def omniglot_download() -> Path | None:
    """Sidebar offer to fetch Omniglot with torchvision; its folder once fetched, else None.

    On failure (an offline server) the sidebar shows the manual steps instead of a traceback.
    """
    folder = omniglot_download_folder()
    st.sidebar.caption(
        f"Omniglot not found. The button fetches it (two zip files, about 9 MB) into `{folder}`, "
        "or set OMNIGLOT_ROOT to a folder holding images_background/ and images_evaluation/."
    )
    if not st.sidebar.button("Download Omniglot", key="dataset_download_omniglot"):
        return None
    with st.sidebar.status(f"Downloading Omniglot into {folder}…", expanded=True) as status:
        status.write("1. Fetching images_background.zip and images_evaluation.zip with torchvision")
        try:
            with _DOWNLOAD_LOCK:
                # Looked up at call time, so a test can replace the downloader.
                found = omniglot_module.download_omniglot(folder)
        except (OSError, RuntimeError) as error:  # download_omniglot turns every failure into FileNotFoundError
            status.update(label="Omniglot could not be downloaded", state="error")
            reason = error.__cause__ or error
            st.sidebar.error(f"The download failed ({type(reason).__name__}: {reason}). Is this server offline?")
            st.sidebar.info("To add Omniglot by hand: " + DOWNLOAD_HELP)
            return None
        status.write(f"2. Unzipped into {found}")
        status.update(label="Omniglot downloaded", state="complete", expanded=False)
    st.sidebar.success("Omniglot is ready: choose it under Data set.")
    return found


def load_or_explain(spec: DatasetSpec) -> ClassDataset | None:
    """The data set, or None after showing in the page what was wrong and what to do."""
    if spec.source == "folder" and not server_limits().folder_paths:  # a defence behind the missing choice
        st.error("This public demo opens no folders on its server: use Your images to upload your own classes.")
        return None
    if spec.source == "folder" and not spec.root:
        st.info("Type the path of a folder that holds one sub-folder of images per class.")
        return None
    try:
        with st.spinner("Loading the data set (the very first load decodes it once, up to ~20 s)…"):
            return cached_dataset(spec)
    except (OSError, ValueError) as error:
        st.error(f"Could not load the data set: {error}")
        return None


def split_control(dataset: ClassDataset) -> str:
    """Sidebar choice of the split; held-out classes (evaluation / test) by default."""
    options = list(dataset.split_names)
    if len(options) > 1:
        options.append(ALL_SPLITS)
    default = next((s for s in HELD_OUT if s in options), options[0])
    if st.session_state.get("split", default) not in options:  # the data set changed under the widget
        del st.session_state["split"]
    return st.sidebar.selectbox("Split", options, index=options.index(default), key="split", bind="query-params")

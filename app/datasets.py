"""The data-set controls every page shares, and the cached loader behind them."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import streamlit as st

from app.errors import explain
from app.i18n import t
from app.server_limits import server_limits
from core.datasets import ALL_SPLITS, ClassDataset, DatasetSpec, find_omniglot_root, load_dataset
from core.datasets import omniglot as omniglot_module
from core.datasets.omniglot import SPLIT_SCHEMES

# Options are shown as their plain names (in every language): a URL-bound selectbox writes its
# label to the URL. Their help texts are the catalog's datasets.source_help and datasets.scheme_help.
HELD_OUT = ("evaluation", "test")
REPO = Path(__file__).resolve().parents[1]
_DOWNLOAD_LOCK = threading.Lock()  # every browser session shares one server: one download at a time


@st.cache_resource(max_entries=4, show_spinner=False)
def cached_dataset(spec: DatasetSpec) -> ClassDataset:
    """One decoded copy per data set, shared read-only by every browser session."""
    return load_dataset(spec)


def dataset_controls(prefer: str = "glyphs") -> DatasetSpec:
    """Sidebar widgets choosing the data set (bound to the URL); returns its spec.

    ``prefer`` is the first choice when it is on offer (Episodes prefers Omniglot, which a fresh
    clone lacks: then it opens on glyphs).
    """
    choice_slot = st.sidebar.container()  # drawn first, filled once a download has had its say
    omniglot_root = find_omniglot_root() or omniglot_download()
    folders_allowed = server_limits().folder_paths
    sources = ["glyphs"] + (["omniglot"] if omniglot_root else []) + (["folder"] if folders_allowed else [])
    default = sources.index(prefer) if prefer in sources else 0
    source = choice_slot.selectbox(t("datasets.data_set"), sources, index=default, key="dataset",
                                   bind="query-params", help=t("datasets.source_help"))  # fmt: skip
    if not folders_allowed:
        st.sidebar.caption(t("datasets.no_folders_here"))
    if source == "omniglot":
        scheme = st.sidebar.selectbox(
            t("datasets.class_split"),
            SPLIT_SCHEMES,
            key="split_scheme",
            bind="query-params",
            help=t("datasets.scheme_help"),
        )
        return DatasetSpec("omniglot", str(omniglot_root), split_scheme=scheme)
    if source == "folder":
        path = st.sidebar.text_input(
            t("datasets.folder_path"),
            key="folder",
            bind="query-params",
            placeholder=t("datasets.folder_placeholder"),
            help=t("datasets.folder_help"),
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
    st.sidebar.caption(t("datasets.omniglot_missing", folder=folder))
    if not st.sidebar.button(t("datasets.download"), key="dataset_download_omniglot"):
        return None
    with st.sidebar.status(t("datasets.downloading", folder=folder), expanded=True) as status:
        status.write(t("datasets.download_step_fetch"))
        try:
            with _DOWNLOAD_LOCK:
                # Looked up at call time, so a test can replace the downloader.
                found = omniglot_module.download_omniglot(folder)
        except (OSError, RuntimeError) as error:  # download_omniglot turns every failure into FileNotFoundError
            status.update(label=t("datasets.download_failed_label"), state="error")
            reason = error.__cause__ or error
            st.sidebar.error(t("datasets.download_failed", kind=type(reason).__name__, reason=reason))
            st.sidebar.info(t("datasets.download_by_hand"))
            return None
        status.write(t("datasets.download_step_unzipped", folder=found))
        status.update(label=t("datasets.downloaded"), state="complete", expanded=False)
    st.sidebar.success(t("datasets.ready"))
    return found


def load_or_explain(spec: DatasetSpec) -> ClassDataset | None:
    """The data set, or None after showing in the page what was wrong and what to do."""
    if spec.source == "folder" and not server_limits().folder_paths:  # a defence behind the missing choice
        st.error(t("datasets.no_folders"))
        return None
    if spec.source == "folder" and not spec.root:
        st.info(t("datasets.type_a_folder"))
        return None
    try:
        with st.spinner(t("datasets.loading")):
            return cached_dataset(spec)
    except (OSError, ValueError) as error:
        st.error(t("datasets.could_not_load", reason=explain(error)))
        return None


def split_control(dataset: ClassDataset) -> str:
    """Sidebar choice of the split; held-out classes (evaluation / test) by default."""
    options = list(dataset.split_names)
    if len(options) > 1:
        options.append(ALL_SPLITS)
    default = next((s for s in HELD_OUT if s in options), options[0])
    if st.session_state.get("split", default) not in options:  # the data set changed under the widget
        del st.session_state["split"]
    return st.sidebar.selectbox(
        t("datasets.split"), options, index=options.index(default), key="split", bind="query-params"
    )

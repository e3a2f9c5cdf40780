"""The sidebar's device choice: where models trained in the page run."""

from __future__ import annotations

import streamlit as st
import torch

from app.i18n import t
from core.runtime.devices import available_devices, describe_device, resolve_device

CHOICE = "device_choice"  # plain session key (not a widget's): it outlives page switches
WIDGET = "device_widget"


def device_control() -> torch.device:
    """A "Device" selectbox in the sidebar (auto, then what this machine has) and a caption
    naming the device in use; returns it resolved."""
    options = ["auto", *available_devices()]
    remembered = st.session_state.get(CHOICE, "auto")
    # The options' words are looked up now, in this run's language: Streamlit may call format_func after the run.
    shown = {option: t("device.auto") if option == "auto" else option for option in options}
    choice = st.sidebar.selectbox(
        t("device.label"),
        options,
        index=options.index(remembered) if remembered in options else 0,
        key=WIDGET,
        help=t("device.help"),
        format_func=shown.__getitem__,
    )
    st.session_state[CHOICE] = choice
    device = resolve_device(choice)
    st.sidebar.caption(t("device.running_on", device=describe_device(device)))
    return device


def chosen_device() -> torch.device:
    """The device last chosen with ``device_control`` in this session; the CPU when none was."""
    try:
        return resolve_device(st.session_state.get(CHOICE, "cpu"))
    except ValueError:  # chosen on another machine's session, say: fall back rather than fail
        return torch.device("cpu")

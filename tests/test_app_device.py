import torch
from streamlit.testing.v1 import AppTest


def device_page() -> None:
    import streamlit as st

    from app.device import chosen_device, device_control

    if st.session_state.get("with_control", True):
        device_control()
    st.markdown(f"training on {chosen_device()}")


def test_the_sidebar_offers_auto_first_and_says_where_it_runs():
    at = AppTest.from_function(device_page).run()
    box = at.sidebar.selectbox(key="device_widget")
    assert box.label == "Device" and box.options[0] == "auto" and box.options[-1] == "cpu"
    assert at.sidebar.caption[0].value == "Running on cpu"
    box.set_value("cpu").run()
    assert at.markdown[0].value == "training on cpu"


def test_a_gpu_is_offered_and_named_when_there_is_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index: "Pretend GPU")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    at = AppTest.from_function(device_page).run()
    assert at.sidebar.selectbox(key="device_widget").options == ["auto", "cuda", "cpu"]
    assert at.sidebar.caption[0].value == "Running on cuda:0 (Pretend GPU)"


def test_pages_without_the_control_train_on_the_cpu():
    at = AppTest.from_function(device_page)
    at.session_state["with_control"] = False
    at.run()
    assert at.markdown[0].value == "training on cpu"


def test_the_control_reads_chinese_and_keeps_its_values():
    at = AppTest.from_function(device_page)
    at.query_params["lang"] = "zh"
    at.run()
    box = at.sidebar.selectbox(key="device_widget")
    assert box.label == "设备" and box.options[0] == "自动" and box.value == "auto"
    assert at.sidebar.caption[0].value == "当前设备：cpu"

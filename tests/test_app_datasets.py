"""The data-set picker: Omniglot's download (the button, its progress, the offline message) and load errors."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from conftest import open_page

PAGE = "pages/1_Episodes.py"


@pytest.fixture
def no_omniglot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A server without Omniglot whose download folder is an empty ``tmp_path/omniglot``."""
    import app.datasets

    target = tmp_path / "omniglot"
    monkeypatch.setenv("OMNIGLOT_ROOT", str(target))
    monkeypatch.setattr(app.datasets, "find_omniglot_root", lambda: None)
    return target


def _sources(at) -> list[str]:
    return list(at.selectbox(key="dataset").options)


def test_missing_omniglot_offers_a_download_button_saying_where_it_goes(no_omniglot: Path) -> None:
    at = open_page(PAGE)
    assert "omniglot" not in _sources(at)
    assert at.button(key="dataset_download_omniglot").label == "Download Omniglot"
    assert any(str(no_omniglot) in c.value for c in at.sidebar.caption)


def test_download_button_fetches_into_the_folder_and_offers_omniglot(
    no_omniglot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import core.datasets.omniglot

    calls = []

    def fake_download(root: Path) -> Path:
        calls.append(Path(root))
        return Path(root) / "omniglot-py"

    monkeypatch.setattr(core.datasets.omniglot, "download_omniglot", fake_download)
    at = open_page(PAGE)
    at.button(key="dataset_download_omniglot").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert calls == [no_omniglot]
    assert "omniglot" in _sources(at)
    assert any("ready" in s.value for s in at.success)
    assert not at.error


def _online() -> bool:
    try:
        socket.getaddrinfo("github.com", 443)
    except OSError:
        return False
    return True


def test_offline_download_shows_the_manual_steps_not_a_traceback(no_omniglot: Path) -> None:
    if _online():
        pytest.skip("this machine reaches the internet: the real download would succeed")
    at = open_page(PAGE)
    started = time.perf_counter()
    at.button(key="dataset_download_omniglot").click().run()  # the real downloader: this machine is offline
    assert time.perf_counter() - started < 60
    assert not at.exception, [e.value for e in at.exception]
    assert any("download failed" in e.value for e in at.error)
    assert any("https://github.com/brendenlake/omniglot" in i.value and "OMNIGLOT_ROOT" in i.value for i in at.info)
    assert "omniglot" not in _sources(at)


def test_a_folder_that_cannot_load_is_explained_in_the_visitors_language(tmp_path: Path) -> None:
    from PIL import Image

    (tmp_path / "cats").mkdir()
    Image.new("RGB", (20, 20)).save(tmp_path / "cats" / "1.png")
    at = open_page(PAGE, dataset="folder", folder=str(tmp_path), lang="zh")
    expected = f"无法加载数据集：{tmp_path} 中只有一个含图片的类别（cats）；小样本任务至少需要两个类别"
    assert at.error[0].value.startswith(expected), at.error[0].value

"""Helpers for driving the app in Debian's Chromium with Playwright (see ../shared/TESTING.md)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
IDLE = '[data-testid="stApp"][data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]'
SETTLED = (
    '() => !document.querySelector(\'[data-testid="stSkeleton"],[data-testid="stAppSkeleton"],[data-stale="true"]\')'
)
IMAGES = '[data-testid="stImage"] img'
RUN_COUNTER_JS = """(() => { window.__st = {runs: 0, done: 0, finished: 0};
  new MutationObserver(ms => { for (const m of ms) { const s = m.target.getAttribute('data-test-script-state');
    if (s === 'running') window.__st.runs++; else if (s === 'notRunning') window.__st.done++; }})
  .observe(document, {attributes: true, subtree: true, attributeFilter: ['data-test-script-state']});
  // A run that starts and ends between two frames never shows 'running' in the DOM, so also count the
  // server's script_finished messages: field 6 of a ForwardMsg, found by walking its top-level fields.
  const finishes = bytes => { let i = 0;
    const varint = () => { let value = 0, scale = 1, byte;
      do { byte = bytes[i++]; value += (byte & 0x7f) * scale; scale *= 128; } while (byte & 0x80 && i < bytes.length);
      return value; };
    while (i < bytes.length) { const tag = varint(), field = Math.floor(tag / 8), wire = tag % 8;
      if (field === 6) return true;
      if (wire === 0) varint(); else if (wire === 1) i += 8; else if (wire === 5) i += 4;
      else if (wire === 2) { const length = varint(); i += length; } else return false; }
    return false; };
  const count = data => { if (finishes(new Uint8Array(data))) window.__st.finished++; };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native { constructor(...args) { super(...args);
    this.addEventListener('message', e => e.data instanceof Blob ? e.data.arrayBuffer().then(count)
                                          : e.data instanceof ArrayBuffer && count(e.data)); } };
})();"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(app_dir: Path, port: int, timeout: float = 60) -> subprocess.Popen:
    """Start ``streamlit run`` on loopback and wait until its health check answers."""
    command = [
        sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless=true",
        "--server.address=127.0.0.1", f"--server.port={port}", "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none", "--server.runOnSave=false",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=app_dir, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
                if reply.read() == b"ok":
                    return process
        except OSError:
            time.sleep(0.2)
    stop_app(process)
    raise RuntimeError(f"streamlit did not answer on port {port} within {timeout} s")


def stop_app(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def wait_idle(page, timeout_ms: int = 120_000) -> None:
    page.wait_for_selector(IDLE, timeout=timeout_ms)
    page.wait_for_function(SETTLED, timeout=timeout_ms)


def run_finished(page) -> str:
    """A JavaScript condition that turns true once a run that starts after this call has finished."""
    done, finished = page.evaluate("[window.__st.done, window.__st.finished]")
    return f"window.__st.done > {done} || window.__st.finished > {finished}"


def rerun(page, action, timeout_ms: int = 120_000) -> None:
    """Do ``action`` and wait until the run it triggers has finished and settled."""
    finished = run_finished(page)
    action()
    page.wait_for_function(finished, timeout=timeout_ms)
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")  # its deltas drawn
    wait_idle(page, timeout_ms)


def train_in_page(page, app_url: str, path: str, steps_label: str, steps: int, wait: bool = True) -> None:
    """Open an algorithm page, choose "train now", set ``steps_label`` to ``steps`` and press Train;
    with ``wait``, until the run has finished."""
    page.goto(f"{app_url}/{path}")
    wait_idle(page)
    rerun(page, lambda: page.locator('[data-testid="stMain"]').get_by_text("train now", exact=True).click())
    field = page.get_by_label(steps_label)
    field.fill(str(steps))
    rerun(page, lambda: field.press("Enter"))
    train = page.get_by_role("button", name="Train")
    if wait:
        rerun(page, train.click)
    else:
        train.click()


def is_base_path_probe(url: str) -> bool:
    """Opened at /Episodes, Streamlit's frontend first probes /Episodes/_stcore/...: a 404 by design."""
    path = urlparse(url).path
    return path.count("/") > 2 and path.rsplit("/", 2)[-2] == "_stcore"


def save_screenshot(page, name: str) -> None:
    """With $MLP_SCREENSHOTS set, the whole page as a PNG there (the README's pictures come from here)."""
    folder = os.environ.get("MLP_SCREENSHOTS")
    if not folder:
        return
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    page.wait_for_timeout(500)  # charts re-layout to the new size
    page.screenshot(path=str(Path(folder) / name))
    page.set_viewport_size(size)


def loaded_images(page) -> int:
    page.wait_for_function(f"[...document.querySelectorAll('{IMAGES}')].every(i => i.complete)")
    return page.evaluate(f"[...document.querySelectorAll('{IMAGES}')].filter(i => i.naturalWidth > 0).length")


def stroke(page, canvas, points: list[tuple[float, float]]) -> None:
    """Press, move through ``points`` (fractions of the canvas) and release: one pen stroke."""
    canvas.scroll_into_view_if_needed()  # mouse events land only inside the viewport
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + points[0][0] * box["width"], box["y"] + points[0][1] * box["height"])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=6)
    page.mouse.up()

"""The hostile-file matrix: files a visitor might drop on Your images, made here, never stored.

    python -m benchmarks.hostile_files [--out benchmarks/results/hostile_files.md]

Starts the app, opens Your images in Chromium at 1280x800, makes one class and drops each file
on its uploader, one at a time, as a visitor would. For each file it records what the page said
(rejected with a message naming the file, added but called blank, added), the time from the drop
to that message being drawn, and whether any traceback showed. The server's resident memory
(its whole process group) is sampled every 50 ms throughout; the peak goes in the table.
``tests/test_e2e_hostile_files.py`` runs the same matrix as a test (outcomes, not times).
"""

from __future__ import annotations

import argparse
import io
import statistics
import struct
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
DROPZONE = '[data-testid="stFileUploaderDropzoneInput"]'
CLASS_NAME = "hostile"


@dataclass(frozen=True)
class HostileFile:
    name: str
    data: bytes
    what: str
    expect: str  # "rejected": an error naming it; "blank": added, with a warning naming it; "added"


def _symbol(size: int = 112, mode: str = "L") -> Image.Image:
    """A black ring and cross on white: something with ink."""
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    width = max(3, size // 12)
    draw.ellipse((size // 6, size // 6, size * 5 // 6, size * 5 // 6), outline=0, width=width)
    draw.line((size // 4, size // 4, size * 3 // 4, size * 3 // 4), fill=0, width=width)
    return image.convert(mode) if mode != "L" else image


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A valid PNG header that declares ``width`` x ``height`` pixels, with one tiny data chunk."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def hostile_files() -> list[HostileFile]:
    good = _encode(_symbol(), "PNG")
    transparent_symbol = _symbol(mode="RGBA")
    alpha = np.asarray(transparent_symbol).copy()
    alpha[..., 3] = np.where(alpha[..., 0] < 128, 255, 0)  # ink opaque, background transparent
    palette = Image.fromarray(alpha).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    frames = [_symbol(), Image.new("L", (112, 112), 255)]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:])
    rotated = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90°
    _symbol().convert("RGB").save(rotated, format="JPEG", exif=exif)
    return [
        HostileFile("good.png", good, "a drawing, as a control", "added"),
        HostileFile("empty.png", b"", "0 bytes", "rejected"),
        HostileFile("notes.png", b"shopping list: milk, eggs\n" * 20, "text named .png", "rejected"),
        HostileFile("cut.png", good[:80], "a PNG cut after 80 bytes", "rejected"),
        HostileFile("noise.jpg", np.random.default_rng(0).bytes(5000), "random bytes named .jpg", "rejected"),
        HostileFile("setup.png", b"MZ\x90\x00" + bytes(2000), "a Windows program named .png", "rejected"),
        HostileFile("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="9"/></svg>', "SVG", "rejected"),
        HostileFile("bomb.png", _png_claiming(60_000, 60_000), "a PNG declaring 60,000 x 60,000 px", "rejected"),
        HostileFile("dot.png", _encode(Image.new("L", (1, 1), 0), "PNG"), "1 x 1 px", "rejected"),
        HostileFile("white.png", _encode(Image.new("L", (112, 112), 255), "PNG"), "one colour", "blank"),
        HostileFile(
            "clear.png", _encode(Image.new("RGBA", (112, 112), (0, 0, 0, 0)), "PNG"), "fully transparent", "blank"
        ),
        HostileFile(
            "cmyk.jpg", _encode(Image.new("CMYK", (112, 112), (0, 0, 0, 0)), "JPEG"), "a blank CMYK JPEG", "blank"
        ),
        HostileFile("big.png", _encode(_symbol(3000), "PNG"), "a drawing at 3000 x 3000 px", "added"),
        HostileFile("palette.png", _encode(palette, "PNG"), "palette with transparency, ink opaque", "added"),
        HostileFile(
            "deep.png",
            _encode(Image.fromarray(np.asarray(_symbol(), np.uint16) * 257), "PNG"),
            "16-bit greyscale",
            "added",
        ),
        HostileFile("phone.jpg", rotated.getvalue(), "a JPEG with an EXIF rotation", "added"),
        HostileFile("moving.gif", gif.getvalue(), "an animated GIF (its first frame has ink)", "added"),
        HostileFile("photo.webp", _encode(_symbol().convert("RGB"), "WEBP"), "WebP", "added"),
    ]


def _rss_mb(pgid: int) -> float:
    """Resident memory of every process in the server's process group, in MB."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += int(fields[21]) * 4096
        except (OSError, ValueError, IndexError):
            continue
    return total / 1e6


class MemorySampler(threading.Thread):
    def __init__(self, pgid: int, every_s: float = 0.05):
        super().__init__(daemon=True)
        self.pgid, self.every_s, self.peak_mb, self._halt = pgid, every_s, 0.0, threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak_mb = max(self.peak_mb, _rss_mb(self.pgid))
            time.sleep(self.every_s)

    def stop(self) -> float:
        self._halt.set()
        self.join()
        return self.peak_mb


@dataclass(frozen=True)
class Outcome:
    file: HostileFile
    said: str  # "rejected", "blank", "added" or "nothing"
    message: str
    seconds: float
    traceback: bool


def drop_each(page, app_url: str, files: list[HostileFile], folder: Path) -> list[Outcome]:
    """Your images at 1280x800 with one class; each file dropped on its uploader in turn."""
    from st_browser import rerun, wait_idle

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{app_url}/Your_images")
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    page.get_by_label("New class name").fill(CLASS_NAME)
    rerun(page, lambda: page.get_by_role("button", name="Add class").click())
    outcomes = []
    for item in files:
        path = folder / item.name
        path.write_bytes(item.data)
        uploader = main.locator('[class*="st-key-your_class_0_upload_"]')
        key = next(c for c in uploader.get_attribute("class").split() if c.startswith("st-key-your_class_0_upload_"))
        after = f"st-key-your_class_0_upload_{int(key.rsplit('_', 1)[1]) + 1}"  # each drop bumps the uploader's key
        start = time.perf_counter()
        uploader.locator(DROPZONE).set_input_files(str(path))
        page.wait_for_function(
            """(after) => { const box = document.querySelector('[data-testid="stMain"] .' + after);
                 return box && !box.closest('[data-stale="true"]') && [...document.querySelectorAll(
                   '[data-testid="stMain"] [data-testid="stAlert"]')]
                   .some(a => !a.closest('[data-stale="true"]')); }""",
            arg=after,
            timeout=120_000,
        )
        seconds = time.perf_counter() - start
        wait_idle(page)
        alerts = main.locator('[data-testid="stAlert"]').all_inner_texts()
        named = [text for text in alerts if item.name in text]
        if any("looks empty" in text for text in named):
            said = "blank"
        elif any(text.startswith("Added") for text in alerts):
            said = "added"
        else:
            said = "rejected" if named else "nothing"
        traceback = page.locator('[data-testid="stException"]').count() > 0
        outcomes.append(Outcome(item, said, " | ".join(named or alerts), seconds, traceback))
    return outcomes


def table(outcomes: list[Outcome], peak_mb: float, idle_mb: float) -> str:
    lines = [
        "| file | what it is | expected | the page said | as expected | drop to message (s) | traceback |",
        "|---|---|---|---|---|---:|---|",
    ]
    for o in outcomes:
        lines.append(f"| `{o.file.name}` | {o.file.what} | {o.file.expect} | {o.said} | "
                     f"{'yes' if o.said == o.file.expect else '**no**'} | {o.seconds:.2f} | "
                     f"{'**yes**' if o.traceback else 'no'} |")  # fmt: skip
    seconds = [o.seconds for o in outcomes]
    lines += [
        "",
        f"{sum(o.said == o.file.expect for o in outcomes)} of {len(outcomes)} files as expected, "
        f"{sum(o.traceback for o in outcomes)} tracebacks; drop to message: median {statistics.median(seconds):.2f} s, "
        f"max {max(seconds):.2f} s. Server memory (process group RSS): {idle_mb:.0f} MB after the page opened, "
        f"peak {peak_mb:.0f} MB.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "hostile_files.md")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from playwright.sync_api import sync_playwright
    from st_browser import CHROMIUM, CHROMIUM_ARGS, RUN_COUNTER_JS, free_port, start_app, stop_app, wait_idle

    port = free_port()
    server = start_app(ROOT, port)
    sampler = MemorySampler(server.pid)
    sampler.start()
    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory() as folder:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.add_init_script(RUN_COUNTER_JS)
            page.set_default_timeout(120_000)
            page.goto(f"http://127.0.0.1:{port}/Your_images")
            wait_idle(page)
            idle_mb = _rss_mb(server.pid)
            outcomes = drop_each(page, f"http://127.0.0.1:{port}", hostile_files(), Path(folder))
            browser.close()
    finally:
        peak_mb = sampler.stop()
        stop_app(server)
    report = table(outcomes, peak_mb, idle_mb)
    header = (f"# Hostile files in the browser\n\nMade by `python -m benchmarks.hostile_files` on "
              f"{time.strftime('%Y-%m-%d')} (Chromium at 1280x800, one class on Your images, each file dropped "
              "on its uploader in turn).\n\n")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(header + report)
    print(report)


if __name__ == "__main__":
    main()

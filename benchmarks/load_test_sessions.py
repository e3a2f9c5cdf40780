"""The browser sessions of ``benchmarks.load_test``: visitors who sample, classify and switch pages, and a trainer.

Each session is its own Playwright browser context, so its own cookies, websocket and Streamlit
session. Every action is timed from the click (or upload) until what it must show is there, from
a run that has ended: the page idle and settled (tests/st_browser.py's IDLE and SETTLED), its
images loaded. After each action the page is checked for exceptions, error alerts, broken images
and for anything that belongs to another session.

Each action waits for its own outcome (the new page's title and its last element, another
episode's number, the note naming the zip just loaded) rather than for tests/st_browser.py's run
counter, which this load defeats twice: the browser can render a whole short run in one frame, so
the script-state attribute the counter watches never changes; and a page switch can show the app
idle between two runs, with only the top of the new page drawn.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from PIL import Image, ImageDraw
from playwright.async_api import Browser, Page
from playwright.async_api import Error as PlaywrightError

from app.page import APP_NAME
from core.user import ClassSet, NamedImage, UserClass, save_class_set

ROOT = Path(__file__).resolve().parents[1]


def _load_st_browser():
    """tests/st_browser.py: the Chromium settings and selectors the browser tests rely on, shared, not copied."""
    spec = importlib.util.spec_from_file_location("st_browser", ROOT / "tests" / "st_browser.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ST = _load_st_browser()
VIEWPORT = {"width": 1280, "height": 900}
POLL_MS = 50
# page_setup() titles a page "Episodes · Meta-Learning Playground" when its run starts; on a click in the nav,
# before that, Streamlit's frontend titles it "Episodes · Streamlit", so only the whole title tells the run began
APP_TITLE = f" · {APP_NAME}"
# What each page shows last, so it is there only once the page's run is over (see the module's docstring)
PAGE_DONE = {
    "Home": ["What each page shows"],
    "Episodes": ["Data set statistics"],
    "Your images": ["Load a saved class set"],
    "Prototypical Networks": ["Accuracy on this episode's queries"],
}
MAIN = '[data-testid="stMain"]'
NAV_LINK = '[data-testid="stSidebarNavLink"]'
LOAD_DROPZONE = f'{MAIN} [class*="st-key-your_load_"] [data-testid="stFileUploaderDropzoneInput"]'
FRUITS = ("kiwi", "lemon", "plum")
PREDICTIONS = ("Predictions of", "Download the predictions (CSV)")  # the subheader, then what follows the table
TRAINED_MESSAGE = "The model is now selectable as"
# A model trained in the page is named "protonet on glyphs, 29 episodes (1)" and offered as "trained in this
# session" (app.training_panel, app.model_picker): visitors who never train must see neither.
SESSION_MODEL = re.compile(r"\bon [^,\n]{1,80}, \d+ episodes \(\d+\)|trained in this session")

# True once an action's outcome is on screen: the app idle and settled (no stale element left from an earlier
# run), the page's title and the expected texts there (and an episode other than ``episodeNot``), every
# image loaded and every visible chart drawn.
READY_JS = f"""(arg) => {{
  const {{title, texts, episodeNot}} = arg || {{}};
  if (!document.querySelector({ST.IDLE!r}) || !({ST.SETTLED})()) return false;
  if (title && document.title !== title + {APP_TITLE!r}) return false;
  const text = document.body.textContent;
  if (texts && !texts.every(t => text.includes(t))) return false;
  if (episodeNot != null) {{  // another episode, and the same one in the caption and in the URL
    const shown = text.match(/Episode (\\d+) of seed/);
    const linked = new URLSearchParams(location.search).get('episode');
    if (!shown || shown[1] === String(episodeNot) || shown[1] !== linked) return false;
  }}
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
  if (!charts.every(c => c.offsetParent === null || c.querySelector('.main-svg'))) return false;
  return [...document.querySelectorAll('{MAIN} img')].every(i => i.complete);
}}"""
# What the page shows after an action: its text, Streamlit exceptions, error alerts, broken and media images.
PAGE_STATE_JS = f"""() => {{
  const texts = sel => [...document.querySelectorAll(sel)].map(e => e.innerText.slice(0, 400));
  const images = [...document.querySelectorAll('{MAIN} img')];
  return {{
    text: document.body.textContent,
    exceptions: texts('[data-testid="stException"]'),
    alerts: texts('[data-testid="stAlertContentError"]'),
    broken: images.filter(i => i.complete && i.naturalWidth === 0).map(i => i.src),
    media: images.map(i => new URL(i.src).pathname).filter(p => p.startsWith('/media/')),
  }};
}}"""

DESCRIBE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return {url: location.pathname + location.search, title: document.title,
          connection: app?.getAttribute('data-test-connection-state'),
          script: app?.getAttribute('data-test-script-state'),
          skeletons: document.querySelectorAll('[data-testid="stSkeleton"],[data-testid="stAppSkeleton"]').length,
          stale: document.querySelectorAll('[data-stale="true"]').length,
          episode: document.body.textContent.match(/Episode \\d+ of seed/g),
          images_loading: [...document.querySelectorAll('[data-testid="stMain"] img')].filter(i => !i.complete).length};
}"""


@dataclass
class Recorder:
    """Everything the sessions measure and find, shared by all of them."""

    phase: str = "warm-up"
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    leaks: list[dict] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)
    note_examples: dict[str, list[str]] = field(default_factory=dict)
    isolation_checks: int = 0
    started: float = field(default_factory=time.monotonic)

    def latency(self, action: str, seconds: float) -> None:
        key = action if self.phase == "load" else f"{self.phase}: {action}"
        self.latencies.setdefault(key, []).append(seconds)

    def error(self, session: str, action: str, kind: str, detail: str) -> None:
        """An error; the same one again (a browser retrying a dead server) only counts it once more."""
        detail = detail[:600]
        for known in self.errors:
            if (known["session"], known["kind"], known["detail"]) == (session, kind, detail):
                known["count"] += 1
                return
        self.errors.append({"at_s": self._now(), "phase": self.phase, "session": session, "action": action,
                            "kind": kind, "detail": detail, "count": 1})  # fmt: skip

    def leak(self, session: str, action: str, what: str) -> None:
        self.leaks.append({"at_s": self._now(), "session": session, "action": action, "saw": what})

    def note(self, kind: str, example: str = "") -> None:
        """Something odd that is not an error: counted, with the first few examples kept."""
        self.notes[kind] = self.notes.get(kind, 0) + 1
        examples = self.note_examples.setdefault(kind, [])
        if example and len(examples) < 5:
            examples.append(f"{self._now()} s: {example}")

    def _now(self) -> float:
        return round(time.monotonic() - self.started, 1)


@dataclass(frozen=True)
class OwnData:
    """A visitor's class set as a saved zip, and the names only that visitor may ever see."""

    prefix: str
    zip_bytes: bytes
    marks: tuple[str, ...]


def make_class_set(prefix: str, seed: int) -> OwnData:
    """Three classes of three drawings and three queries, all named ``prefix-…`` and drawn only for this session."""
    rng = random.Random(seed)

    def drawing(strokes: list[list[int]]) -> Image.Image:
        image = Image.new("L", (64, 64), "white")
        draw = ImageDraw.Draw(image)
        for stroke in strokes:
            draw.line([v + rng.randint(-3, 3) for v in stroke], fill="black", width=5)
        return image

    shapes = [[[rng.randint(6, 58) for _ in range(6)] for _ in range(3)] for _ in FRUITS]
    classes = [UserClass(f"{prefix}-{fruit}", [NamedImage(f"{prefix}-{fruit}-{i}.png", drawing(shape))
                                               for i in range(3)])
               for fruit, shape in zip(FRUITS, shapes)]  # fmt: skip
    queries = [NamedImage(f"{prefix}-q{k}.png", drawing(shape)) for k, shape in enumerate(shapes)]
    marks = tuple([c.name for c in classes] + [q.name for q in queries])
    return OwnData(prefix, save_class_set(ClassSet(classes, queries)), marks)


def is_base_path_probe(url: str) -> bool:
    """Opened at /Episodes, Streamlit's frontend first probes /Episodes/_stcore/...: a 404 by design."""
    path = urlparse(url).path
    return path.count("/") > 2 and path.rsplit("/", 2)[-2] == "_stcore"


class Session:
    """One browser context = one Streamlit session; timed actions, and checks after each."""

    may_see_session_models = False

    def __init__(self, name: str, browser: Browser, base_url: str, recorder: Recorder, timeout_s: float) -> None:
        self.name, self.browser, self.base_url, self.recorder = name, browser, base_url, recorder
        self.timeout_ms = timeout_s * 1000
        self.foreign: list[str] = []  # other sessions' names: seeing one is a leak
        self.media: set[str] = set()  # /media/ paths of the images shown on "Your images"
        self.action = "open"
        self.closing = False
        self._state_text = ""  # the page's text at the last check
        self.context = self.page = None

    async def open(self, label: str) -> bool:
        """A new browser context at the page called ``label`` in the nav: a new Streamlit session."""
        self.context = await self.browser.new_context(viewport=VIEWPORT)
        self.page = await self.context.new_page()
        self._watch(self.page)
        path = "/" if label == "Home" else "/" + label.replace(" ", "_")
        return await self.timed("first_load", lambda: self.page.goto(self.base_url + path), page=label)

    async def close(self) -> None:
        self.closing = True
        if self.context is not None:
            await self.context.close()

    async def timed(
        self, action: str, do: Callable[[], Awaitable], *, page: str | None = None, texts: list[str] | None = None,
        episode_not: int | None = None,
    ) -> bool:  # fmt: skip
        """Do ``do`` and wait until ``page`` (a nav label) is done and shows ``texts``; records the latency or an
        error, then checks the page."""
        self.action = action
        texts = PAGE_DONE.get(page, []) + (texts or [])
        expected = {"title": page, "texts": texts, "episodeNot": episode_not}
        try:
            start = time.perf_counter()
            await do()
            await self.page.wait_for_function(READY_JS, arg=expected, polling=POLL_MS, timeout=self.timeout_ms)
        except PlaywrightError as error:  # a timeout is one
            where = await self._describe()
            self.recorder.error(self.name, action, "action failed", f"{error}; expected {expected}; {where}")
            return False
        self.recorder.latency(action, time.perf_counter() - start)
        return await self.check(action)

    async def check(self, action: str) -> bool:
        """No exception, error alert or broken image, and nothing of another session's; False if any."""
        state = await self.page.evaluate(PAGE_STATE_JS)
        found = [("exception", e) for e in state["exceptions"]] + [("st.error", a) for a in state["alerts"]]
        found += [("broken image", src) for src in state["broken"]]
        for kind, detail in found:
            self.recorder.error(self.name, action, kind, detail)
        self.recorder.isolation_checks += 1
        seen = [mark for mark in self.foreign if mark in state["text"]]
        if not self.may_see_session_models:
            seen += [match.group(0) for match in SESSION_MODEL.finditer(state["text"])]
        for mark in seen:
            self.recorder.leak(self.name, action, mark)
        if urlparse(self.page.url).path.endswith("/Your_images"):
            self.media.update(state["media"])
        self._state_text = state["text"]
        return not found and not seen

    async def _describe(self) -> str:
        """Where the page is, for an error message: its URL, title and the app's state."""
        try:
            return "page: " + json.dumps(await self.page.evaluate(DESCRIBE_JS), ensure_ascii=False)
        except PlaywrightError as error:
            return f"page state unreadable ({error})"

    async def switch(self, label: str) -> bool:
        """Click the page's link in the sidebar (one session throughout; a URL typed in would start a new one)."""
        link = self.page.locator(NAV_LINK, has_text=label)
        return await self.timed("switch_page", link.click, page=label, texts=self.page_texts(label))

    def page_texts(self, label: str) -> list[str]:
        """What a page shows in this session besides its usual last element."""
        return []

    def _watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.recorder.error(self.name, self.action, "page error", str(error)))
        page.on("crash", lambda _: self.recorder.error(self.name, self.action, "page crashed", ""))
        page.on("console", self._on_console)
        page.on("websocket", self._on_websocket)
        page.on("request", self._on_request)

    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        if is_base_path_probe(url):
            return
        if "/media/" in url + message.text and ("404" in message.text or "Image source error" in message.text):
            # an image of the page being left, fetched after the server dropped it (Streamlit removes a run's
            # old media when the run ends); the settled page is checked for broken images, so this is counted
            self.recorder.note("stale image 404 while a page was being replaced", f"{self.name}: {message.text}")
            return
        self.recorder.error(self.name, self.action, "console error", f"{message.text} ({url})")

    def _on_websocket(self, websocket) -> None:
        def closed(_=None) -> None:
            if not self.closing:
                self.recorder.error(self.name, self.action, "websocket disconnected", websocket.url)

        websocket.on("close", closed)
        websocket.on("socketerror", lambda error: self.recorder.error(self.name, self.action, "websocket error",
                                                                      str(error)))  # fmt: skip

    def _on_request(self, request) -> None:
        host = urlparse(request.url).hostname
        if request.url.startswith(("http", "ws")) and host not in ("127.0.0.1", "localhost"):
            self.recorder.error(self.name, self.action, "request off loopback", request.url)


class Visitor(Session):
    """Samples episodes, loads and classifies its own class set, and switches pages, round after round."""

    def __init__(self, own: OwnData, *args, **kwargs) -> None:
        super().__init__(own.prefix, *args, **kwargs)
        self.own = own
        self.loaded = False  # whether its class set is loaded, so "Your images" classifies it on every run

    def page_texts(self, label: str) -> list[str]:
        return list(PREDICTIONS) if label == "Your images" and self.loaded else []

    async def rounds(self, count: int) -> bool:
        """Episodes → New episode → Your images → upload and classify → Prototypical Networks, ``count`` times."""
        if not await self.open("Episodes"):
            return False
        for number in range(count):
            steps = [
                self.back_to_episodes if number else None,
                self.new_episode,
                lambda: self.switch("Your images"),
                lambda n=number: self.classify_upload(n),
                lambda: self.switch("Prototypical Networks"),
            ]
            for step in steps:
                if step is not None and not await step():
                    return False  # the page may be in any state now: stop rather than pile up timeouts
        return True

    async def back_to_episodes(self) -> bool:
        """Switch to Episodes; the session's episode should still be the one it drew last."""
        drawn = _episode_shown(self._state_text)  # Prototypical Networks shows the same episode
        if not await self.switch("Episodes"):
            return False
        shown = _episode_shown(self._state_text)
        if shown != drawn:
            self.recorder.note("Episodes showed another episode than the session's after a page switch",
                               f"{self.name}: {drawn} → {shown}")  # fmt: skip
        return True

    async def new_episode(self) -> bool:
        """Click "New episode": another episode must show, the same in the caption and the URL."""
        before = _episode_shown(self._state_text)
        if before is None:
            self.recorder.error(self.name, "new_episode", "no episode shown before the click", self._state_text[:300])
            return False
        button = self.page.get_by_role("button", name="New episode")
        if not await self.timed("new_episode", button.click, page="Episodes", episode_not=before):
            return False
        after = _episode_shown(self._state_text)
        if after != before + 1:
            self.recorder.note(
                "New episode showed another number than the next one", f"{self.name}: {before} → {after}"
            )
        return True

    async def classify_upload(self, number: int) -> bool:
        """Load this visitor's class-set zip (named for the round) on "Your images" until its predictions show."""
        file_name = f"{self.own.prefix}-r{number}.zip"
        payload = {"name": file_name, "mimeType": "application/zip", "buffer": self.own.zip_bytes}
        dropzone = self.page.locator(LOAD_DROPZONE)
        loaded = f"{len(FRUITS)} classes and {len(FRUITS)} queries from {file_name}."
        if not await self.timed("classify_upload", lambda: dropzone.set_input_files(payload), page="Your images",
                                texts=[loaded, *PREDICTIONS]):  # fmt: skip
            return False
        self.loaded = True
        missing = [mark for mark in self.own.marks if mark not in self._state_text]
        if missing:
            self.recorder.error(self.name, "classify_upload", "own class set not shown", ", ".join(missing))
        return not missing

    async def model_options(self) -> list[str]:
        """The choices of the "Model" select box on "Your images" (every model this session may use)."""
        self.action = "read model options"
        await self.page.locator(f'{MAIN} [data-testid="stSelectbox"]').first.click()
        options = self.page.get_by_role("option")
        await options.first.wait_for(timeout=self.timeout_ms)
        texts = await options.all_inner_texts()
        await self.page.keyboard.press("Escape")
        return texts

    async def check_cannot_see_model(self, model_name: str) -> bool:
        """After the trainer's run: its model is neither offered on "Your images" nor on Prototypical Networks."""
        self.foreign.append(model_name)
        if not await self.switch("Your images"):
            return False
        options = await self.model_options()
        if not options:
            self.recorder.error(self.name, "read model options", "no model options", "")
        self.recorder.isolation_checks += 1
        for option in options:
            if model_name in option or SESSION_MODEL.search(option):
                self.recorder.leak(self.name, "read model options", option)
        return await self.switch("Prototypical Networks")  # its model source radio is checked by check()


def _episode_shown(text: str) -> int | None:
    shown = re.search(r"Episode (\d+) of seed", text)
    return int(shown[1]) if shown else None


@dataclass
class TrainingResult:
    """How the trainer's run ended, as its page said."""

    model_name: str | None = None
    episodes_asked: int | None = None  # --train-episodes, or less where the page's input allows less
    episodes: int | None = None
    seconds: float | None = None
    how_it_ended: str | None = None
    selectable: bool = False
    wall_s: float | None = None


class Trainer(Session):
    """Trains Prototypical Networks in the page while the visitors work, then checks the model is its to use."""

    may_see_session_models = True

    async def train(self, episodes: int, stop_when: asyncio.Event | None, deadline: float) -> TrainingResult:
        """Train for ``episodes``; with ``stop_when``, click Stop once it is set, if training is still going."""
        result = TrainingResult()
        if not await self.open("Prototypical Networks"):
            return result
        page = self.page
        train_now = page.locator(MAIN).get_by_text("train now", exact=True)
        if not await self.timed("trainer: choose train now", train_now.click, texts=["training episodes"]):
            return result
        box = page.get_by_label("training episodes")
        episodes = result.episodes_asked = min(episodes, int(await box.get_attribute("max") or episodes))
        self.action = "start training"
        try:
            await box.fill(str(episodes))
            await box.press("Enter")
            await page.wait_for_function(READY_JS, polling=POLL_MS, timeout=self.timeout_ms)
            started = time.monotonic()
            await page.get_by_role("button", name="Train").click()
            progress = "document.querySelector('[data-testid=\"stProgress\"]')?.innerText || ''"
            # the progress bar counts to the episodes asked for: the typed value was taken
            await page.wait_for_function(f"/episode \\d+ of {episodes}\\b/.test({progress})", polling=500,
                                         timeout=self.timeout_ms)  # fmt: skip
        except PlaywrightError as error:
            where = await self._describe()
            self.recorder.error(self.name, self.action, "training did not start", f"{error}; {where}")
            return result
        self.action = "training"
        ended = asyncio.ensure_future(page.wait_for_function(  # the model is kept, or the page shows an exception
            f"document.body.textContent.includes({TRAINED_MESSAGE!r}) || "
            "document.querySelector('[data-testid=\"stException\"]')", polling=500,
            timeout=max(1.0, deadline - time.monotonic()) * 1000))  # fmt: skip
        told_to_stop = asyncio.ensure_future(stop_when.wait() if stop_when else asyncio.Future())
        try:
            await asyncio.wait({ended, told_to_stop}, return_when=asyncio.FIRST_COMPLETED)
            if not ended.done():
                self.action = "stop training"
                await page.get_by_role("button", name="Stop (keep the best weights so far)").click()
            await ended
            await page.wait_for_function(READY_JS, polling=POLL_MS, timeout=self.timeout_ms)
        except PlaywrightError as error:
            self.recorder.error(self.name, self.action, "training did not end", f"{type(error).__name__}: {error}")
            return result
        finally:
            told_to_stop.cancel()
        result.wall_s = round(time.monotonic() - started, 1)
        await self.check("training")
        return await self._read_result(result)

    async def _read_result(self, result: TrainingResult) -> TrainingResult:
        text = await self.page.locator(MAIN).inner_text()
        message = re.search(rf"(Finished|Stopped) after (\d+) episodes[^\n]*?{TRAINED_MESSAGE} “([^”]+)”", text)
        if not message:
            self.recorder.error(self.name, "training", "no end-of-training message", text[:600])
            return result
        result.how_it_ended, result.episodes, result.model_name = message[1], int(message[2]), message[3]
        seconds = re.search(r"\d+ episodes in ([\d.]+) s", text)
        result.seconds = float(seconds[1]) if seconds else None
        source = self.page.get_by_role("radio", name="trained in this session")
        result.selectable = await source.count() == 1 and await source.is_checked() and result.model_name in text
        if not result.selectable:
            self.recorder.error(self.name, "training", "trained model not selectable in its own session", text[:600])
        return result

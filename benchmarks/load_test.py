"""Many people at once on one server: response times, errors, isolation, memory and release of trained models.

    python -m benchmarks.load_test [--sessions 8] [--rounds 4] [--waves 1] [--torch-threads N] [--env KEY=VALUE ...]

Starts the app on 127.0.0.1 (a free port, headless, no file watcher, ``OMP_WAIT_POLICY=PASSIVE``)
through ``benchmarks.load_test_server``, which is ``streamlit run`` plus a loopback probe inside the
server process. One headless Chromium drives, at the same time:

- ``--sessions`` visitors, each in its own browser context (= its own Streamlit session), that for
  ``--rounds`` rounds open Episodes and draw a new episode, open "Your images" and load their own
  class-set zip (classes and queries named only for that session) until its predictions show, and
  open Prototypical Networks;
- one trainer that meanwhile trains Prototypical Networks in the page for ``--train-episodes``
  (with ``--stop-training``: clicks Stop once the visitors are done) and checks that its model is
  selectable in its own session. After that, each visitor checks it is not offered that model.

A warm-up visitor goes through every page first (imports, data sets and shipped models load once);
its timings are reported apart.

Measured: p50/p95/max latency per action (click or upload → the page's outcome shown by a finished
run, settled, images loaded, charts drawn); errors, which must be zero (action timeouts, Streamlit
exceptions, ``st.error`` alerts, broken images, page errors, console errors, websocket disconnects,
requests off loopback, tracebacks in the server log, the server exiting); isolation, which must
hold (no page ever shows another session's class or query names, no two sessions are served the
same uploaded-image media, no visitor is offered the trainer's model); the server's RSS (VmRSS
every 0.5 s, VmHWM for the peak); the CPU time the server and the browser used (they share the
machine).

Release check: the server runs with ``--server.disconnectedSessionTTL`` = ``--session-ttl``. The
probe holds a weak reference to the trainer's model. The trainer's browser context is closed,
the benchmark waits past the TTL, then opens and closes one more session (Streamlit drops expired
sessions lazily, when another session is stored), and the model must then be gone after
``gc.collect()``. The model must be alive while its session is connected, so a probe that sees
nothing cannot pass; and ``--session-ttl 60 --release-wait 6`` (checking while the session is
still stored) must fail it. Then every visitor's session is ended the same way, and the models,
sessions, uploaded files and media files the server still holds are reported. With ``--waves N``
this is done N times over, one wave after the other: the RSS after each wave shows whether memory
stays bounded.

Writes ``--out`` (JSON) and a Markdown table beside it; exits 1 when an error, a leak or a failed
release check was found, 2 when the benchmark itself could not run. Everything is bounded by
``--deadline`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from playwright.async_api import async_playwright

from benchmarks.load_test_sessions import ST, Recorder, Session, Trainer, Visitor, make_class_set

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"


class RssSampler(threading.Thread):
    """Samples a process's VmRSS every ``interval`` seconds and keeps named marks; VmHWM is its peak."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, float]] = []
        self.marks: dict[str, float] = {}
        self.peak_hwm_mb = 0.0
        self._halt = threading.Event()
        self._began = time.monotonic()

    def read(self) -> tuple[float, float] | None:
        """(VmRSS, VmHWM) in MB, or None once the process is gone."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        values = {}
        for line in status.splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
        return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self.sample()

    def sample(self) -> float | None:
        reading = self.read()
        if reading is None:
            return None
        rss, hwm = reading
        self.samples.append((round(time.monotonic() - self._began, 1), round(rss, 1)))
        self.peak_hwm_mb = max(self.peak_hwm_mb, hwm)
        return rss

    def mark(self, name: str) -> None:
        rss = self.sample()
        if rss is not None:
            self.marks[name] = round(rss, 1)

    def stop(self) -> None:
        self._halt.set()


class Server:
    """The app under ``benchmarks.load_test_server`` on loopback: started, probed, always stopped."""

    def __init__(self, port: int, probe_port: int, ttl: int, env: dict[str, str], log_path: Path) -> None:
        self.port, self.probe_port, self.log_path = port, probe_port, log_path
        command = [
            sys.executable, "-m", "benchmarks.load_test_server", f"--probe-port={probe_port}", "--",
            "streamlit_app.py", "--server.headless=true", "--server.address=127.0.0.1", f"--server.port={port}",
            "--browser.gatherUsageStats=false", "--server.fileWatcherType=none", "--server.runOnSave=false",
            f"--server.disconnectedSessionTTL={ttl}",
        ]  # fmt: skip
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, stdout=self._log,
                                        stderr=subprocess.STDOUT)  # fmt: skip
        self.url = f"http://127.0.0.1:{port}"
        self.stat_path = Path(f"/proc/{self.process.pid}/stat")

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with status {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as reply:
                    if reply.read() == b"ok":
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within {timeout:.0f} s")

    def probe(self, path: str) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.probe_port}{path}", timeout=60) as reply:
            return json.loads(reply.read())

    async def aprobe(self, path: str) -> dict:
        return await asyncio.to_thread(self.probe, path)

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        except ProcessLookupError:
            pass
        self._log.close()

    def log_messages(self) -> dict[str, int]:
        """Each message the server logged (the first line of each timestamped record), with its count."""
        counts: dict[str, int] = {}
        for line in self.log_path.read_text(errors="replace").splitlines():
            if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ ", line) and "server started on" not in line:
                message = line.split(" ", 2)[2]
                counts[message] = counts.get(message, 0) + 1
        return counts

    def tracebacks(self) -> list[str]:
        """Each traceback the server logged, shortened (Streamlit logs script exceptions and its own)."""
        text = self.log_path.read_text(errors="replace")
        return [("Traceback" + part)[:800] for part in text.split("Traceback")[1:]]


class LoadTest:
    """One run: a warm-up, then per wave the load, the isolation checks after training and the release checks."""

    def __init__(self, args: argparse.Namespace, server: Server, sampler: RssSampler, recorder: Recorder) -> None:
        self.args, self.server, self.sampler, self.recorder = args, server, sampler, recorder
        self.deadline = time.monotonic() + args.deadline
        self.report: dict = {"censuses": {}, "waves": []}
        self.seen_marks: list[str] = []  # every name of every visitor so far: no other session may show one

    async def run(self) -> None:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=ST.CHROMIUM, headless=True,
                                                       args=ST.CHROMIUM_ARGS)  # fmt: skip
            self.report["chromium"] = browser.version
            steps = asyncio.ensure_future(self._steps(browser))
            server_died = asyncio.ensure_future(self._server_exit())
            try:
                await asyncio.wait({steps, server_died}, return_when=asyncio.FIRST_COMPLETED)
                if server_died.done():
                    steps.cancel()
                    raise RuntimeError(f"the server exited with status {server_died.result()} during the run")
                await steps
            finally:
                server_died.cancel()
                await browser.close()

    async def _steps(self, browser) -> None:
        await self._warm_up(browser)
        for number in range(self.args.waves):
            wave = {"wave": number + 1}
            self.report["waves"].append(wave)
            visitors, trainer = await self._load(browser, wave)
            await self._release_trainer(browser, trainer, wave)
            await self._release_visitors(browser, visitors, wave)
        self.report["malloc_trim"] = await self.server.aprobe("/trim")

    async def _server_exit(self) -> int:
        """The server's exit status, once it has exited (it should not, before the end)."""
        while self.server.process.poll() is None:
            await asyncio.sleep(0.5)
        return self.server.process.returncode

    def session_args(self, browser) -> tuple:
        return browser, self.server.url, self.recorder, self.args.action_timeout

    async def _census(self, name: str) -> dict:
        census = await self.server.aprobe("/census")
        self.report["censuses"][name] = census
        return census

    async def _warm_up(self, browser) -> None:
        """One visitor through every page first: imports, data sets and shipped models load once."""
        warm = Visitor(make_class_set("warm", seed=10_000), *self.session_args(browser))
        await warm.rounds(1)
        await warm.close()
        self.sampler.mark("after warm-up")
        await self._census("after warm-up")
        self.seen_marks += warm.own.marks

    async def _load(self, browser, wave: dict) -> tuple[list[Visitor], Trainer]:
        """The visitors' rounds while the trainer trains; then each visitor checks it cannot see the model."""
        self.recorder.phase = "load"
        prefix = "sess" if self.args.waves == 1 else f"w{wave['wave']}s"
        owns = [make_class_set(f"{prefix}{i:02d}", seed=100 * wave["wave"] + i) for i in range(self.args.sessions)]
        visitors = [Visitor(own, *self.session_args(browser)) for own in owns]
        trainer = Trainer("trainer" if self.args.waves == 1 else f"w{wave['wave']}-trainer",
                          *self.session_args(browser))  # fmt: skip
        for visitor in visitors:
            visitor.foreign = [m for other in owns if other is not visitor.own for m in other.marks] + self.seen_marks
        trainer.foreign = [m for own in owns for m in own.marks] + self.seen_marks
        self.seen_marks += [m for own in owns for m in own.marks]
        visitors_done, model_ready = asyncio.Event(), asyncio.get_running_loop().create_future()
        remaining = [len(visitors)]
        started = time.monotonic()
        server_cpu_before = cpu_seconds(self.server.stat_path) or 0
        browser_cpu_before = browser_cpu_seconds(self.server.process.pid)

        async def visit(visitor: Visitor) -> None:
            try:
                ok = await visitor.rounds(self.args.rounds)
            finally:
                remaining[0] -= 1
                if not remaining[0]:
                    visitors_done.set()
            model_name = await model_ready
            if ok and model_name:
                await visitor.check_cannot_see_model(model_name)

        async def train() -> None:
            result = None
            try:
                stop_when = visitors_done if self.args.stop_training else None
                result = await trainer.train(self.args.train_episodes, stop_when, self.deadline)
                wave["trainer"] = asdict(result)
                wave["tracked"] = (await self.server.aprobe("/track"))["tracked"]
            finally:
                model_ready.set_result(result.model_name if result else None)

        outcomes = await asyncio.gather(train(), *(visit(visitor) for visitor in visitors), return_exceptions=True)
        for name, outcome in zip([trainer.name] + [v.name for v in visitors], outcomes):
            if isinstance(outcome, BaseException):
                self.recorder.error(name, "-", "session crashed", f"{type(outcome).__name__}: {outcome}")
        wave["load_wall_s"] = round(time.monotonic() - started, 1)
        wave["cpu_s_during_load"] = {
            "server": round((cpu_seconds(self.server.stat_path) or 0) - server_cpu_before, 1),
            "browser": round(browser_cpu_seconds(self.server.process.pid) - browser_cpu_before, 1),
        }
        self.sampler.mark(f"wave {wave['wave']}: end of load")
        wave["media_overlaps"] = [
            {"sessions": [first.name, second.name], "media": sorted(first.media & second.media)[:5]}
            for i, first in enumerate(visitors) for second in visitors[i + 1 :] if first.media & second.media
        ]  # fmt: skip
        wave["media_per_visitor"] = {v.name: len(v.media) for v in visitors}
        return visitors, trainer

    async def _reap_expired(self, browser) -> None:
        """Wait past the TTL, then store one more session: Streamlit drops expired sessions only then."""
        await asyncio.sleep(self.args.release_wait if self.args.release_wait is not None else self.args.session_ttl + 1)
        reaper = Session("reaper", browser, self.server.url, self.recorder, self.args.action_timeout)
        await reaper.open("Home")
        await reaper.close()
        await asyncio.sleep(1)

    async def _release_trainer(self, browser, trainer: Trainer, wave: dict) -> None:
        """The trainer's model: alive while its session is connected or stored, gone after the TTL."""
        self.recorder.phase = "release"
        name = f"wave {wave['wave']}: "
        connected = await self._census(name + "trainer connected")
        await trainer.close()
        await asyncio.sleep(1)
        stored = await self._census(name + "trainer disconnected, within the TTL")
        closed_at = time.monotonic()
        await self._reap_expired(browser)
        released = await self._census(name + "trainer's session expired")
        tracked = wave.get("tracked", [])
        wave["release"] = {
            "tracked_models": tracked,
            "alive_while_connected": connected["tracked_alive"],
            "alive_while_stored": stored["tracked_alive"],
            "alive_after_expiry": released["tracked_alive"],
            "checked_after_s": round(time.monotonic() - closed_at, 1),
            "passed": bool(tracked)
            and all(model in connected["tracked_alive"] for model in tracked)
            and not released["tracked_alive"],
        }

    async def _release_visitors(self, browser, visitors: list[Visitor], wave: dict) -> None:
        """Every session of the wave ended: what the server still holds for them."""
        name = f"wave {wave['wave']}: "
        await self._census(name + "visitors connected")
        for visitor in visitors:
            await visitor.close()
        await self._reap_expired(browser)
        wave["all_sessions_ended"] = await self._census(name + "all sessions ended")
        self.sampler.mark(f"wave {wave['wave']}: all sessions ended")


def cpu_seconds(stat_path: Path) -> float | None:
    """User + system CPU time of a process, from its /proc/<pid>/stat."""
    try:
        fields = stat_path.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def browser_cpu_seconds(server_pid: int) -> float:
    """CPU time of this process's descendants but the server: Playwright's driver and every Chromium process."""
    parents, cpu = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        cpu[int(stat.parent.name)] = cpu_seconds(stat) or 0.0

    def ours(pid: int) -> bool:
        while pid > 1 and pid != server_pid:
            pid = parents.get(pid, 0)
            if pid == os.getpid():
                return True
        return False

    return round(sum(seconds for pid, seconds in cpu.items() if ours(pid)), 1)


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks, like numpy's default."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def action_table(latencies: dict[str, list[float]]) -> dict[str, dict]:
    return {
        action: {"count": len(values), "p50_ms": round(1000 * percentile(values, 0.5)),
                 "p95_ms": round(1000 * percentile(values, 0.95)), "max_ms": round(1000 * max(values))}
        for action, values in latencies.items()
    }  # fmt: skip


def markdown(result: dict) -> str:
    memory, machine = result["memory"], result["machine"]
    lines = [
        f"# Load test: {result['sessions']} visitors + 1 trainer, {result['rounds']} rounds"
        + (f", {len(result['waves'])} waves" if len(result["waves"]) > 1 else ""),
        "",
        f"{result['started_at']}, {machine['cpu_count']} CPUs (server and browser on the same machine), server "
        f"torch threads {machine['server_torch_threads']}, {result['duration_s']:.0f} s in all. "
        f"Command: `{result['command']}`",
        "",
        "| action | count | p50 (ms) | p95 (ms) | max (ms) |",
        "|---|---:|---:|---:|---:|",
    ]
    for action, row in result["actions"].items():
        lines.append(f"| {action} | {row['count']} | {row['p50_ms']:,} | {row['p95_ms']:,} | {row['max_ms']:,} |")
    isolation = result["isolation"]
    lines += [
        "",
        "| check | result |",
        "|---|---|",
        f"| errors | **{sum(e['count'] for e in result['errors'])}** |",
        f"| isolation ({isolation['checks']} page checks) | {'passed' if isolation['passed'] else '**FAILED**'} |",
    ]
    for wave in result["waves"]:
        name = f"wave {wave['wave']}: " if len(result["waves"]) > 1 else ""
        trainer, release = wave.get("trainer") or {}, wave.get("release") or {}
        ended, cpu = wave.get("all_sessions_ended") or {}, wave.get("cpu_s_during_load") or {}
        lines += [
            f"| {name}trainer | {trainer.get('how_it_ended')} after {trainer.get('episodes')} of "
            f"{trainer.get('episodes_asked')} episodes ({trainer.get('seconds')} s of training, "
            f"{trainer.get('wall_s')} s wall), selectable in its session: {trainer.get('selectable')} |",
            f"| {name}trained model released after its session ended (TTL {result['settings']['session_ttl_s']} s) | "
            f"{'passed' if release.get('passed') else '**FAILED**'} |",
            f"| {name}CPU time during the load ({wave.get('load_wall_s')} s): server / browser | "
            f"{cpu.get('server')} / {cpu.get('browser')} s of {machine['cpu_count']} × {wave.get('load_wall_s')} s |",
            f"| {name}held after all its sessions ended and expired | {ended.get('models_alive')} models, "
            f"{ended.get('sessions_stored')} stored sessions, {ended.get('uploaded_files')} uploaded files, "
            f"{ended.get('media_files')} media files |",
        ]
    marks = " / ".join(f"{value} ({name})" for name, value in memory["marks_mb"].items())
    lines += [
        f"| server RSS, MB | {marks} |",
        f"| server peak RSS (VmHWM) | {memory['peak_rss_mb']} MB |",
        f"| server RSS at the end after `malloc_trim(0)` | {memory['end_after_malloc_trim_mb']} MB |",
        "",
    ]
    lines += [
        "Held after the sessions ended, in a clean run: the shipped model (cached by `st.cache_resource`, shared) "
        "and the session the check itself opened last (still within its TTL).",
        "",
    ]
    if result["notes"]:
        lines += [f"Counted, not failed: {', '.join(f'{k}: {v}' for k, v in result['notes'].items())}.", ""]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=8, help="visitors at once (the trainer comes on top)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of 5 actions per visitor")
    parser.add_argument("--waves", type=int, default=1,
                        help="waves of sessions one after another, each ended and released before the next: "
                             "the server's memory after each shows whether it stays bounded")  # fmt: skip
    parser.add_argument("--out", type=Path, default=RESULTS / "load_test.json", help="JSON; .md written beside it")
    parser.add_argument("--port", type=int, default=0, help="the app's port (0: a free one)")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="for the server; repeatable")
    parser.add_argument("--torch-threads", type=int, help="sets PLAYGROUND_TORCH_THREADS for the server")
    parser.add_argument("--session-ttl", type=int, default=5, help="server.disconnectedSessionTTL, seconds")
    parser.add_argument("--release-wait", type=float,
                        help="seconds from closing a session to the release check (default: the TTL + 1; "
                             "less than the TTL must fail the check, the session being still stored)")  # fmt: skip
    parser.add_argument("--train-episodes", type=int, default=80,
                        help="the trainer's episodes (80 take most of a default run's load on 2 cores)")  # fmt: skip
    parser.add_argument("--stop-training", action="store_true",
                        help="click Stop once the visitors are done, if the trainer is still training")  # fmt: skip
    parser.add_argument("--action-timeout", type=float, default=180, help="seconds one action may take")
    parser.add_argument("--deadline", type=float, default=900, help="seconds the whole run may take")
    args = parser.parse_args(argv)
    for item in args.env:
        if "=" not in item:
            parser.error(f"--env {item!r}: expected KEY=VALUE")
    return args


def server_env(args: argparse.Namespace) -> dict[str, str]:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "PYTHONUNBUFFERED": "1"}
    if args.torch_threads:
        env["PLAYGROUND_TORCH_THREADS"] = str(args.torch_threads)
    env.update(item.split("=", 1) for item in args.env)
    return env


def watchdog(seconds: float, server: Server) -> None:
    """If even cleanup hangs past the deadline, stop the server and leave: the run must stay bounded."""

    def fire() -> None:
        print(f"load_test: hard deadline of {seconds:.0f} s passed; stopping", file=sys.stderr)
        server.stop()
        os._exit(2)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a SIGTERM unwinds like Ctrl-C: the server stops
    started, started_at = time.monotonic(), datetime.now(UTC).isoformat(timespec="seconds")
    recorder = Recorder()
    port = args.port or ST.free_port()
    log_path = Path(tempfile.mkstemp(prefix="load_test_server_", suffix=".log")[1])
    server = Server(port, ST.free_port(), args.session_ttl, server_env(args), log_path)
    watchdog(args.deadline + 60, server)
    sampler = RssSampler(server.process.pid)
    test = LoadTest(args, server, sampler, recorder)
    failure = None
    try:
        server.wait_healthy(60)
        sampler.mark("start")
        sampler.start()
        asyncio.run(asyncio.wait_for(test.run(), timeout=max(1.0, test.deadline - time.monotonic())))
    except TimeoutError:
        failure = f"the run passed its deadline of {args.deadline:.0f} s"
    except KeyboardInterrupt:
        failure = "interrupted"
    except Exception as error:
        failure = f"{type(error).__name__}: {error}"
    finally:
        sampler.mark("stopped")
        sampler.stop()
        test.report["server_cpu_s"] = cpu_seconds(server.stat_path)
        test.report["server_log_messages"] = server.log_messages()
        tracebacks = server.tracebacks()
        server.stop()
    for trace in tracebacks:
        recorder.error("server", "-", "traceback in the server log", trace)
    if failure:
        recorder.error("benchmark", "-", "run failed", failure)
    result = summarize(args, test, recorder, sampler, started, started_at, failure)
    write(result, args.out)
    print(markdown(result))
    for error in result["errors"][:20]:
        times = f" ({error['count']} times)" if error["count"] > 1 else ""
        print(f"ERROR {error['session']} / {error['action']}: {error['kind']}{times}: {error['detail'][:300]}")
    for leak in result["isolation"]["leaks"][:20]:
        print(f"LEAK {leak['session']} / {leak['action']} saw {leak['saw']!r}")
    print(f"server log: {log_path}")
    if failure and not recorder.latencies:
        return 2
    return 0 if result["passed"] else 1


def summarize(args, test: LoadTest, recorder: Recorder, sampler: RssSampler, started: float, started_at: str,
              failure: str | None) -> dict:  # fmt: skip
    report = test.report
    censuses, waves = report.get("censuses", {}), report.get("waves", [])
    isolation_passed = not recorder.leaks and not any(wave.get("media_overlaps") for wave in waves)
    release_passed = bool(waves) and all((wave.get("release") or {}).get("passed") for wave in waves)
    command = "python -m benchmarks.load_test " + " ".join(sys.argv[1:])
    result = {
        "command": command.strip(),
        "started_at": started_at,
        "duration_s": round(time.monotonic() - started, 1),
        "sessions": args.sessions,
        "rounds": args.rounds,
        "settings": {
            "waves": args.waves,
            "session_ttl_s": args.session_ttl,
            "release_wait_s": args.release_wait,
            "env": args.env,
            "torch_threads": args.torch_threads,
            "train_episodes": args.train_episodes,
            "stop_training": args.stop_training,
            "action_timeout_s": args.action_timeout,
            "deadline_s": args.deadline,
        },
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "server_torch_threads": next((c["torch_threads"] for c in censuses.values()), None),
            "chromium": report.get("chromium"),
        },
        "actions": action_table(recorder.latencies),
        "errors": recorder.errors,
        "notes": recorder.notes,
        "note_examples": recorder.note_examples,
        "isolation": {"passed": isolation_passed, "checks": recorder.isolation_checks, "leaks": recorder.leaks},
        "release_passed": release_passed,
        "waves": waves,
        "memory": {
            "marks_mb": sampler.marks,
            "peak_rss_mb": round(sampler.peak_hwm_mb, 1),
            "sampled_max_rss_mb": max((rss for _, rss in sampler.samples), default=None),
            "end_after_malloc_trim_mb": (report.get("malloc_trim") or {}).get("rss_after_mb"),
            "samples_every_2s": sampler.samples[::4],
        },
        "server_cpu_s": report.get("server_cpu_s"),
        "server_log_messages": report.get("server_log_messages"),
        "censuses": censuses,
        "failure": failure,
    }
    result["passed"] = not recorder.errors and isolation_passed and release_passed
    return result


def write(result: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    out.with_suffix(".md").write_text(markdown(result))


if __name__ == "__main__":
    sys.exit(main())

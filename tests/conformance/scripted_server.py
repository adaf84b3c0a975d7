"""Plays the server side of the client conformance scenarios (tests/data/conformance/*.json).

Each scenario gets its own WebSocket server on 127.0.0.1 (port 0). Connection ``k`` accepted
by that server runs the scenario's ``server[k]`` script (see tests/data/conformance/README.md);
connections beyond the scripted ones are welcomed and held open (``extra_connections:
"welcome"``, the default) or refused with HTTP 403 (``"refuse"``). A ``server: "none"``
scenario gets a port on which nothing listens.

Use it in-process (:class:`ScenarioHost`) or as a process that other runtimes' runners can
use::

    python tests/conformance/scripted_server.py tests/data/conformance/*.json

It prints one line ``{"ports": {"<scenario>": <port>, ...}}`` once every server listens, then
reads commands on stdin, one per line: ``report <scenario>`` prints that scenario's report as
one JSON line (``{"errors": [...], "connections": n, "received": [[types...], ...]}``);
``quit`` (or stdin EOF) stops every server and exits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import sys
from pathlib import Path
from typing import Any

import websockets
from websockets.asyncio.server import ServerConnection, serve

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "sidecar"))

from atelico.protocol.envelope import Message, decode, encode  # noqa: E402

GOLDEN = REPO / "tests" / "data" / "protocol"
SCENARIOS = REPO / "tests" / "data" / "conformance"
EXPECT_TIMEOUT_MS = 5000


def load_scenarios(paths: list[Path] | None = None) -> list[dict[str, Any]]:
    """Every scenario file, sorted by name."""
    files = paths if paths else sorted(SCENARIOS.glob("*.json"))
    return [json.loads(Path(p).read_text()) for p in files]


def golden_frame(name: str) -> Message:
    """A golden frame of tests/data/protocol decoded from its .msgpack bytes."""
    return decode((GOLDEN / f"{name}.msgpack").read_bytes())


def _matches(value: Any, pattern: Any) -> bool:
    """True when ``value`` holds every key of ``pattern`` with an equal value (numbers loosely)."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and _matches(value[k], v) for k, v in pattern.items())
    if isinstance(pattern, (int, float)) and not isinstance(pattern, bool) and isinstance(value, (int, float)):
        return float(value) == float(pattern)
    return value == pattern


class _Connection:
    """One accepted connection running one script."""

    def __init__(self, host: "ScenarioHost", ws: ServerConnection, index: int,
                 script: list[dict[str, Any]] | None) -> None:
        self.host = host
        self.ws = ws
        self.index = index
        self.script = script
        self.inbox: list[Message] = []
        self.arrived = asyncio.Event()
        self.closed = asyncio.Event()
        self.received: list[str] = []
        host.received.append(self.received)

    def error(self, text: str) -> None:
        self.host.errors.append(f"connection {self.index}: {text}")

    async def _reader(self) -> None:
        try:
            async for frame in self.ws:
                if isinstance(frame, str):
                    self.received.append("<text>")
                    continue
                try:
                    msg = decode(frame)
                except Exception as exc:  # noqa: BLE001 - a client bug to report, not to crash on
                    self.error(f"undecodable frame from the client: {exc}")
                    continue
                self.received.append(msg.type)
                self.inbox.append(msg)
                self.arrived.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed.set()
            self.arrived.set()

    async def _take(self, mtype: str, request: str | None, bind: str | None, match: Any,
                    timeout_ms: float) -> Message | None:
        """Wait for (and consume) the first unconsumed frame that fits; None on timeout/close."""
        want_id = self.host.ids.get(request) if request else None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_ms / 1000.0
        while True:
            for i, msg in enumerate(self.inbox):
                if msg.type != mtype or (request and msg.id != want_id):
                    continue
                if match is not None and not _matches(msg.data, match):
                    continue
                del self.inbox[i]
                if bind:
                    self.host.ids[bind] = msg.id
                return msg
            if self.closed.is_set():
                return None
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                return None

    def _frame(self, step: dict[str, Any]) -> Message:
        spec = step["send"] if "send" in step else step["frame"]
        if isinstance(spec, str):
            msg = golden_frame(spec)
        else:
            payload = spec.get("payload")
            msg = Message(spec["type"], dict(spec.get("data", {})), id=spec.get("id"),
                          payload=payload.encode() if isinstance(payload, str) else None)
        if step.get("request"):
            msg = dataclasses.replace(msg, id=self.host.ids.get(step["request"], f"<unbound {step['request']}>"))
        return msg

    async def run(self) -> None:
        reader = asyncio.create_task(self._reader())
        try:
            for step in self.script if self.script is not None else [{"handshake": "welcome"}]:
                if not await self._step(step):
                    break
            await self.closed.wait()  # hold the connection until the client (or a step) ends it
        finally:
            reader.cancel()

    async def _step(self, step: dict[str, Any]) -> bool:
        """Play one step; False when the script must stop (connection gone)."""
        ws = self.ws
        timeout_ms = float(step.get("timeout_ms", EXPECT_TIMEOUT_MS))
        if "handshake" in step:
            hello = await self._take("hello", None, None, None, timeout_ms)
            if hello is None:
                self.error("no hello from the client")
                return False
            if hello.id is not None or hello.data.get("protocol") != 1 or not isinstance(hello.data.get("client"), str):
                self.error(f"bad hello: id={hello.id!r} data={hello.data!r}")
            if step["handshake"] == "welcome":
                await ws.send(encode(golden_frame("welcome")))
                return True
            await ws.send(encode(self._frame(step)))
            await ws.close(1008, "handshake refused")
            return False
        if "expect" in step:
            got = await self._take(step["expect"], step.get("request"), step.get("bind"), step.get("match"),
                                   timeout_ms)
            if got is None and not step.get("optional"):
                self.error(f"expected {step['expect']} {step.get('bind') or step.get('request') or ''} "
                           f"within {timeout_ms:.0f} ms; got {self.received}")
                return not self.closed.is_set()
            return True
        if "expect_close" in step:
            try:
                await asyncio.wait_for(self.closed.wait(), timeout_ms / 1000.0)
            except asyncio.TimeoutError:
                self.error(f"the client did not close the connection within {timeout_ms:.0f} ms")
            return False
        if "stall_ms" in step:
            await asyncio.sleep(step["stall_ms"] / 1000.0)
            return True
        if "drop" in step:
            ws.transport.abort()  # TCP reset, no close frame
            return False
        if "close" in step:
            await ws.close(int(step["close"]), step.get("reason", ""))
            return False
        try:
            if "send_raw" in step:
                await ws.send((GOLDEN / step["send_raw"]).read_bytes())
            elif "send" in step:
                frame = encode(self._frame(step))
                pieces = int(step.get("fragments", 1))
                if pieces > 1:
                    size = -(-len(frame) // pieces)
                    await ws.send([frame[i:i + size] for i in range(0, len(frame), size)])
                else:
                    await ws.send(frame)
            else:
                self.error(f"unknown step {step!r}")
        except websockets.ConnectionClosed:
            self.error(f"connection closed before step {step!r}")
            return False
        return True


class ScenarioHost:
    """The server side of one scenario."""

    def __init__(self, scenario: dict[str, Any]) -> None:
        self.scenario = scenario
        self.name = scenario["name"]
        self.errors: list[str] = []
        self.received: list[list[str]] = []
        self.ids: dict[str, str] = {}
        self.connections = 0
        self.port = 0
        self._server: Any = None
        self._tasks: set[asyncio.Task[None]] = set()

    def _script(self, index: int) -> list[dict[str, Any]] | None:
        scripts = self.scenario["server"]
        return scripts[index] if index < len(scripts) else None

    def _refuses(self, index: int) -> int | None:
        script = self._script(index)
        if script is None:
            return 403 if self.scenario.get("extra_connections") == "refuse" else None
        return script[0].get("refuse_upgrade") if script else None

    async def start(self) -> int:
        if self.scenario["server"] == "none":
            with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]
            return self.port
        order: list[int] = []

        def process_request(connection: ServerConnection, request: Any) -> Any:
            index = self.connections
            self.connections += 1
            order.append(index)
            status = self._refuses(index)
            if status is not None:
                return connection.respond(status, "refused by the conformance scenario\n")
            connection.atelico_index = index  # type: ignore[attr-defined]
            return None

        async def handler(ws: ServerConnection) -> None:
            index = ws.atelico_index  # type: ignore[attr-defined]
            conn = _Connection(self, ws, index, self._script(index))
            task = asyncio.current_task()
            assert task is not None
            self._tasks.add(task)
            try:
                await conn.run()
            finally:
                self._tasks.discard(task)

        self._server = await serve(handler, "127.0.0.1", 0, process_request=process_request,
                                   compression=None, max_size=2**24, ping_interval=None)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    def report(self) -> dict[str, Any]:
        errors = list(self.errors)
        if isinstance(self.scenario["server"], list) and self.connections < len(self.scenario["server"]):
            errors.append(f"only {self.connections} of {len(self.scenario['server'])} scripted connections came")
        return {"errors": errors, "connections": self.connections, "received": self.received}

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            try:
                await asyncio.wait_for(self._server.wait_closed(), 5)
            except asyncio.TimeoutError:
                pass


async def _main(paths: list[Path]) -> None:
    hosts = {s["name"]: ScenarioHost(s) for s in load_scenarios(paths)}
    ports = {name: await host.start() for name, host in hosts.items()}
    print(json.dumps({"ports": ports}), flush=True)
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line or line.strip() == "quit":
                break
            cmd, _, arg = line.strip().partition(" ")
            if cmd == "report" and arg in hosts:
                print(json.dumps(hosts[arg].report()), flush=True)
            else:
                print(json.dumps({"errors": [f"unknown command {line.strip()!r}"]}), flush=True)
    finally:
        for host in hosts.values():
            await host.stop()


if __name__ == "__main__":
    asyncio.run(_main([Path(p) for p in sys.argv[1:]]))

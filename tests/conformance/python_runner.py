"""Conformance runner for the Python client (``atelico.client.AsyncClient``).

Plays each scenario's ``client`` steps (see tests/data/conformance/README.md) and returns the
result shape described in ``common.py``. Each request runs as its own task iterating
``AsyncClient.request``; chunks are the non-terminal messages it yields.
"""

from __future__ import annotations

import asyncio
from typing import Any

from atelico import errors
from atelico.client import AsyncClient

from tests.conformance.common import SCENARIO_TIMEOUT_MS, WAIT_TIMEOUT_MS

SCENARIO_TIMEOUT_S = SCENARIO_TIMEOUT_MS / 1000.0


async def _wait(cond: Any, what: str, problems: list[str]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_TIMEOUT_MS / 1000.0
    while not cond():
        if loop.time() > deadline:
            problems.append(f"timed out waiting for {what}")
            return
        await asyncio.sleep(0.005)


async def run_scenario(scenario: dict[str, Any], port: int) -> dict[str, Any]:
    url = f"ws://127.0.0.1:{port}/v1/ws"
    result: dict[str, Any] = {"connects": [], "completions": [], "errors": []}
    client: AsyncClient | None = None
    requests: dict[str, dict[str, Any]] = {}
    tasks: list[asyncio.Task[None]] = []

    async def play(name: str, state: dict[str, Any], step: dict[str, Any], c: AsyncClient) -> None:
        timeout = step["timeout_ms"] / 1000.0 if "timeout_ms" in step else None
        kind, code = "done", ""
        try:
            async for msg in c.request(step["type"], step["data"], request_id=state["id"], timeout=timeout):
                if msg.type != "done":
                    state["chunks"] += 1
        except errors.Cancelled:
            kind, code = "cancelled", ""
        except errors.AtelicoError as exc:
            kind, code = "error", exc.code
        state["done"] = True
        result["completions"].append({"request": name, "kind": kind, "code": code, "chunks": state["chunks"]})

    for step in scenario["client"]:
        do = step["do"]
        if do in ("connect", "reconnect"):
            try:
                client = await AsyncClient.connect(
                    url, client="conformance-python",
                    handshake_timeout=step.get("handshake_timeout_ms", 10000) / 1000.0)
                result["connects"].append("ok")
            except errors.AtelicoError as exc:
                result["connects"].append(exc.code)
        elif client is None:
            result["errors"].append(f"step {step} needs a connected client")
            break
        elif do == "send":
            state = requests[step["request"]] = {"id": client.new_id(), "chunks": 0, "done": False}
            tasks.append(asyncio.create_task(play(step["request"], state, step, client)))
            await asyncio.sleep(0)  # let the request task send its frame
        elif do == "cancel":
            await client.cancel(requests[step["request"]]["id"])
        elif do == "wait":
            state = requests[step["request"]]
            if "chunks" in step:
                await _wait(lambda s=state, n=step["chunks"]: s["chunks"] >= n or s["done"],
                            f"{step['chunks']} chunks of {step['request']}", result["errors"])
            else:
                await _wait(lambda s=state: s["done"], f"the completion of {step['request']}", result["errors"])
        elif do == "close":
            await client.close()
        else:
            result["errors"].append(f"unknown step {step}")
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=WAIT_TIMEOUT_MS / 1000.0)
        if pending:
            result["errors"].append(f"{len(pending)} requests never completed")
    if client is not None:
        await client.close()
    for t in tasks:
        t.cancel()
    return result


def run_all(ports: dict[str, int], scenarios: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    async def one(scenario: dict[str, Any]) -> dict[str, Any]:
        try:
            return await asyncio.wait_for(run_scenario(scenario, ports[scenario["name"]]), SCENARIO_TIMEOUT_S)
        except asyncio.TimeoutError:
            return {"connects": [], "completions": [], "errors": [f"the scenario hung for {SCENARIO_TIMEOUT_S} s"]}
        except Exception as exc:  # noqa: BLE001 - a client crash is this scenario's failure
            return {"connects": [], "completions": [], "errors": [f"the client raised {exc!r}"]}

    async def main() -> dict[str, dict[str, Any]]:
        return {s["name"]: await one(s) for s in scenarios}

    return asyncio.run(main())

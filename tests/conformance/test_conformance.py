"""Client conformance: every client plays every scenario of tests/data/conformance against the
scripted server, and must produce exactly the completions (kind, code, chunk count) and
connect outcomes the scenario names. One runtime launch per client runs all scenarios; the
tests below then check each scenario's share of that run."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from tests.conformance import common

RUNNERS: dict[str, Callable[[], Callable[[dict[str, int]], dict[str, Any]]]] = {}


def runner(name: str) -> Callable[[Any], Any]:
    def register(fn: Any) -> Any:
        RUNNERS[name] = fn
        return fn
    return register


@runner("python")
def _python() -> Callable[[dict[str, int]], dict[str, Any]]:
    from tests.conformance import python_runner

    return lambda ports: python_runner.run_all(ports, common.scenarios())


@runner("web")
def _web() -> Callable[[dict[str, int]], dict[str, Any]]:
    from tests.conformance.web import runner as web_runner

    return web_runner.prepare()


@runner("cpp")
def _cpp() -> Callable[[dict[str, int]], dict[str, Any]]:
    from tests.conformance.cpp import runner as cpp_runner

    return cpp_runner.prepare()


@runner("gdscript")
def _gdscript() -> Callable[[dict[str, int]], dict[str, Any]]:
    from tests.conformance.gdscript import runner as gdscript_runner

    return gdscript_runner.prepare()


@runner("csharp")
def _csharp() -> Callable[[dict[str, int]], dict[str, Any]]:
    from tests.conformance.csharp import runner as csharp_runner

    return csharp_runner.prepare()


_RUNS: dict[str, dict[str, Any]] = {}
SCENARIOS = {s["name"]: s for s in common.scenarios()}


def _outcomes(client: str) -> dict[str, Any]:
    """One run of every scenario by ``client`` (cached: the runtime launches once)."""
    if client not in _RUNS:
        play = RUNNERS[client]()  # may skip (tool missing) before any server starts
        try:
            _RUNS[client] = common.run_with_server(play)
        except Exception as exc:  # noqa: BLE001 - reported by every test of this client, run once
            _RUNS[client] = {"failed": exc}
    if "failed" in _RUNS[client]:
        raise AssertionError(f"the {client} runner failed: {_RUNS[client]['failed']}")
    return _RUNS[client]


@pytest.mark.parametrize("scenario", common.scenario_names())
@pytest.mark.parametrize("client", list(RUNNERS))
def test_client_conformance(client: str, scenario: str) -> None:
    outcome = _outcomes(client)[scenario]
    found = common.problems(SCENARIOS[scenario], outcome)
    assert not found, f"{client} / {scenario}:\n  " + "\n  ".join(found) + f"\nserver saw: {outcome['server']}"


def test_every_scenario_is_well_formed() -> None:
    """The scenario files use only the documented steps and name every request they expect."""
    client_steps = {"connect", "reconnect", "send", "cancel", "wait", "close"}
    assert len(SCENARIOS) >= 12
    for name, s in SCENARIOS.items():
        assert s["name"] == name
        sent = {step["request"] for step in s["client"] if step["do"] == "send"}
        assert set(s["expect"]) == sent, name
        assert all(step["do"] in client_steps for step in s["client"]), name
        for want in s["expect"].values():
            assert want["kind"] in ("done", "error", "cancelled")
            assert (want["kind"] == "error") == bool(want.get("code")), name

"""FairPool driven by hand: no worker threads (``threads=False``), a fake clock that only the
jobs advance, jobs run one at a time with ``run_next``. Nothing sleeps or reads the wall clock."""

from __future__ import annotations

from typing import Callable

import pytest

from atelico.errors import LimitError
from atelico.scheduler import Admission, FairPool, Flow


class FakeClock:
    """Worker time that only the jobs advance."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def job(clock: FakeClock, ran: list[str], label: str, cost_s: float) -> Callable[[], str]:
    """A job that 'computes' for ``cost_s`` of the fake clock and records that it ran."""

    def run() -> str:
        clock.now += cost_s
        ran.append(label)
        return label

    return run


def drain(pool: FairPool) -> int:
    n = 0
    while pool.run_next():
        n += 1
    return n


def a_slow_and_b_quick() -> tuple[FakeClock, FairPool, list[str], Flow, Flow]:
    """A manual pool with a1 (5 s) then b1 (1 s) queued, for clients a and b."""
    clock = FakeClock()
    pool = FairPool(2, clock=clock, threads=False)
    ran: list[str] = []
    fa, fb = Flow("a"), Flow("b")
    pool.submit(job(clock, ran, "a1", 5.0), fa)
    pool.submit(job(clock, ran, "b1", 1.0), fb)
    return clock, pool, ran, fa, fb


def test_results_and_exceptions_reach_the_futures() -> None:
    pool = FairPool(2, clock=FakeClock(), threads=False)
    ok = pool.submit(lambda: 41 + 1, Flow("c"))
    bad = pool.submit(lambda: 1 // 0, Flow("c"))
    assert not ok.done() and not bad.done()  # nothing runs until the executor is driven
    assert drain(pool) == 2
    assert ok.result() == 42
    assert isinstance(bad.exception(), ZeroDivisionError)
    assert pool.threads == []


def test_the_after_job_hook_runs_after_every_job_and_cannot_break_the_worker() -> None:
    """The server trims the C heap there: once per job (failed ones too), after the result
    is delivered; a failing hook is logged, and the next job still runs."""
    seen: list[str] = []
    def hook() -> None:
        fut_states = [f.done() for f in futures]
        seen.append(f"hook after {sum(fut_states)} done")
        if len(seen) == 2:
            raise RuntimeError("hook failed")

    pool = FairPool(2, clock=FakeClock(), threads=False, after_job=hook)
    futures = [pool.submit(lambda: 1, Flow("c")), pool.submit(lambda: 1 // 0, Flow("c")),
               pool.submit(lambda: 3, Flow("c"))]
    assert drain(pool) == 3
    assert seen == ["hook after 1 done", "hook after 2 done", "hook after 3 done"]
    assert futures[2].result() == 3


def test_the_worker_time_a_job_used_is_charged_to_its_flow_and_reorders_clients() -> None:
    """a's first job costs 5 s of the fake clock, b's jobs 1 s each: after a1, b runs its
    three jobs (its virtual time stays below a's) before a runs again."""
    clock, pool, ran, fa, fb = a_slow_and_b_quick()
    pool.submit(job(clock, ran, "a2", 1.0), fa)
    pool.submit(job(clock, ran, "b2", 1.0), fb)
    pool.submit(job(clock, ran, "b3", 1.0), fb)
    assert drain(pool) == 5
    assert ran == ["a1", "b1", "b2", "b3", "a2"]
    assert fa.used_s == pytest.approx(6.0) and fb.used_s == pytest.approx(3.0)


def test_an_idle_client_comes_back_without_its_past() -> None:
    """Once both clients went idle, neither pays for what it used before: they re-enter at
    the same level and the flow that used less goes first, then they alternate."""
    clock, pool, ran, fa, fb = a_slow_and_b_quick()
    drain(pool)
    pool.submit(job(clock, ran, "a2", 1.0), fa)
    pool.submit(job(clock, ran, "b2", 1.0), fb)
    pool.submit(job(clock, ran, "b3", 1.0), fb)
    drain(pool)
    assert ran == ["a1", "b1", "b2", "a2", "b3"]


def test_a_starving_stream_goes_before_a_stream_with_audio_to_spare() -> None:
    """Deadlines are read on the pool's clock: the stream whose listener runs dry in 0.5 s
    is served before the one with 10 s of audio left, whatever the arrival order."""
    clock = FakeClock()
    pool = FairPool(2, clock=clock, threads=False)
    ran: list[str] = []
    spare, dry = Flow("spare"), Flow("dry")
    for flow in (spare, dry):
        flow.used_s = 1.0  # both already served once
    spare.played(10.0, clock())
    dry.played(0.5, clock())
    pool.submit(job(clock, ran, "spare", 0.1), spare)
    pool.submit(job(clock, ran, "dry", 0.1), dry)
    drain(pool)
    assert ran == ["dry", "spare"]


def test_bulk_work_never_takes_the_last_free_worker() -> None:
    """With 2 workers the bulk lane holds 1: while a bulk job runs, another bulk job is not
    runnable, an interactive one is (run from inside the bulk job, as a second worker would)."""
    clock = FakeClock()
    pool = FairPool(2, clock=clock, threads=False)
    seen: dict[str, bool] = {}
    ran: list[str] = []

    def long_clip() -> None:
        pool.submit(job(clock, ran, "bulk-2", 1.0), Flow("other"), bulk=True)
        pool.submit(job(clock, ran, "short-line", 0.1), Flow("game"))
        seen["first"] = pool.run_next()  # the second worker: takes the short line
        seen["second"] = pool.run_next()  # nothing runnable: bulk-2 waits for the lane
        ran.append("bulk-1")

    pool.submit(long_clip, Flow("clip"), bulk=True)
    assert pool.run_next()
    assert seen == {"first": True, "second": False}
    assert ran == ["short-line", "bulk-1"]
    assert pool.waiting() == 1
    assert pool.run_next() and ran[-1] == "bulk-2"


def test_urgent_cleanup_runs_first_and_close_cancels_what_waits() -> None:
    clock = FakeClock()
    pool = FairPool(1, clock=clock, threads=False)
    ran: list[str] = []
    first = pool.submit(job(clock, ran, "first", 1.0), Flow("a"))
    pool.submit(job(clock, ran, "cleanup", 0.0), Flow("b"), urgent=True)
    assert pool.run_next() and ran == ["cleanup"]
    pool.close()
    assert first.cancelled()
    assert not pool.run_next()
    with pytest.raises(RuntimeError):
        pool.submit(job(clock, ran, "late", 0.0), Flow("a"))


def test_a_cancelled_future_is_skipped_and_still_accounted() -> None:
    clock = FakeClock()
    pool = FairPool(1, clock=clock, threads=False)
    ran: list[str] = []
    fut = pool.submit(job(clock, ran, "never", 1.0), Flow("a"))
    assert fut.cancel()
    assert pool.run_next()  # taken, not run
    assert ran == [] and pool.waiting() == 0


def refusal(gate: Admission, client: str) -> str:
    """The code of the LimitError that refuses ``client`` a slot."""
    with pytest.raises(LimitError) as refused:
        gate.admit(client)
    return refused.value.code


def test_admission_caps_a_client_and_frees_its_slot_on_release() -> None:
    gate = Admission(max_queue=8, max_queue_per_client=2)
    for client in ("noisy", "noisy", "game"):
        gate.admit(client)
    assert refusal(gate, "noisy") == "limits.client_queue_full"
    assert (gate.held("noisy"), gate.held("game"), gate.admitted, gate.total) == (2, 1, 3, 3)
    gate.release("noisy")
    gate.admit("noisy")  # the freed slot is the client's again
    assert gate.held("noisy") == 2 and gate.admitted == 3


def test_admission_refuses_everyone_when_the_queue_is_full() -> None:
    gate = Admission(max_queue=2, max_queue_per_client=2)
    gate.admit("a")
    gate.admit("b")
    assert refusal(gate, "c") == "limits.busy"
    assert refusal(gate, "a") == "limits.busy"

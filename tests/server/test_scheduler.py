"""The pool's scheduling policy (FairQueue) and per-client admission, driven by hand: no
threads, no clock; each test says how long every job "ran"."""

from __future__ import annotations

import pytest

from atelico.config import load_settings
from atelico.errors import LimitError
from atelico.service import CLIENT, FairQueue, Flow, Service


def run(queue: FairQueue, cost_s: float = 1.0) -> str:
    """Take the next job, account ``cost_s`` of worker time to it, return its label."""
    taken = queue.take()
    assert taken is not None
    label, flow, bulk = taken
    queue.finished(flow, bulk, cost_s)
    return label


def test_one_short_line_is_served_next_while_four_clients_flood():
    """4 clients × 16 queued jobs of long streams, then the game's one short job: it is the
    very next job taken, although 64 jobs came before it."""
    q = FairQueue(bulk_limit=1)
    flows = {c: [Flow(c) for _ in range(16)] for c in ("n1", "n2", "n3", "n4")}
    for c, fl in flows.items():
        for i, f in enumerate(fl):
            q.push(f"{c}/{i}", f)
    for _ in range(8):  # the flood has been running a while: 2 chunks per client
        label = run(q)
        client = label.split("/")[0]
        q.push(label, flows[client][int(label.split("/")[1])])  # a stream queues its next chunk
    q.push("game", Flow("game"))
    assert run(q, 0.1) == "game"


def test_clients_alternate_job_by_job_whatever_their_number_of_requests():
    """A client with 16 requests and a client with 1 get turns in alternation."""
    q = FairQueue(bulk_limit=1)
    noisy = [Flow("noisy") for _ in range(16)]
    for i, f in enumerate(noisy):
        q.push(f"noisy{i}", f)
    calm = Flow("calm")
    q.push("calm", calm)
    order = []
    for _ in range(6):
        label = run(q)
        order.append("calm" if label == "calm" else "noisy")
        if label == "calm":
            q.push("calm", calm)  # the calm client's stream queues its next chunk
    assert order == ["noisy", "calm", "noisy", "calm", "noisy", "calm"]


def test_within_a_client_least_served_request_first_then_arrival_order():
    q = FairQueue(bulk_limit=1)
    long_flow, new_flow = Flow("c"), Flow("c")
    long_flow.used_s = 5.0
    q.push("long", long_flow)
    q.push("new", new_flow)
    q.push("new-second", Flow("c"))
    assert [run(q, 0.5), run(q, 0.5), run(q, 0.5)] == ["new", "new-second", "long"]


def test_an_idle_client_neither_banks_credit_nor_pays_for_its_past():
    """A client that used 100 s an hour ago and comes back is served at the active clients'
    level (not after them for 100 s); a newcomer enters at that level too (not before all)."""
    q = FairQueue(bulk_limit=1)
    old = Flow("old")
    q.push("old-past", old)
    assert run(q, 100.0) == "old-past"  # old goes idle with 100 s used
    busy = Flow("busy")
    for i in range(3):
        q.push(f"busy{i}", busy)
    assert run(q, 2.0) == "busy0"  # busy is at 2 s
    q.push("old-back", Flow("old"))  # enters at busy's level (2 s), not at its 100 s
    q.push("old-more", Flow("old"))
    # a tie with busy at 2 s; old's new request has used nothing yet, so it goes first
    assert run(q, 1.0) == "old-back"
    assert run(q, 1.0) == "busy1"  # old is at 3 s now, busy at 2 s
    assert [run(q, 1.0), run(q, 1.0)] == ["old-more", "busy2"]  # then turn by turn


def test_coming_back_again_and_again_gains_at_most_the_new_client_credit():
    """A client that keeps leaving and coming back (one short job at a time, or a reconnect)
    overtakes a flood only until it has used the 1 s credit; then they alternate."""
    q = FairQueue(bulk_limit=1, new_client_credit_s=1.0)
    for i in range(20):
        q.push(f"b{i}", Flow("b"))
    assert [run(q) for _ in range(4)] == ["b0", "b1", "b2", "b3"]  # the flood's level: 4 s
    order = []
    for _ in range(3):
        q.push("c", Flow("c"))  # one 0.5 s job, then it is idle again
        order.append(run(q, 0.5))
    assert order == ["c", "c", "b4"]  # 1 s of credit spent: the flood's turn
    assert run(q, 0.5) == "c"


def test_bulk_lane_keeps_a_worker_free_and_urgent_goes_first():
    q = FairQueue(bulk_limit=1)
    q.push("bulk-a", Flow("a"), bulk=True)
    q.push("bulk-b", Flow("b"), bulk=True)
    first = q.take()
    assert first is not None and first[0] == "bulk-a" and first[2] is True
    assert q.take() is None  # the second bulk job waits: the last worker stays interactive
    q.push("chunk", Flow("c"))
    q.push("cleanup", Flow("d"), urgent=True)
    assert run(q, 0.0) == "cleanup"
    assert run(q, 0.1) == "chunk"
    q.finished(first[1], True, 3.0)
    assert run(q, 1.0) == "bulk-b"
    assert len(q) == 0 and q.take() is None


def test_drain_empties_the_queue_and_forgets_clients():
    q = FairQueue(bulk_limit=1)
    for i in range(3):
        q.push(i, Flow(f"c{i}"))
    assert sorted(q.drain()) == [0, 1, 2]
    assert q.take() is None
    q.push("after", Flow("c0"))
    assert run(q) == "after"


def test_flow_takes_its_client_from_the_context():
    token = CLIENT.set("ws:abc")
    try:
        assert Flow().client == "ws:abc"
    finally:
        CLIENT.reset(token)
    assert Flow().client == "local"


def _service(**limits: int) -> Service:
    settings = load_settings({"limits": limits, "models": {"preload": []}}, env={})
    return Service(settings, registry=None)  # type: ignore[arg-type]  # admission only


def test_a_client_at_its_cap_gets_client_queue_full_others_still_admitted():
    svc = _service(max_queue=64, max_queue_per_client=12)
    try:
        for _ in range(12):
            svc._admit("noisy")
        with pytest.raises(LimitError) as exc:
            svc._admit("noisy")
        assert exc.value.code == "limits.client_queue_full"
        assert exc.value.details["queued"] == 12
        svc._admit("game")
        assert svc.client_depth("noisy") == 12 and svc.client_depth("game") == 1
        svc._release("noisy")
        svc._admit("noisy")  # a freed slot is the client's again
    finally:
        svc.close()


def test_four_flooding_clients_leave_room_for_the_game():
    """4 clients × 16 requests on a 64-slot queue: the game's line is still admitted; the
    flood's extra requests are refused with limits.client_queue_full, not limits.busy."""
    svc = _service(max_queue=64, max_queue_per_client=12)
    refused = []
    try:
        for c in range(4):
            for _ in range(16):
                try:
                    svc._admit(f"n{c}")
                except LimitError as exc:
                    refused.append(exc.code)
        svc._admit("game")
        assert refused and set(refused) == {"limits.client_queue_full"}
        assert svc.queue_depth == 4 * 12 + 1
    finally:
        svc.close()


def test_the_last_slots_go_to_clients_under_their_equal_share():
    """Near a full queue a client holding its equal share is refused, one under it is not."""
    svc = _service(max_queue=16, max_queue_per_client=16)
    try:
        for _ in range(14):
            svc._admit("big")  # 14 of 16 slots: the last 2 are the reserve
        with pytest.raises(LimitError) as exc:
            svc._admit("big")
        assert exc.value.code == "limits.client_queue_full"
        svc._admit("small")
        svc._admit("small")
        with pytest.raises(LimitError) as exc:
            svc._admit("third")
        assert exc.value.code == "limits.busy"  # the whole queue is full
    finally:
        svc.close()


def test_a_greedy_clients_jobs_leave_a_worker_free_for_the_game():
    """A client with more than 3 jobs in the pool (a flood of requests) runs in the bulk lane:
    with 2 workers only one of its jobs runs at a time, so the game's line starts at once
    instead of waiting for a long chunk to end. Regression: both workers took flood chunks."""
    q = FairQueue(bulk_limit=1)
    for i in range(4):
        q.push(f"flood{i}", Flow("flood"))
    first = q.take()
    assert first is not None and first[0] == "flood0" and first[2] is True
    assert q.take() is None  # the second worker stays free
    q.push("game", Flow("game"))
    assert run(q, 0.5) == "game"
    q.finished(first[1], True, 2.0)
    assert run(q) == "flood1"  # then the flood goes on, one job at a time


def test_a_client_with_a_few_requests_is_not_greedy():
    """Three jobs of one client (a line, a transcription, face) may use both workers."""
    q = FairQueue(bulk_limit=1)
    for i in range(3):
        q.push(f"game{i}", Flow("game"))
    a, b = q.take(), q.take()
    assert a is not None and b is not None and not a[2] and not b[2]


def test_the_stream_closest_to_starving_is_served_first():
    """Three NPCs stream speech: the one whose listener runs out of audio soonest goes next,
    whatever the clients' shares; a stream with audio to spare waits behind them."""
    q = FairQueue(bulk_limit=1, starving_s=1.5)
    flows = {name: Flow(name) for name in ("a", "b", "c")}
    flows["a"].played(3.0, now=0.0)  # a's listener has 3 s of audio: plays until t=3
    flows["b"].played(1.2, now=0.0)  # until t=1.2
    flows["c"].played(0.5, now=0.5)  # started later: until t=1.0
    flows["c"].used_s = 50.0  # c's client used far more worker time: fairness alone says last
    for name, flow in flows.items():
        q.push(name, flow)
    taken = q.take(now=0.6)
    assert taken is not None and taken[0] == "c"
    q.finished(taken[1], taken[2], 0.1)
    taken = q.take(now=0.7)
    assert taken is not None and taken[0] == "b"
    q.finished(taken[1], taken[2], 0.1)
    assert q.take(now=0.8)[0] == "a"


def test_streams_with_audio_to_spare_and_no_clock_keep_fair_order():
    """Deadlines far ahead (or no clock given) leave the fair order as it was."""
    q = FairQueue(bulk_limit=1, starving_s=1.0)
    rich, other = Flow("rich"), Flow("other")
    rich.played(10.0, now=0.0)
    rich.used_s = other.used_s = 0.0
    q.push("other", other)
    q.push("rich", rich)
    assert q.take(now=0.1)[0] == "other"  # rich has 9.9 s to spare: fair order, first come
    q2 = FairQueue(bulk_limit=1)
    starving = Flow("s")
    starving.played(0.1, now=0.0)
    q2.push("calm", Flow("calm"))
    q2.push("s", starving)
    assert q2.take()[0] == "calm"  # no clock: no deadlines


def test_a_new_stream_is_not_held_back_behind_streams_already_playing():
    """Two NPCs already play (and run dry soon); a third one's first window goes first."""
    q = FairQueue(bulk_limit=1, starving_s=1.5)
    a, b = Flow("a"), Flow("b")
    for flow in (a, b):
        flow.played(0.5, now=0.0)
        flow.used_s = 1.0
    q.push("a", a)
    q.push("b", b)
    q.push("new", Flow("c"))
    assert q.take(now=0.2)[0] == "new"

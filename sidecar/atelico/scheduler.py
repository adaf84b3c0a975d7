"""The worker pool's scheduling: whose job runs next (:class:`FairQueue`, no threads, no
clock) and the threads that run them (:class:`FairPool`).

Every job belongs to a :class:`Flow` (one request of one client); the transports name the
client through :data:`CLIENT`.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import itertools
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Generic, TypeVar, cast

from atelico.errors import LimitError

log = logging.getLogger(__name__)

T = TypeVar("T")
Item = TypeVar("Item")


class Flow:
    """One request's account with the pool: its client and the worker seconds it has used.

    A stream of audio also has a ``deadline``: when a listener who started playing at its
    first piece runs out of audio (``None`` until the first piece, and for other work).
    """

    __slots__ = ("used_s", "client", "deadline", "_play_start", "_audio_s")

    def __init__(self, client: str | None = None) -> None:
        self.used_s = 0.0
        self.client = client if client is not None else current_client()
        self.deadline: float | None = None
        self._play_start: float | None = None
        self._audio_s = 0.0

    def played(self, audio_s: float, now: float) -> None:
        """Account ``audio_s`` seconds of audio handed out at ``now`` (perf_counter)."""
        if self._play_start is None:
            self._play_start = now
        self._audio_s += audio_s
        self.deadline = self._play_start + self._audio_s


#: who the running request belongs to (a WebSocket session, an HTTP connection); set by the
#: transports, read when a request's :class:`Flow` is made. ``None``: the in-process caller.
CLIENT: contextvars.ContextVar[str | None] = contextvars.ContextVar("atelico_client", default=None)


def current_client() -> str:
    return CLIENT.get() or "local"


class _ClientShare:
    """A client's virtual time in the queue and how many of its jobs are queued or running."""

    __slots__ = ("vtime", "jobs")

    def __init__(self, vtime: float) -> None:
        self.vtime = vtime
        self.jobs = 0


#: a client with more jobs than this queued or running in the pool is greedy (FairQueue)
GREEDY_JOBS = 3


@dataclass
class _Waiting(Generic[Item]):
    """A queued job: its arrival number, what to run, whose it is, its lane."""

    seq: int
    item: Item
    flow: Flow
    bulk: bool
    urgent: bool


class FairQueue(Generic[Item]):
    """The pool's scheduling policy, with no threads and no clock (unit-testable).

    Two levels of fairness: first between *clients* (connections), then between the
    *flows* (requests) of the chosen client. A client's virtual time grows by the worker
    time its jobs use; the client with the smallest goes first. A client that becomes
    active enters at the queue's current level less a small credit (``new_client_credit_s``)
    and never below where it left off, so it cannot bank credit while idle, nor does it pay
    for its past: one client with 16 long streams cannot starve another with one short line
    (the short line goes first, then they alternate job by job). Within a client, the flow
    that used the least worker time goes first (ties: first come). ``urgent`` jobs
    (cleanup) go before all. Audio streams about to run dry (a flow whose ``deadline`` is
    less than ``starving_s`` after ``now``, see :meth:`take`) go next, the closest to
    starving first, whatever their client's share: a stream with audio to spare waits. A
    request's first job counts as starving too (nothing is playing yet), so a new stream is
    not held back behind streams that already play.
    Bulk jobs (unsliceable whole-clip work) are taken only while fewer than ``bulk_limit``
    run, so one worker always stays free for interactive work. The jobs of a *greedy*
    client, one with more than ``greedy_jobs`` jobs queued or running (many requests at
    once, e.g. 16 long syntheses), run in the bulk lane too: fair order alone still let a
    flood hold every worker, so the game's short line waited for a long chunk to end before
    it could start; now it starts on the free worker at once. One client's streams are
    sequential chunk by chunk, so a client with a few requests loses nothing.
    """

    #: clients remembered after they go idle (their virtual time), oldest forgotten first
    MAX_IDLE_CLIENTS = 4096

    def __init__(self, bulk_limit: int, *, new_client_credit_s: float = 0.1,
                 greedy_jobs: int | None = None, starving_s: float = 1.5) -> None:
        self.bulk_limit = bulk_limit
        self.greedy_jobs = GREEDY_JOBS if greedy_jobs is None else greedy_jobs
        self.starving_s = starving_s
        self.bulk_running = 0
        self.new_client_credit_s = new_client_credit_s
        self._waiting: list[_Waiting[Item]] = []
        self._seq = itertools.count()
        self._clients: dict[str, _ClientShare] = {}  # clients with jobs queued or running
        self._idle: dict[str, float] = {}  # where idle clients left off (insertion = age)
        self._level = 0.0  # the active clients' smallest virtual time, never decreasing

    def _advance_level(self) -> None:
        if self._clients:
            self._level = max(self._level, min(c.vtime for c in self._clients.values()))

    def __len__(self) -> int:
        return len(self._waiting)

    def push(self, item: Item, flow: Flow, *, bulk: bool = False, urgent: bool = False) -> None:
        share = self._clients.get(flow.client)
        if share is None:
            self._advance_level()
            left_at = self._idle.pop(flow.client, float("-inf"))
            vtime = min(self._level, max(left_at, self._level - self.new_client_credit_s))
            share = self._clients[flow.client] = _ClientShare(vtime)
        share.jobs += 1
        self._waiting.append(_Waiting(next(self._seq), item, flow, bulk, urgent))

    def take(self, now: float | None = None) -> tuple[Item, Flow, bool] | None:
        """The next job to run (``None``: nothing runnable now); call :meth:`finished` after.

        ``now`` (the clock of the flows' deadlines) enables serving starving streams first.
        """
        best: int | None = None
        best_key: tuple[float, float, float, float, int] | None = None
        for index, job in enumerate(self._waiting):
            if self._in_bulk_lane(job) and self.bulk_running >= self.bulk_limit:
                continue
            key = self._rank(job, now)
            if best_key is None or key < best_key:
                best, best_key = index, key
        if best is None:
            return None
        job = self._waiting.pop(best)
        bulk = self._in_bulk_lane(job)
        if bulk:
            self.bulk_running += 1
        return job.item, job.flow, bulk

    def _in_bulk_lane(self, job: _Waiting[Item]) -> bool:
        """Bulk work, or any job of a greedy client; never an urgent one."""
        if job.urgent:
            return False
        return job.bulk or self._clients[job.flow.client].jobs > self.greedy_jobs

    def _rank(self, job: _Waiting[Item], now: float | None) -> tuple[float, float, float, float, int]:
        """The sort key of a waiting job: tier (urgent, starving, other), then slack for the
        starving, then the client's virtual time, the flow's used time, arrival."""
        flow = job.flow
        if now is None:
            slack = float("inf")
        elif flow.deadline is not None:
            # a stream already dry (the machine is slower than playback) ranks with new
            # requests, by fairness, instead of before everything forever
            slack = max(0.0, flow.deadline - now)
        else:  # a request never served yet: its listener is already waiting
            slack = 0.0 if flow.used_s == 0.0 else float("inf")
        tier = 0.0 if job.urgent else 1.0 if slack < self.starving_s else 2.0
        return (tier, slack if tier == 1.0 else 0.0, self._clients[flow.client].vtime, flow.used_s,
                job.seq)

    def finished(self, flow: Flow, bulk: bool, elapsed_s: float) -> None:
        """Account a taken job's worker time to its flow and client."""
        flow.used_s += elapsed_s
        if bulk:
            self.bulk_running -= 1
        share = self._clients[flow.client]
        share.vtime += elapsed_s
        share.jobs -= 1
        if share.jobs == 0:
            self._go_idle(flow.client, share)
        self._advance_level()

    def _go_idle(self, client: str, share: _ClientShare) -> None:
        del self._clients[client]
        self._idle[client] = share.vtime
        if len(self._idle) > self.MAX_IDLE_CLIENTS:
            del self._idle[next(iter(self._idle))]

    def drain(self) -> list[Item]:
        """Remove and return every waiting item (shutdown)."""
        items = [job.item for job in self._waiting]
        for job in self._waiting:
            share = self._clients[job.flow.client]
            share.jobs -= 1
            if share.jobs == 0:
                self._go_idle(job.flow.client, share)
        self._waiting.clear()
        return items


class Admission:
    """Queue slots: at most ``max_queue`` jobs queued or running, and a share per client.

    :meth:`admit` takes a slot for a client or refuses: ``limits.busy`` when the whole queue
    is full, ``limits.client_queue_full`` when this client holds its share: a fixed cap per
    client and, for the queue's last eighth, no more than an equal share of the queue (at
    most half the cap), so those slots stay for the other clients.
    """

    def __init__(self, max_queue: int, max_queue_per_client: int) -> None:
        self.max_queue = max_queue
        self.max_queue_per_client = max_queue_per_client
        self.admitted = 0
        self.total = 0  # slots ever granted
        self._per_client: dict[str, int] = {}
        self._lock = threading.Lock()

    def held(self, client: str) -> int:
        with self._lock:
            return self._per_client.get(client, 0)

    def admit(self, client: str) -> None:
        with self._lock:
            if self.admitted >= self.max_queue:
                raise LimitError(f"the sidecar is busy ({self.admitted} jobs queued or running); "
                                 "retry shortly", code="limits.busy", details={"queued": self.admitted})
            held = self._per_client.get(client, 0)
            if self._over_share(held):
                raise LimitError(f"this connection already has {held} jobs queued or running; "
                                 "wait for one to end", code="limits.client_queue_full",
                                 details={"queued": held,
                                          "max_queue_per_client": self.max_queue_per_client})
            self.admitted += 1
            self._per_client[client] = held + 1
            self.total += 1

    def _over_share(self, held: int) -> bool:
        active = len(self._per_client) + (0 if held else 1)
        reserve = max(1, self.max_queue // 8)
        equal_share = max(1, min(self.max_queue_per_client // 2, self.max_queue // active))
        return held >= self.max_queue_per_client or (
            self.admitted >= self.max_queue - reserve and held >= equal_share)

    def release(self, client: str) -> None:
        with self._lock:
            self.admitted -= 1
            left = self._per_client[client] - 1
            if left:
                self._per_client[client] = left
            else:
                del self._per_client[client]


#: a pool job: the future its caller awaits and the call that settles it
_Job = tuple["concurrent.futures.Future[object]", Callable[[], object]]


class FairPool:
    """Worker threads that run jobs in the order :class:`FairQueue` picks.

    Every job belongs to a :class:`Flow` (one request of one client). Streams are sliced
    into one job per chunk (:meth:`Service.stream`), so a long synthesis yields the worker
    between chunks. Jobs that cannot be sliced (a whole-clip transcription, face for a clip)
    go to the *bulk* lane, which runs on at most ``workers - 1`` threads: one worker always
    stays free for interactive work (with ``workers == 1`` one extra thread is kept for it).

    ``clock`` times the jobs and the streams' deadlines (``time.perf_counter``). With
    ``threads=False`` no thread starts: the caller runs the jobs one by one with
    :meth:`run_next` (a manual executor, for tests). ``after_job`` runs on the worker after
    every job (the server hands the freed heap memory back there).
    """

    def __init__(self, workers: int, *, name: str = "atelico-worker",
                 clock: Callable[[], float] = time.perf_counter, threads: bool = True,
                 after_job: Callable[[], None] | None = None) -> None:
        self.bulk_limit = max(1, workers - 1)
        self.clock = clock
        self.after_job = after_job
        self._cond = threading.Condition()
        self._queue: FairQueue[_Job] = FairQueue(self.bulk_limit)
        self._closed = False
        count = max(workers, self.bulk_limit + 1) if threads else 0
        self.threads = [threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
                        for i in range(count)]
        for thread in self.threads:
            thread.start()

    def submit(self, fn: Callable[[], T], flow: Flow, *, bulk: bool = False,
               urgent: bool = False) -> "concurrent.futures.Future[T]":
        """Queue ``fn``; ``urgent`` jobs (cleanup) go first. Raises RuntimeError once closed."""
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            # the queue holds jobs of every result type; each future meets its own fn again
            self._queue.push(cast(_Job, (fut, fn)), flow, bulk=bulk, urgent=urgent)
            self._cond.notify_all()
        return fut

    def close(self) -> None:
        """Cancel the queued jobs and let the workers exit (running jobs finish)."""
        with self._cond:
            self._closed = True
            for fut, _fn in self._queue.drain():
                fut.cancel()
            self._cond.notify_all()

    def waiting(self) -> int:
        """Jobs queued, not yet taken by a worker."""
        with self._cond:
            return len(self._queue)

    def run_next(self) -> bool:
        """Run the next runnable job on the calling thread; False when none is runnable."""
        with self._cond:
            job = self._queue.take(self.clock())
        if job is None:
            return False
        self._execute(*job)
        return True

    def _work(self) -> None:
        while True:
            with self._cond:
                job = self._queue.take(self.clock())
                while job is None:
                    if self._closed:
                        return
                    self._cond.wait()
                    job = self._queue.take(self.clock())
            self._execute(*job)

    def _execute(self, job: _Job, flow: Flow, bulk: bool) -> None:
        fut, fn = job
        started = self.clock()
        try:
            if fut.set_running_or_notify_cancel():
                try:
                    result = fn()
                except BaseException as exc:  # delivered to the awaiting request
                    fut.set_exception(exc)
                else:
                    fut.set_result(result)
        finally:
            with self._cond:
                self._queue.finished(flow, bulk, self.clock() - started)
                self._cond.notify_all()
            if self.after_job is not None:
                try:
                    self.after_job()
                except Exception:  # housekeeping must never take a worker down
                    log.exception("the worker pool's after-job hook failed")

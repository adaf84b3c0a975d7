"""Long-running jobs (voice cloning): start, watch progress, cancel — over HTTP.

``POST /v1/voices/clone`` starts a job and answers 202 with its id; ``GET /v1/jobs/{id}``
reports ``status`` (queued, running, done, failed, cancelled), ``progress`` (0–1 and the
engine's own numbers) and, when done, ``result``; ``DELETE /v1/jobs/{id}`` cancels.
At most ``MAX_RUNNING`` jobs run at once; finished jobs are kept for inspection, bounded.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from atelico.cloning import CloneProgress, CloneForm
from atelico.errors import AtelicoError, Cancelled, LimitError, RequestError, redact_paths
from atelico.server import openapi

MAX_RUNNING = 1
MAX_KEPT = 32
router = APIRouter()


@dataclass
class Job:
    """One job's state, read by pollers while a worker thread updates it."""

    id: str
    kind: str
    status: str = "queued"
    progress: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    created_at: float = field(default_factory=time.time)
    cancel: threading.Event = field(default_factory=threading.Event)

    def to_dict(self) -> dict[str, Any]:
        out = {"id": self.id, "kind": self.kind, "status": self.status, "progress": round(self.progress, 4),
               "detail": self.detail, "created_at": self.created_at}
        if self.result is not None:
            out["result"] = self.result
        if self.error is not None:
            out["error"] = self.error
        return out


class JobManager:
    """Runs jobs on their own threads (never on the request workers), bounded in number."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def running(self) -> int:
        with self._lock:
            return sum(j.status in ("queued", "running") for j in self._jobs.values())

    def start(self, kind: str, work: Callable[[Job], dict[str, Any]]) -> Job:
        with self._lock:
            if sum(j.status in ("queued", "running") for j in self._jobs.values()) >= MAX_RUNNING:
                raise LimitError("another voice-cloning job is running; wait for it or cancel it",
                                 code="limits.busy")
            job = Job(id=uuid.uuid4().hex[:16], kind=kind)
            self._jobs[job.id] = job
            while len(self._jobs) > MAX_KEPT:
                oldest = next(iter(self._jobs.values()))
                if oldest.status in ("queued", "running"):
                    break
                self._jobs.popitem(last=False)

        def run() -> None:
            job.status = "running"
            try:
                job.result = work(job)
                job.progress = 1.0
                job.status = "done"
            except Cancelled:
                job.status = "cancelled"
            except AtelicoError as exc:
                job.error, job.status = exc.to_dict(), "failed"
            except Exception as exc:  # noqa: BLE001 - reported on the job, never lost
                job.error = {"code": "engine.failed", "message": redact_paths(str(exc))[:500]}
                job.status = "failed"

        threading.Thread(target=run, name=f"atelico-job-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise RequestError(f"no job {job_id!r}", code="request.unknown_id", http_status=404)
        return job

    def list(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())


def _jobs(request: Request) -> JobManager:
    jobs: JobManager = request.app.state.jobs
    return jobs


@router.post("/v1/voices/clone", status_code=202, openapi_extra=openapi.form_body(openapi.CloneForm))
async def clone(request: Request) -> JSONResponse:
    """Multipart: ``file`` (reference clip), ``name`` (new voice id), ``engine`` (kokoro|pocket),
    ``generations`` and ``population`` (kokoro search size), ``max_seconds`` (reference trim),
    ``overwrite`` (true replaces an existing custom voice; else 409 ``voice.exists``)."""
    from atelico.server.http import read_form, service_of

    svc = service_of(request)
    fields, data, _ = await read_form(request)
    clone_request = CloneForm.parse(fields, has_file=data is not None)
    svc.cloner.check(clone_request.engine, clone_request.name, overwrite=clone_request.overwrite)
    assert data is not None  # parse refused a form without the clip
    reference = await svc.clone_reference(data, clone_request)

    def work(job: Job) -> dict[str, Any]:
        def progress(p: CloneProgress) -> None:
            job.progress = p.generation / p.generations
            job.detail = {"generation": p.generation, "generations": p.generations,
                          "best_distance": round(p.best_distance, 4),
                          "initial_distance": round(p.initial_distance, 4)}

        voice = svc.cloner.clone(clone_request, reference, progress=progress, cancel=job.cancel)
        out: dict[str, Any] = {"voice": voice.voice_id, "engine": clone_request.engine, "path": str(voice.path)}
        if voice.best_distance is not None and voice.initial_distance is not None:
            out.update(best_distance=round(voice.best_distance, 4),
                       initial_distance=round(voice.initial_distance, 4))
        return out

    job = _jobs(request).start(f"clone.{clone_request.engine}", work)
    return JSONResponse(job.to_dict(), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})


@router.get("/v1/jobs")
async def list_jobs(request: Request) -> dict[str, Any]:
    return {"object": "list", "data": [j.to_dict() for j in _jobs(request).list()]}


@router.get("/v1/jobs/{job_id}")
async def get_job(job_id: str, request: Request) -> dict[str, Any]:
    return _jobs(request).get(job_id).to_dict()


@router.delete("/v1/jobs/{job_id}")
async def cancel_job(job_id: str, request: Request) -> dict[str, Any]:
    job = _jobs(request).get(job_id)
    job.cancel.set()
    return job.to_dict()

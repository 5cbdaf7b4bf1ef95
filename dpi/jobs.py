"""The lifecycle of a job row (:class:`dpi.models.Job`): queued -> running -> done | failed.

The services of the long work call these at each step, in their own transaction; each is one UPDATE of
the row by id (a stale object in the caller never overwrites a newer state). A work row created before
jobs existed has none: every function accepts ``None`` and then does nothing.

- :func:`queue_job` when the work is asked for (the request id of the asking request is kept);
- :func:`start_job` at each delivery of the task: one more attempt, the previous error forgotten;
- :func:`report_progress` as it goes (``total`` None: not known yet);
- :func:`finish_job` with a small JSON summary, or :func:`fail_job` with the error the UI shows.

:func:`run_as_job` does all four around a block that runs in the request (the statistics export).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.models import F
from django.utils import timezone

from dpi.audit_context import current_request_id
from dpi.models import Job, User


def queue_job(*, kind: Job.Kind, acting_user: User | None) -> Job:
    return Job.objects.create(kind=kind, acting_user=acting_user, request_id=current_request_id())


def start_job(job_id: int | None) -> None:
    if job_id is not None:
        Job.objects.filter(pk=job_id).update(
            status=Job.Status.RUNNING, attempts=F("attempts") + 1, started_at=timezone.now(), last_error=""
        )


def report_progress(job_id: int | None, *, done: int, total: int | None = None) -> None:
    if job_id is not None:
        Job.objects.filter(pk=job_id).update(done=done, total=total)


def finish_job(job_id: int | None, *, result: dict[str, Any] | None = None) -> None:
    if job_id is not None:
        Job.objects.filter(pk=job_id).update(
            status=Job.Status.DONE, finished_at=timezone.now(), last_error="", result=result or {}
        )


def fail_job(job_id: int | None, *, error: str) -> None:
    if job_id is not None:
        Job.objects.filter(pk=job_id).update(
            status=Job.Status.FAILED, finished_at=timezone.now(), last_error=error[:2000] or "Échec"
        )


@contextmanager
def run_as_job(*, kind: Job.Kind, acting_user: User | None) -> Iterator[Job]:
    """A block of work done in the request, recorded as a job: done when the block ends (its ``result``
    is what the block put in ``job.result``), failed with the error when it raises (the error propagates)."""
    job = queue_job(kind=kind, acting_user=acting_user)
    start_job(job.pk)
    try:
        yield job
    except Exception as error:
        fail_job(job.pk, error=str(error) or type(error).__name__)
        raise
    finish_job(job.pk, result=job.result)

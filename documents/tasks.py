"""Celery tasks of the documents: thin, calling the services."""

from __future__ import annotations

from celery import shared_task

from documents import portability


@shared_task(name="documents.build_portability_export")
def build_portability_export(job_id: int) -> str:
    """Build the archive of a queued portability export; a duplicate delivery finds it no longer queued."""
    job = portability.build(job_id)
    return job.state if job else "nothing to do"

"""Celery task of the directory synchronisation: thin, it calls the service."""

from __future__ import annotations

from celery import shared_task

from dpi.accounts.sync import run_directory_sync
from dpi.models import DirectorySyncRun


@shared_task(name="dpi.sync_directory")
def sync_directory(run_id: int | None = None) -> None:
    """Run a queued synchronisation (the admin's button) or, from beat, a new one."""
    run = DirectorySyncRun.objects.filter(pk=run_id).first() if run_id else None
    run_directory_sync(run=run)

"""Celery task of the indicators: keep the per-document outcomes fresh, so a computation finds little
to refresh."""

from __future__ import annotations

from celery import shared_task

from stats.services import refresh_outcomes


@shared_task(name="stats.refresh_outcomes")
def refresh_document_outcomes() -> int:
    """Beat's sweep: recompute the outcomes of the documents saved since the last refresh."""
    return refresh_outcomes()

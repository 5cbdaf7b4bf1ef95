"""Background jobs of the directory: the extract's loads and their schedule (ANN/va1.01, va1.04)."""

from __future__ import annotations

from celery import shared_task

from directory.models import DirectoryLoad
from directory.services.directory_load import run_load
from directory.services.directory_schedule import start_due_load


@shared_task(name="directory.load_extract")
def load_directory_extract(load_id: int) -> None:
    """Run or resume one load (idempotent: a finished load is left as it is)."""
    load = DirectoryLoad.objects.filter(pk=load_id).first()
    if load is not None:
        run_load(load)


@shared_task(name="directory.start_due_load")
def start_due_directory_load() -> None:
    """Beat's sweep: start the scheduled load when the administrator's interval has passed."""
    start_due_load()

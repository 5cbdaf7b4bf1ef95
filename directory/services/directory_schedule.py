"""The administrator's schedule of the extract's loads (ANN/va1.04): beat sweeps, this decides."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from directory.models import DirectoryLoad, DirectorySchedule
from directory.services.directory_load import request_load


@transaction.atomic
def start_due_load() -> DirectoryLoad | None:
    """Queue a scheduled load when the schedule is on, none is pending or running, and the last scheduled
    one was requested at least ``every_hours`` ago."""
    schedule = DirectorySchedule.objects.select_for_update().first()
    if schedule is None or not schedule.enabled:
        return None
    unfinished = (DirectoryLoad.Status.PENDING, DirectoryLoad.Status.RUNNING)
    if DirectoryLoad.objects.filter(status__in=unfinished).exists():
        return None
    last = DirectoryLoad.objects.filter(trigger=DirectoryLoad.Trigger.SCHEDULE).order_by("-created_at").first()
    if last and last.created_at > timezone.now() - timedelta(hours=schedule.every_hours):
        return None
    return request_load(path=schedule.path, acting_user=None, trigger=DirectoryLoad.Trigger.SCHEDULE)

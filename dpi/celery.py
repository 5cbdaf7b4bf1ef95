"""Celery application: configuration comes from Django settings (``CELERY_*``)."""

import os
from typing import Any

from celery import Celery, Task

from dpi.audit_context import bind

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dpi.settings")


class AuditedTask(Task):
    """Every task run is one unit of work: its audit rows share one request id (:mod:`dpi.audit_context`)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with bind():
            return super().__call__(*args, **kwargs)


app = Celery("dpi", task_cls=AuditedTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

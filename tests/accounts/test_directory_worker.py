"""The directory synchronisation asked from the admin runs on a real Celery worker (Redis broker), and beat
schedules it when a directory is configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from dpi.models import DirectorySyncRun, User
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_button_queues_a_run_that_the_worker_executes(directory, worker, admin_client):  # noqa: F811
    directory.add_person("jdupont", "Dupont", "Jeanne")
    admin_client.post("/admin/dpi/directorysyncrun/synchroniser/")
    run = DirectorySyncRun.objects.get()
    wait_until(lambda: DirectorySyncRun.objects.get(pk=run.pk).status == DirectorySyncRun.Status.DONE)
    assert User.objects.filter(username="jdupont", private_id__isnull=False).exists()


def _beat_schedule(**environment: str) -> dict:
    code = "import json, django; django.setup(); from django.conf import settings; " \
           "print(json.dumps(settings.CELERY_BEAT_SCHEDULE.get('directory-sync')))"  # fmt: skip
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dpi.settings", **environment}
    result = subprocess.run(  # noqa: S603  (our own interpreter and settings)
        [sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_beat_synchronises_every_configured_minutes_only_when_a_directory_is_configured():
    assert _beat_schedule(DIRECTORY_LDAP_URL="") is None
    schedule = _beat_schedule(DIRECTORY_LDAP_URL="ldaps://annuaire.chu.test", DIRECTORY_SYNC_MINUTES="30")
    assert schedule == {"task": "dpi.sync_directory", "schedule": 1800.0}

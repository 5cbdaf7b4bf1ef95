"""The job row of long work (directory loads and synchronisations, exports): lifecycle, and what the UI shows."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from directory.services.directory_load import request_load, run_load
from documents import portability
from documents.models import PortabilityExport
from dpi.accounts.sync import request_directory_sync, run_directory_sync
from dpi.audit_context import bind
from dpi.jobs import fail_job, finish_job, queue_job, report_progress, run_as_job, start_job
from dpi.models import Job
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


def _reloaded(job: Job) -> Job:
    job.refresh_from_db()
    return job


def test_a_job_goes_from_queued_to_running_to_failed_then_done_counting_its_attempts(admin_user):
    with bind() as request_id:
        job = queue_job(kind=Job.Kind.DIRECTORY_LOAD, acting_user=admin_user)
    assert (job.status, job.attempts, job.request_id, job.acting_user) == ("queued", 0, request_id, admin_user)
    start_job(job.pk)
    report_progress(job.pk, done=40, total=100)
    job = _reloaded(job)
    assert (job.status, job.attempts, job.done, job.total) == ("running", 1, 40, 100)
    assert job.started_at is not None and job.is_active
    fail_job(job.pk, error="Connexion refusée")
    job = _reloaded(job)
    assert (job.status, job.last_error, job.is_active) == ("failed", "Connexion refusée", False)
    start_job(job.pk)  # delivered again
    assert (_reloaded(job).attempts, job.last_error) == (2, "")
    finish_job(job.pk, result={"lines": 100})
    job = _reloaded(job)
    assert (job.status, job.result, job.finished_at is not None) == ("done", {"lines": 100}, True)


def test_work_done_in_the_request_is_a_job_that_fails_with_the_error_it_raised(admin_user):
    with pytest.raises(ZeroDivisionError), run_as_job(kind=Job.Kind.STATS_EXPORT, acting_user=admin_user):
        1 / 0  # noqa: B018
    with run_as_job(kind=Job.Kind.STATS_EXPORT, acting_user=admin_user) as job:
        job.result = {"rows": 3}
    failed, done = Job.objects.order_by("pk")
    assert (failed.status, failed.attempts, failed.last_error) == ("failed", 1, "division by zero")
    assert (done.status, done.result) == ("done", {"rows": 3})


def test_an_ldap_synchronisation_that_cannot_reach_the_directory_fails_its_job(settings, admin_user):
    settings.DIRECTORY_LDAP_URL = ""
    run = run_directory_sync(run=request_directory_sync(acting_user=admin_user))
    job = run.job
    job.refresh_from_db()
    assert (job.kind, job.status, job.attempts, job.acting_user) == ("directory_sync", "failed", 1, admin_user)
    assert job.last_error == run.error == "DIRECTORY_LDAP_URL n'est pas configuré."


def test_a_directory_load_of_a_missing_file_fails_its_job(admin_user, tmp_path):
    load = run_load(request_load(path=str(tmp_path / "absent.txt"), acting_user=admin_user))
    job = _reloaded(load.job)
    assert (job.kind, job.status, job.attempts) == ("directory_load", "failed", 1)
    assert "absent.txt" in job.last_error and job.last_error == load.error


def test_a_portability_export_asked_in_the_admin_has_a_job_that_follows_it(client, settings, tmp_path, admin_user):
    settings.VAR_DIR = tmp_path
    client.force_login(admin_user)
    form = {"period_start": "2025-03-01", "period_end": "2025-03-31", "versions": "all", "origin": "all"}
    assert client.post(reverse("admin:documents_portabilityexport_add"), form).status_code == 302
    export = PortabilityExport.objects.get()
    assert (export.job.kind, export.job.status, export.job.acting_user) == ("portability_export", "queued", admin_user)
    portability.build(export.pk)
    job = _reloaded(export.job)
    assert (job.status, job.attempts, job.done, job.total) == ("done", 1, 0, 0)
    assert job.result["file"].startswith(f"dpi-export-{export.pk}-")


def test_a_failed_portability_export_fails_its_job(settings, tmp_path, admin_user):
    settings.VAR_DIR = tmp_path
    (tmp_path / "exports").write_text("not a directory")
    job = queue_job(kind=Job.Kind.PORTABILITY_EXPORT, acting_user=admin_user)
    export = PortabilityExport.objects.create(period_start=date(2025, 3, 1), period_end=date(2025, 3, 31), job=job)
    portability.build(export.pk)
    assert (_reloaded(job).status, "exports" in job.last_error) == ("failed", True)


def test_the_jobs_admin_lists_a_failed_job_with_its_error_and_is_read_only(client, admin_user):
    job = queue_job(kind=Job.Kind.DIRECTORY_SYNC, acting_user=admin_user)
    start_job(job.pk)
    fail_job(job.pk, error="Annuaire injoignable")
    client.force_login(admin_user)
    page = client.get(reverse("admin:dpi_job_changelist")).content.decode()
    assert "Annuaire injoignable" in page and "échec" in page
    assert client.get(reverse("admin:dpi_job_add")).status_code == 403


def test_the_indicators_page_shows_the_users_failed_export_with_its_error(client):
    manager = UserFactory(is_staff=True)
    manager.user_permissions.add(Permission.objects.get(codename="view_indicators"))
    other = queue_job(kind=Job.Kind.STATS_EXPORT, acting_user=UserFactory())
    fail_job(other.pk, error="pas le mien")
    mine = queue_job(kind=Job.Kind.STATS_EXPORT, acting_user=manager)
    start_job(mine.pk)
    fail_job(mine.pk, error="Calcul interrompu")
    client.force_login(manager)
    page = client.get(reverse("stats:index")).content.decode()
    assert 'data-testid="job-failed"' in page and "Calcul interrompu" in page and "pas le mien" not in page
    assert "hx-get" not in page.split('data-testid="jobs"')[1].split(">")[0]  # nothing under way: no poll


def test_an_export_under_way_is_polled_until_it_ends(client):
    manager = UserFactory(is_staff=True)
    manager.user_permissions.add(Permission.objects.get(codename="view_indicators"))
    job = queue_job(kind=Job.Kind.STATS_EXPORT, acting_user=manager)
    client.force_login(manager)
    fragment = client.get(reverse("stats:exports")).content.decode()
    assert f'hx-get="{reverse("stats:exports")}"' in fragment and "en attente" in fragment
    finish_job(job.pk, result={"file": "indicateurs.csv"})
    fragment = client.get(reverse("stats:exports")).content.decode()
    assert "hx-get" not in fragment and "indicateurs.csv" in fragment


def test_downloading_the_indicators_records_a_done_export(client):
    manager = UserFactory(is_staff=True)
    manager.user_permissions.add(Permission.objects.get(codename="view_indicators"))
    client.force_login(manager)
    response = client.get(reverse("stats:indicators_csv"), {"periode": "mois", "mois": "2025-03"})
    assert response.status_code == 200, response.content[:300]
    job = Job.objects.get(kind=Job.Kind.STATS_EXPORT)
    assert (job.status, job.acting_user, job.result["file"]) == ("done", manager, response["Content-Disposition"]
            .split('filename="')[1].rstrip('"'))  # fmt: skip

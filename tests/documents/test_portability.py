"""Portability export (REM PORT/va1.01): the archive holds exactly what was asked, byte for byte, with
an index that names and hashes every file; asked for, followed and downloaded in the admin by an
administrator only, built by a real Celery worker, and a failure is reported, never half-offered."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from documents import portability
from documents.models import Document, DocumentVersion, PortabilityExport, Provenance, Status
from documents.tasks import build_portability_export
from dpi.models import AuditEvent
from patients.models import IdentityStatus
from tests.factories import PatientFactory, UserFactory
from tests.support.waiting import wait_until

LIST = "admin:documents_portabilityexport_changelist"
ADD = "admin:documents_portabilityexport_add"
DOWNLOAD = "admin:documents_portabilityexport_download"
STATE = "admin:documents_portabilityexport_state"


@pytest.fixture(autouse=True)
def exports_in_tmp(settings, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path / "exports"


def at(day: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(f"{day}T10:00"))


def make_document(patient, *, day: str, versions: int = 1, provenance: str = Provenance.PRODUCED,
                  type_code: str = "11490-0", title: str = "Lettre de liaison") -> Document:  # fmt: skip
    """A document with ``versions`` versions whose CDA and PDF bytes are distinct and known."""
    document = Document.objects.create(
        patient=patient, set_id=f"1.2.3.{patient.pk}.{title}.{day}", type_code=type_code,
        type_label=f"Type {type_code}", title=title, act_date=at(day), provenance=provenance, status=Status.VALIDATED,
    )  # fmt: skip
    previous = None
    for number in range(1, versions + 1):
        previous = DocumentVersion.objects.create(
            document=document, version_number=number, cda_id_root=f"{document.set_id}.{number}", replaces=previous,
            cda=f"<ClinicalDocument n='{document.pk}.{number}'/>\n".encode(), pdf=b"%PDF-1.7 " + bytes([number]) * 9,
            validated_at=at(day),
        )  # fmt: skip
    document.current_version = previous
    document.save(update_fields=["current_version"])
    return document


def export(**fields: object) -> PortabilityExport:
    """A job built synchronously, as the worker's task does."""
    fields = {"period_start": date(2025, 3, 1), "period_end": date(2025, 3, 31), **fields}
    job = PortabilityExport.objects.create(**fields)
    return portability.build(job.pk)


def archive(job: PortabilityExport) -> zipfile.ZipFile:
    return zipfile.ZipFile(portability.archive_path(job))


def index(job: PortabilityExport) -> list[dict[str, str]]:
    with archive(job) as zipped:
        text = zipped.read(f"dpi-export-{job.pk}/index.csv").decode()
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def exported(job: PortabilityExport) -> set[tuple[int, int]]:
    return {(int(row["document_id"]), int(row["version"])) for row in index(job)}


@pytest.fixture
def patient(db):
    return PatientFactory(
        ins="279035121518989", ins_oid="1.2.250.1.213.1.4.10", identity_status=IdentityStatus.QUALIFIEE,
        birth_name="PAT-TROIS", first_names="DOMINIQUE", birth_date=date(1979, 3, 5), sex="F",
        birth_place_insee="63220",
    )  # fmt: skip


@pytest.fixture
def files(patient):
    """In March 2025: a letter corrected once, a received MSSanté report, a produced operative report; and a
    letter of February (out of the period)."""
    return {
        "corrected": make_document(patient, day="2025-03-03", versions=2),
        "received": make_document(
            patient, day="2025-03-31", provenance=Provenance.MSS, type_code="11488-4", title="CR reçu"
        ),  # fmt: skip
        "operative": make_document(patient, day="2025-03-01", type_code="34874-8", title="CR opératoire"),
        "february": make_document(patient, day="2025-02-28", title="Ancienne lettre"),
    }


def test_the_archive_holds_the_current_version_of_each_document_of_the_period_byte_for_byte(files):
    job = export()
    assert job.state == PortabilityExport.State.DONE
    assert exported(job) == {(files["corrected"].pk, 2), (files["received"].pk, 1), (files["operative"].pk, 1)}
    with archive(job) as zipped:
        for row in index(job):
            version = DocumentVersion.objects.get(document_id=row["document_id"], version_number=row["version"])
            cda, pdf = zipped.read(row["cda_chemin"]), zipped.read(row["pdf_chemin"])
            assert cda == bytes(version.cda) and pdf == bytes(version.pdf)
            assert row["cda_sha256"] == hashlib.sha256(cda).hexdigest()
            assert row["pdf_sha256"] == hashlib.sha256(pdf).hexdigest()
            assert row["cda_chemin"].endswith(f"/{row['document_id']}-{row['type_code']}/v{row['version']}.xml")
    assert (job.done, job.total) == (3, 3)
    assert job.size == portability.archive_path(job).stat().st_size
    assert job.sha256 == hashlib.sha256(portability.archive_path(job).read_bytes()).hexdigest()


def test_every_version_is_exported_when_asked_and_the_current_one_is_marked(files):
    job = export(versions=PortabilityExport.Versions.ALL)
    rows = {(int(row["document_id"]), int(row["version"])): row["version_courante"] for row in index(job)}
    assert rows[(files["corrected"].pk, 1)] == "non"
    assert rows[(files["corrected"].pk, 2)] == "oui"
    assert len(rows) == 4


def test_provenance_and_types_narrow_the_export(files):
    produced = export(origin=PortabilityExport.Origin.PRODUCED)
    assert exported(produced) == {(files["corrected"].pk, 2), (files["operative"].pk, 1)}
    received = export(origin=PortabilityExport.Origin.RECEIVED)
    assert exported(received) == {(files["received"].pk, 1)}
    typed = export(type_codes=["34874-8", "11488-4"])
    assert exported(typed) == {(files["received"].pk, 1), (files["operative"].pk, 1)}


def test_the_index_names_the_patient_by_ins_its_nature_and_birth_traits(files):
    row = next(row for row in index(export()) if int(row["document_id"]) == files["received"].pk)
    assert {key: row[key] for key in ("ins", "ins_nature", "statut_identite", "nom_naissance", "prenoms_naissance",
                                      "date_naissance", "sexe", "lieu_naissance_insee")} == {
        "ins": "279035121518989", "ins_nature": "INS-NIR de test", "statut_identite": "Identité qualifiée",
        "nom_naissance": "PAT-TROIS", "prenoms_naissance": "DOMINIQUE", "date_naissance": "1979-03-05", "sexe": "F",
        "lieu_naissance_insee": "63220",
    }  # fmt: skip
    assert (row["provenance"], row["type_code"], row["set_id"]) == ("mss", "11488-4", files["received"].set_id)
    assert row["date_acte"].startswith("2025-03-31T10:00")


def test_the_json_index_lists_the_same_items_with_what_was_asked(files):
    job = export(origin=PortabilityExport.Origin.PRODUCED)
    with archive(job) as zipped:
        data = json.loads(zipped.read(f"dpi-export-{job.pk}/index.json"))
    assert (data["export"], data["provenance"], data["nombre_elements"]) == (job.pk, "produced", 2)
    assert [item["cda_sha256"] for item in data["elements"]] == [row["cda_sha256"] for row in index(job)]


def test_a_title_typed_as_a_formula_is_neutralised_in_the_csv_index(patient):
    make_document(patient, day="2025-03-10", title='=HYPERLINK("http://x")')
    (row,) = index(export())
    assert row["titre"] == '\'=HYPERLINK("http://x")'


def test_an_empty_period_gives_an_archive_with_an_empty_index(files):
    job = export(period_start=date(2024, 1, 1), period_end=date(2024, 12, 31))
    assert (job.state, job.total, index(job)) == (PortabilityExport.State.DONE, 0, [])


def test_a_validated_letter_is_exported_with_its_cda_and_pdf(qualified_episode, letter):  # noqa: F811
    document = letter(qualified_episode)
    day = timezone.localdate(document.act_date)
    job = export(period_start=day, period_end=day)
    (row,) = index(job)
    with archive(job) as zipped:
        assert zipped.read(row["cda_chemin"]) == bytes(document.current_version.cda)
        assert zipped.read(row["pdf_chemin"]).startswith(b"%PDF")
    assert row["ins_nature"] == "INS-NIR de test"


def test_a_failure_leaves_the_job_failed_with_its_reason_and_no_archive(files, exports_in_tmp, monkeypatch):
    writes = []

    def disk_full(self, name, mode="r", **kwargs):  # the disk fills up on the third file written
        if mode == "w":
            writes.append(name)
            if len(writes) == 3:
                raise OSError(28, "No space left on device")
        return real_open(self, name, mode, **kwargs)

    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", disk_full)
    job = export()
    assert job.state == PortabilityExport.State.FAILED
    assert "No space left on device" in job.error
    assert (job.file_name, job.finished_at is not None) == ("", True)
    assert list(exports_in_tmp.iterdir()) == []  # no archive, no .part, no work files


def test_an_unusable_export_directory_fails_the_job(files, exports_in_tmp):
    exports_in_tmp.write_text("not a directory")
    job = export()
    assert job.state == PortabilityExport.State.FAILED
    assert "exports" in job.error


def test_a_job_that_is_no_longer_queued_is_not_built_again(files):
    job = export()
    assert build_portability_export(job.pk) == "nothing to do"
    running = PortabilityExport.objects.create(
        period_start=date(2025, 3, 1), period_end=date(2025, 3, 31), state=PortabilityExport.State.RUNNING,
        progressed_at=timezone.now(),
    )  # fmt: skip
    assert build_portability_export(running.pk) == "nothing to do"  # a duplicate delivery while it runs
    running.refresh_from_db()
    assert running.state == PortabilityExport.State.RUNNING


def test_a_job_interrupted_by_a_dead_worker_fails_when_its_task_comes_back(files, exports_in_tmp):
    job = PortabilityExport.objects.create(
        period_start=date(2025, 3, 1), period_end=date(2025, 3, 31), state=PortabilityExport.State.RUNNING,
        progressed_at=timezone.now() - portability.STALE - timedelta(minutes=1), total=3, done=1,
    )  # fmt: skip
    exports_in_tmp.mkdir()
    (exports_in_tmp / f"dpi-export-{job.pk}-20250301-100000.zip.part").write_bytes(b"PK half")
    assert build_portability_export(job.pk) == PortabilityExport.State.FAILED
    job.refresh_from_db()
    assert (job.error, job.file_name) == (portability.INTERRUPTED, "")
    assert list(exports_in_tmp.iterdir()) == []


# --- the admin ---------------------------------------------------------------------------------------


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(db) -> Client:
    return client_for(UserFactory(is_staff=True, is_superuser=True))


def test_only_superusers_and_holders_of_the_dedicated_permission_reach_the_exports(files):
    job = export()
    staff = UserFactory(is_staff=True)
    urls = [reverse(LIST), reverse(ADD), reverse(DOWNLOAD, args=[job.pk]), reverse(STATE, args=[job.pk])]
    assert [client_for(staff).get(url).status_code for url in urls] == [403, 403, 403, 403]
    assert client_for(UserFactory()).get(reverse(LIST)).status_code == 302  # not staff: to the login page
    staff.user_permissions.add(Permission.objects.get(codename="run_portability_export"))
    assert [client_for(staff).get(url).status_code for url in urls] == [200, 200, 200, 200]


def test_the_download_is_the_archive_and_is_audited_with_what_was_exported(files, admin_client):
    make_document(PatientFactory(ins=""), day="2025-03-15")  # a patient without INS: no INS row
    job = export(origin=PortabilityExport.Origin.PRODUCED)
    response = admin_client.get(reverse(DOWNLOAD, args=[job.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == portability.archive_path(job).read_bytes()
    assert response["Content-Disposition"] == f'attachment; filename="{job.file_name}"'
    event = AuditEvent.objects.get(action=AuditEvent.Action.TRACE_EXPORT, change="downloaded")
    assert {key: event.detail[key] for key in ("portability_export", "origin", "since", "until", "rows", "sha256")} == {
        "portability_export": job.pk, "origin": "produced", "since": "2025-03-01", "until": "2025-03-31", "rows": 3,
        "sha256": job.sha256,
    }  # fmt: skip
    ins = AuditEvent.objects.get(action=AuditEvent.Action.INS_EXPORT)  # the one patient with an INS
    assert (ins.patient_id, ins.detail["ins"], ins.detail["channel"]) == (files["corrected"].patient_id,
                                                                          "279035121518989", "admin")  # fmt: skip


def test_a_failed_or_unfinished_export_offers_nothing_to_download(files, admin_client):
    queued = PortabilityExport.objects.create(period_start=date(2025, 3, 1), period_end=date(2025, 3, 31))
    assert admin_client.get(reverse(DOWNLOAD, args=[queued.pk])).status_code == 404
    state = admin_client.get(reverse(STATE, args=[queued.pk])).content.decode()
    assert 'hx-trigger="every 3s"' in state and "Télécharger" not in state
    assert not AuditEvent.objects.filter(change="downloaded").exists()


def test_the_list_shows_progress_and_the_link_of_a_finished_export(files, admin_client):
    job = export()
    page = admin_client.get(reverse(LIST)).content.decode()
    assert "Terminé : 3 / 3 versions" in page
    assert reverse(DOWNLOAD, args=[job.pk]) in page
    assert 'hx-trigger="every 3s"' not in page  # nothing left to follow


def test_a_reversed_period_is_refused(admin_client):
    form = {"period_start": "2025-03-31", "period_end": "2025-03-01", "versions": "current", "origin": "all"}
    response = admin_client.post(reverse(ADD), form)
    assert "La date de début est après la date de fin." in response.content.decode()
    assert not PortabilityExport.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_export_asked_in_the_admin_is_built_by_the_worker_and_downloaded(files, worker):  # noqa: F811
    user = UserFactory(is_staff=True, is_superuser=True)
    client = client_for(user)
    form = {"period_start": "2025-03-01", "period_end": "2025-03-31", "versions": "all", "origin": "all",
            "type_codes": ["11490-0"]}  # fmt: skip
    assert client.post(reverse(ADD), form).status_code == 302
    job = PortabilityExport.objects.get()
    wait_until(lambda: not PortabilityExport.objects.get(pk=job.pk).is_active)
    job.refresh_from_db()
    assert (job.state, job.requested_by, job.done, job.total) == (PortabilityExport.State.DONE, user, 2, 2)
    assert exported(job) == {(files["corrected"].pk, 1), (files["corrected"].pk, 2)}
    requested = AuditEvent.objects.get(action=AuditEvent.Action.TRACE_EXPORT, change="requested")
    assert (requested.actor, requested.detail["types"]) == (user, ["11490-0"])
    assert client.get(reverse(DOWNLOAD, args=[job.pk])).status_code == 200

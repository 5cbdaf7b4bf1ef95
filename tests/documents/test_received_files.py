"""A received PDF that is not a CDA, filed by hand (issue 14's "documents non CDA intégrés manuellement")."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from documents.models import Document, Provenance
from dpi.models import AuditEvent
from sandbox.mss_push import MINIMAL_PDF
from stats.indicators import Period, compute
from stats.indicators.received import NON_CDA
from tests.factories import CareUnitFactory, EpisodeFactory

pytestmark = pytest.mark.django_db
LETTER = "11490-0"


@pytest.fixture
def episode(care_unit):
    return EpisodeFactory(care_unit=care_unit)


def _post(client, patient, data: bytes, **fields):
    upload = SimpleUploadedFile("courrier.pdf", data, content_type="application/pdf")
    values = {"title": "Courrier du cardiologue", "type_code": LETTER, "received_by_mss": "on", **fields}
    return client.post(reverse("documents:import_file", args=[patient.pk]), {"file": upload, **values})


def test_a_pdf_received_by_mssante_is_filed_shown_and_counted(client, episode, doctor, care_unit):
    client.force_login(doctor)

    response = _post(client, episode.patient, MINIMAL_PDF)

    document = Document.objects.get()
    assert response["Location"] == reverse("documents:detail", args=[document.pk])
    assert (document.provenance, document.type_code, document.status) == (Provenance.MSS, LETTER, "validated")
    assert bytes(document.current_version.pdf) == MINIMAL_PDF and not document.current_version.cda
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="pdf-frame"' in page and 'data-testid="tab-cda"' not in page
    assert client.get(reverse("documents:cda", args=[document.pk, 1])).status_code == 404
    assert AuditEvent.objects.filter(change="file_integrated", patient_id=episode.patient.pk).exists()
    today = timezone.localdate()
    rows = [r for r in compute(Period.from_dates(today.replace(day=1), today)) if r.code == NON_CDA]
    assert [(r.finess, r.type_code, r.numerator) for r in rows] == [(care_unit.site.finess_eg, LETTER, 1)]


def test_a_pdf_not_received_by_mssante_is_filed_but_not_counted(client, episode, doctor):
    client.force_login(doctor)

    _post(client, episode.patient, MINIMAL_PDF, received_by_mss="")

    assert Document.objects.get().provenance == Provenance.MANUAL
    today = timezone.localdate()
    assert not [r for r in compute(Period.from_dates(today.replace(day=1), today)) if r.code == NON_CDA]


@pytest.mark.parametrize(
    "data",
    [b"<html>not a pdf</html>", b"%PDF-1.4 truncated", b"\x00" * 10],
    ids=["html", "truncated", "binary"],
)
def test_a_file_that_is_not_a_complete_pdf_is_refused_and_nothing_is_filed(client, episode, doctor, data):
    client.force_login(doctor)

    response = _post(client, episode.patient, data)

    assert response.status_code == 200 and "seuls les documents PDF" in response.content.decode()
    assert not Document.objects.exists()


def test_a_user_of_another_unit_cannot_file_in_the_patients_file(client, doctor):
    other = EpisodeFactory(care_unit=CareUnitFactory())
    client.force_login(doctor)

    assert _post(client, other.patient, MINIMAL_PDF).status_code == 403
    assert not Document.objects.exists()

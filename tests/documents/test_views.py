"""Documents in the patient file: one line per document, filters and sorts, writing and validating,
the viewer (PDF first), corrections and deletions, habilitations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from documents.models import Channel, Document, DocumentVersion, ExportState, ExportStatus, Provenance, Status
from dpi.models import AuditEvent
from tests.factories import EpisodeFactory

pytestmark = pytest.mark.django_db

FORM = {
    "title": "Lettre de liaison",
    "act_date": "2026-11-20T10:00",
    "motif": "Cholécystite",
    "synthese": "Cholécystectomie sans complication.",
    "modalite_entree": "urgence",
    "modalite_sortie": "domicile",
    "recherche_bmr": "non",
    "transfusion": "non",
    "derives_sang": "non",
    "traitements": "Paracétamol 1 g ; si douleur ; 5 jours",
    "suites": "Consultation à 1 mois",
}


@pytest.fixture
def episode(care_unit):
    return EpisodeFactory(care_unit=care_unit)


def _document(episode, **values) -> Document:
    defaults = {
        "patient": episode.patient,
        "episode": episode,
        "set_id": "1.2.3",
        "type_code": "11490-0",
        "type_label": "Lettre de liaison",
        "title": "Lettre",
        "act_date": timezone.now(),
        "provenance": Provenance.PRODUCED,
        "status": Status.VALIDATED,
    }
    return Document.objects.create(**{**defaults, **values})


def test_writing_then_validating_a_letter_shows_it_in_the_list_with_provenance(client, doctor, episode):
    client.force_login(doctor)
    url = reverse("documents:new", args=[episode.patient.pk, "11490-0"])
    response = client.post(url, {**FORM, "validate": "1"})
    document = Document.objects.get()
    assert response.status_code == 302 and response.url == reverse("documents:detail", args=[document.pk])
    assert document.status == Status.VALIDATED and document.current_version.version_number == 1
    listing = client.get(reverse("documents:list", args=[episode.patient.pk])).content.decode()
    assert listing.count('data-testid="document-row"') == 1
    assert "Produit dans le DPI" in listing and "Lettre de liaison" in listing


def test_saving_a_draft_keeps_it_editable_and_validation_reports_missing_fields(client, doctor, episode):
    client.force_login(doctor)
    client.post(reverse("documents:new", args=[episode.patient.pk, "11490-0"]), {**FORM, "synthese": ""})
    document = Document.objects.get()
    assert document.status == Status.DRAFT
    response = client.post(reverse("documents:edit", args=[document.pk]), {**FORM, "synthese": "", "validate": "1"},
                           follow=True)  # fmt: skip
    assert "Synthèse du séjour" in response.content.decode()
    document.refresh_from_db()
    assert document.status == Status.DRAFT


def test_viewer_opens_on_the_pdf_and_serves_it(client, doctor, episode):
    client.force_login(doctor)
    client.post(reverse("documents:new", args=[episode.patient.pk, "11490-0"]), {**FORM, "validate": "1"})
    document = Document.objects.get()
    page = client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    assert 'data-testid="pdf-frame"' in page and 'data-testid="cda-frame"' not in page
    pdf = client.get(reverse("documents:pdf", args=[document.pk, 1]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_correction_creates_version_2_and_both_versions_are_reachable(client, doctor, episode):
    client.force_login(doctor)
    client.post(reverse("documents:new", args=[episode.patient.pk, "11490-0"]), {**FORM, "validate": "1"})
    document = Document.objects.get()
    client.post(reverse("documents:correct", args=[document.pk]))
    client.post(
        reverse("documents:edit", args=[document.pk]), {**FORM, "suites": "Consultation à 15 jours", "validate": "1"}
    )
    page = client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    assert "v2 (actuelle)" in page and "?version=1" in page
    assert client.get(reverse("documents:pdf", args=[document.pk, 1])).status_code == 200


def test_deleted_document_stays_listed_as_deleted(client, doctor, episode):
    document = _document(episode)
    client.force_login(doctor)
    client.post(reverse("documents:delete", args=[document.pk]))
    listing = client.get(reverse("documents:list", args=[episode.patient.pk])).content.decode()
    assert "doc-deleted" in listing and "Supprimé" in listing


def test_list_sorts_by_type_and_by_date_and_filters(client, doctor, episode):
    now = timezone.now()
    _document(episode, title="Ancienne lettre", act_date=now - timedelta(days=30))
    _document(episode, title="CR récent", type_code="34874-8", type_label="Compte rendu opératoire", act_date=now)
    _document(episode, title="Reçu MSS", provenance=Provenance.MSS, act_date=now - timedelta(days=2))
    client.force_login(doctor)
    url = reverse("documents:list", args=[episode.patient.pk])

    def titles(**params: str) -> list[str]:
        return [d.title for d in client.get(url, params).context["documents"]]

    assert titles() == ["CR récent", "Reçu MSS", "Ancienne lettre"]
    assert titles(sort="type") == ["CR récent", "Reçu MSS", "Ancienne lettre"]  # by label, then newest first
    assert titles(sort="date_asc") == ["Ancienne lettre", "Reçu MSS", "CR récent"]
    assert titles(type="34874-8") == ["CR récent"]
    assert titles(provenance="mss") == ["Reçu MSS"]
    since = (now - timedelta(days=7)).date().isoformat()
    assert titles(**{"from": since}) == ["CR récent", "Reçu MSS"]
    assert titles(**{"from": "not-a-date", "sort": "bogus"}) == ["CR récent", "Reçu MSS", "Ancienne lettre"]


def test_export_status_per_channel_is_shown_on_the_line(client, doctor, episode):
    document = _document(episode)
    ExportStatus.objects.create(document=document, channel=Channel.DMP, state=ExportState.ACKNOWLEDGED)
    ExportStatus.objects.create(document=document, channel=Channel.MSS_PRO, recipient="dr@x.mssante.fr",
                                state=ExportState.FAILED, reason="Boîte inconnue")  # fmt: skip
    client.force_login(doctor)
    row = client.get(reverse("documents:list", args=[episode.patient.pk])).content.decode()
    assert "DMP : Accusé de réception" in row and "MSSanté professionnels : Échec" in row


def test_documents_of_a_patient_outside_ones_units_are_refused(client, doctor):
    other = EpisodeFactory()
    document = _document(other)
    client.force_login(doctor)
    assert client.get(reverse("documents:list", args=[other.patient.pk])).status_code == 403
    assert client.get(reverse("documents:detail", args=[document.pk])).status_code == 403
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_REFUSED, patient_id=other.patient.pk).exists()
    assert client.get(reverse("documents:new", args=[other.patient.pk, "11490-0"])).status_code == 403


def test_list_query_count_does_not_grow_with_documents(client, doctor, episode, django_assert_max_num_queries):
    for n in range(30):
        document = _document(episode, title=f"Doc {n}")
        ExportStatus.objects.create(document=document, channel=Channel.DMP, state=ExportState.SENT)
    client.force_login(doctor)
    url = reverse("documents:list", args=[episode.patient.pk])
    client.get(url)
    with django_assert_max_num_queries(20):  # 19, and the audit row of a reading outside an audited page
        client.get(url)


def test_cda_view_is_sanitised_html_under_a_sandboxing_policy(client, doctor, episode):
    client.force_login(doctor)
    client.post(reverse("documents:new", args=[episode.patient.pk, "11490-0"]), {**FORM, "validate": "1"})
    document = Document.objects.get()
    page = client.get(reverse("documents:detail", args=[document.pk]), {"vue": "cda"}).content.decode()
    assert 'sandbox=""' in page and 'data-testid="cda-frame"' in page
    rendered = client.get(reverse("documents:cda", args=[document.pk, 1]), {"stylesheet": "../../etc"})
    policy = rendered["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script-src" not in policy
    assert "<script" not in rendered.content.decode().lower()
    assert "Lettre de liaison" in rendered.content.decode()


def test_long_lists_come_a_page_at_a_time(client, doctor, episode):
    from documents.views import PAGE_SIZE

    now = timezone.now()
    for n in range(PAGE_SIZE + 30):
        _document(episode, title=f"Doc {n:03d}", act_date=now - timedelta(hours=n))
    client.force_login(doctor)
    url = reverse("documents:list", args=[episode.patient.pk])
    first = client.get(url).content.decode()
    assert first.count('data-testid="document-row"') == PAGE_SIZE and 'data-testid="more-documents"' in first
    rest = client.get(url, {"shown": PAGE_SIZE}).content.decode()
    assert rest.count('data-testid="document-row"') == 30 and "more-documents" not in rest
    assert f"Doc {PAGE_SIZE + 29:03d}" in rest and "Doc 000" in first


def test_period_filter_includes_the_whole_last_day_in_paris_time(client, doctor, episode):
    late = timezone.make_aware(timezone.datetime(2026, 3, 10, 23, 30))
    _document(episode, title="Tard le 10", act_date=late)
    client.force_login(doctor)
    url = reverse("documents:list", args=[episode.patient.pk])
    assert [d.title for d in client.get(url, {"from": "2026-03-10", "to": "2026-03-10"}).context["documents"]] == [
        "Tard le 10"
    ]
    assert client.get(url, {"from": "2026-03-11"}).context["documents"] == []


def test_the_document_page_costs_the_same_queries_for_1_or_6_versions(client, doctor, episode):
    """A fixed number of queries (issue 18 §4): versions, export lines and sendings read in bulk."""
    document = _document(episode)
    client.force_login(doctor)
    url = reverse("documents:detail", args=[document.pk])

    def add_versions(numbers: range) -> int:
        for number in numbers:
            document.current_version = DocumentVersion.objects.create(
                document=document, version_number=number, cda_id_root=f"1.2.3.{number}", pdf=b"%PDF-1.4"
            )
            ExportStatus.objects.create(document=document, channel=Channel.MSS_PRO, recipient=f"r{number}@x.fr")
        document.save(update_fields=["current_version"])
        client.get(url)  # warm: the session and permission caches
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    assert add_versions(range(1, 2)) == add_versions(range(2, 7))

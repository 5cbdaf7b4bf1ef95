"""The recipients a document names (HOP/va1.05, DOC/va1.06): planned from the patient's correspondents,
editable before validation, kept as written, listed in the CDA (informationRecipient) and in the PDF."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from lxml import etree
from pypdf import PdfReader

from directory.models import PatientCorrespondent
from directory.services import name_patient_correspondent
from documents.models import Document
from documents.services import Recipients, create_draft, validate_document
from tests.documents.test_cda_conformance import FIELDS
from tests.factories import CorrespondentFactory, EpisodeFactory

H = {"h": "urn:hl7-org:v3"}
LETTER = "11490-0"
pytestmark = pytest.mark.django_db


@pytest.fixture
def episode(care_unit):
    return EpisodeFactory(care_unit=care_unit)


@pytest.fixture
def gp(episode, doctor):
    correspondent = CorrespondentFactory(
        family_name="MOREAU", given_name="Claire", mss_address="c.moreau@medecin.mssante.fr"
    )
    name_patient_correspondent(
        patient=episode.patient,
        correspondent=correspondent,
        role=PatientCorrespondent.Role.TREATING,
        acting_user=doctor,
    )
    return correspondent


def _letter(episode, doctor, recipients: Recipients) -> Document:
    values = {"title": "Lettre", "fields": FIELDS[LETTER], "act_date": timezone.now(), "recipients": recipients}
    return create_draft(patient=episode.patient, episode=episode, type_code=LETTER, acting_user=doctor, **values)


def test_a_new_document_starts_with_the_patients_gp_checked(client, episode, doctor, gp):
    client.force_login(doctor)

    page = client.get(reverse("documents:new", args=[episode.patient.pk, LETTER])).content.decode()

    row = page[page.index('id="recipient-list"') :]
    assert f'value="{gp.pk}" checked' in row and "médecin traitant" in row


def test_the_author_keeps_removes_and_adds_recipients_before_validation(client, episode, doctor, gp):
    other = CorrespondentFactory(family_name="ROUX", mss_address="roux@cardio.mssante.fr")
    client.force_login(doctor)
    url = reverse("documents:new", args=[episode.patient.pk, LETTER])
    base = {"title": "Lettre", "act_date": "2026-11-20T10:00", "save": "1"}

    client.post(url, {**base, "correspondents": [other.pk], "mss_recipients": "Tiers@hopital.mssante.fr"})

    document = Document.objects.get()
    assert [entry["correspondent"] for entry in document.recipients] == [other.pk]  # the GP was unchecked
    assert document.mss_recipients == ["tiers@hopital.mssante.fr", "roux@cardio.mssante.fr"]
    form = client.get(reverse("documents:edit", args=[document.pk])).content.decode()
    assert "Tiers@hopital.mssante.fr".lower() in form and f'value="{other.pk}" checked' in form
    assert f'value="{gp.pk}"' in form and f'value="{gp.pk}" checked' not in form  # still offered, unchecked


def test_an_unknown_or_deactivated_correspondent_is_refused_with_the_form(client, episode, doctor):
    gone = CorrespondentFactory(active=False)
    client.force_login(doctor)
    url = reverse("documents:new", args=[episode.patient.pk, LETTER])

    for value in (str(gone.pk), "999999", "abc"):
        response = client.post(url, {"title": "Lettre", "act_date": "2026-11-20T10:00", "correspondents": [value]})
        assert response.status_code == 200 and 'class="errorlist"' in response.content.decode()
    assert not Document.objects.exists()


def test_the_document_keeps_its_recipients_as_written(episode, doctor, gp):
    document = _letter(episode, doctor, Recipients(correspondents=(gp,)))
    gp.mss_address = "nouvelle@medecin.mssante.fr"
    gp.save()

    document.refresh_from_db()
    assert document.recipients[0]["mss_address"] == "c.moreau@medecin.mssante.fr"
    assert document.recipients[0]["role"] == PatientCorrespondent.Role.TREATING


def test_the_cda_names_each_professional_recipient(episode, doctor, gp):
    organisation = CorrespondentFactory(
        rpps="", family_name="", civility="", title="", organization="Centre de rééducation", mss_address="a@crf.fr"
    )
    document = _letter(episode, doctor, Recipients(patient=False, correspondents=(gp, organisation)))

    cda = etree.fromstring(bytes(validate_document(document=document, acting_user=doctor).cda))

    recipients = cda.xpath("/h:ClinicalDocument/h:informationRecipient/h:intendedRecipient", namespaces=H)
    assert len(recipients) == 2
    first = recipients[0]
    assert first.xpath("h:id/@extension", namespaces=H) == [f"8{gp.rpps}"]
    assert first.xpath("h:telecom/@value", namespaces=H) == ["mailto:c.moreau@medecin.mssante.fr"]
    assert first.xpath("h:informationRecipient/h:name/*/text()", namespaces=H) == ["MOREAU", "Claire", "MME", "DR"]
    assert recipients[1].xpath("h:receivedOrganization/h:name/text()", namespaces=H) == ["Centre de rééducation"]
    assert not recipients[1].xpath("h:id", namespaces=H)


def test_the_pdf_lists_every_recipient_the_patient_included(episode, doctor, gp):
    document = _letter(episode, doctor, Recipients(patient=True, correspondents=(gp,)))

    version = validate_document(document=document, acting_user=doctor)

    text = " ".join(" ".join(page.extract_text() for page in PdfReader(BytesIO(bytes(version.pdf))).pages).split())
    assert "DESTINATAIRES" in text.upper()
    assert "Dr Claire MOREAU — médecin traitant" in text
    assert "Le patient (messagerie de Mon espace santé)" in text

"""The patient's Mon espace santé channel (MSS/va1.20, issue 13 §3): a refusal recorded in the file is shown
without a click and stops every sending on that channel; "may not reply" closes the patient's reply (NTE FIN),
with a default per document type. Sendings go to the sandbox PFI over real MLLP sockets."""

from __future__ import annotations

import pytest
from django.urls import reverse

from consent.services import record_patient_mailbox_choice
from dmp.models import FeedingOrder, OrderState
from dmp.services.feeding import run_order
from documents.models import ExportState, PatientReplyDefault
from documents.services import Recipients
from dpi.models import AuditEvent
from sandbox.models import PfiMessage
from tests.support.feeding import PRO_ADDRESS

pytestmark = pytest.mark.django_db(transaction=True)
PATIENT_ADDRESS = "279035121518989@patient.mssante.fr"
FIN = "NTE|1|||FIN|"


def _sent(document) -> FeedingOrder:
    order = FeedingOrder.objects.filter(document=document, channel="mss").latest("pk")
    run_order(order.pk)
    order.refresh_from_db()
    return order


def _received(document) -> PfiMessage:
    return PfiMessage.objects.get(document_id=document.current_version.cda_id_root, ack_code="AA")


def test_a_patient_who_refuses_the_mailbox_is_never_sent_to_on_it(qualified_episode, letter, doctor, no_delay, pfi):
    record_patient_mailbox_choice(patient=qualified_episode.patient, refuses=True, acting_user=doctor)
    document = letter(qualified_episode, recipients=Recipients((PRO_ADDRESS,), patient=True))

    assert _sent(document).state == OrderState.SENT
    received = _received(document)
    assert received.to_patient is False and received.mss_recipients == [PRO_ADDRESS]
    line = document.exports.get(channel="mss_patient", recipient=PATIENT_ADDRESS)
    assert line.state == ExportState.NOT_SENT and "refuse" in line.reason


def test_a_sending_only_to_a_refusing_patient_is_refused_with_its_reason(
    qualified_episode, letter, doctor, no_delay, pfi
):
    record_patient_mailbox_choice(patient=qualified_episode.patient, refuses=True, acting_user=doctor)
    document = letter(qualified_episode, recipients=Recipients(patient=True))

    order = _sent(document)

    assert order.state == OrderState.REFUSED and "refuse" in order.reason
    assert not PfiMessage.objects.filter(document_id=document.current_version.cda_id_root).exists()


def test_may_not_reply_closes_the_patients_channel_and_may_reply_leaves_it_open(
    qualified_episode, letter, no_delay, pfi
):
    closed = letter(qualified_episode, recipients=Recipients(patient=True))
    opened = letter(qualified_episode, title="Autre", recipients=Recipients(patient=True, patient_may_reply=True))

    _sent(closed), _sent(opened)

    closed_raw, opened_raw = _received(closed).raw, _received(opened).raw
    assert "DESTMSSANTEPAT" in closed_raw and FIN in closed_raw.split("\r")
    assert "DESTMSSANTEPAT" in opened_raw and FIN not in opened_raw.split("\r")


def test_the_refusal_is_recorded_from_the_file_audited_and_shown_in_the_banner(client, qualified_episode, doctor):
    patient = qualified_episode.patient
    client.force_login(doctor)
    url = reverse("consent:patient_mailbox", args=[patient.pk])

    assert client.post(url, {"refuses": "peut-être"}).status_code == 400
    panel = client.post(url, {"refuses": "1"}, HTTP_HX_REQUEST="true").content.decode()

    patient.refresh_from_db()
    assert patient.refuses_patient_mailbox_since is not None
    assert 'data-testid="icon-patient-mailbox"' in panel and "Messagerie patient : refus" in panel
    row = AuditEvent.objects.get(action=AuditEvent.Action.CONSENT_CHANGE, patient_id=patient.pk)
    assert row.detail == {"subject": "mss_patient_mailbox", "state": "refused", "source": "ui"}
    file_page = client.get(reverse("patients:file", args=[patient.pk])).content.decode()
    assert 'data-testid="icon-patient-mailbox"' in file_page  # in the banner, without a click


def test_the_writing_form_offers_no_patient_channel_for_a_refusing_patient(client, qualified_episode, doctor):
    patient = qualified_episode.patient
    record_patient_mailbox_choice(patient=patient, refuses=True, acting_user=doctor)
    client.force_login(doctor)

    page = client.get(reverse("documents:new", args=[patient.pk, "11490-0"])).content.decode()

    assert 'name="mss_to_patient"' in page and "disabled" in page.split('name="mss_to_patient"')[1].split(">")[0]
    assert "Le patient a refusé" in page


def test_the_reply_default_of_the_type_prefills_the_form(client, qualified_episode, doctor):
    PatientReplyDefault.objects.create(type_code="11488-4", patient_may_reply=True)
    client.force_login(doctor)
    patient = qualified_episode.patient

    consultation = client.get(reverse("documents:new", args=[patient.pk, "11488-4"])).content.decode()
    letter = client.get(reverse("documents:new", args=[patient.pk, "11490-0"])).content.decode()

    assert _reply_box(consultation).endswith(" checked") and not _reply_box(letter).endswith(" checked")


def _reply_box(page: str) -> str:
    """The "may reply" checkbox's tag, without its closing bracket."""
    return page.split('<input type="checkbox" name="patient_may_reply"')[1].split(">")[0]

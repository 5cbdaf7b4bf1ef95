"""REM INS/va1.39 and INS/va1.46 in the browser: a physician opens a qualified patient's file, follows the
"traces" link beside the INS in the banner, sees who displayed or exported the INS (with RPPS, Paris time,
address and view) and the partners it was sent to (PFI, DMP, MSSanté), then downloads the CSV; screenshots
under var/artefacts/rem/<id>/."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from dmp.models import DmpTransaction, FeedingOrder, OrderKind, OrderState
from documents.models import Document, DocumentVersion, Provenance, Status
from dpi.hl7.ack import new_control_id
from dpi.hl7.models import Message
from dpi.models import AuditEvent
from tests.browser.helpers import log_in, rem_shots

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INS = "279035121518989"


def _sent_letter(episode, doctor) -> tuple[Message, Message]:
    """A letter sent to the DMP and to an MSSanté professional and the patient's mailbox through the PFI."""
    document = Document.objects.create(
        patient=episode.patient, episode=episode, set_id=f"2.25.{uuid.uuid4().int}", type_code="11490-0",
        type_label="Lettre de liaison", title="Lettre de liaison de sortie", act_date=timezone.now(),
        provenance=Provenance.PRODUCED, status=Status.VALIDATED,
    )  # fmt: skip
    document.current_version = DocumentVersion.objects.create(
        document=document, version_number=1, cda_id_root=f"2.25.{uuid.uuid4().int}", cda=b"<cda/>", pdf=b"%PDF",
        validated_at=timezone.now(), validated_by=doctor,
    )  # fmt: skip
    document.save(update_fields=["current_version"])
    messages = []
    for channel, fields in (("dmp", {}), ("mss", {"mss_recipients": ["adam.hoda@test-ci-sis.mssante.fr"],
                                                 "mss_patient": True})):  # fmt: skip
        message = Message.objects.create(
            direction=Message.Direction.OUTBOUND, status=Message.Status.PROCESSED, raw=b"MSH", size=3,
            message_type="MDM^T02^MDM_T02", control_id=new_control_id(), patient_ids=f"{episode.patient.ipp} {INS}",
            receiving_application="PFI", receiving_facility="CHU", ack_code=Message.AckCode.ACCEPTED,
        )  # fmt: skip
        FeedingOrder.objects.create(
            document=document, version=document.current_version, channel=channel, kind=OrderKind.AUTOMATIC,
            state=OrderState.SENT, due_at=timezone.now(), control_id=message.control_id, message=message,
            sent_at=timezone.now(), **fields,
        )  # fmt: skip
        messages.append(message)
    return messages[0], messages[1]


def test_a_physician_browses_and_exports_the_traces_of_the_ins(page, live_server, doctor, qualified_episode):
    patient = qualified_episode.patient
    dmp_message, _mss_message = _sent_letter(qualified_episode, doctor)
    DmpTransaction.objects.create(
        kind=DmpTransaction.Kind.SEARCH, user=doctor, user_name=doctor.get_full_name(), national_id="8" + doctor.rpps,
        patient=patient, ins=INS, outcome=DmpTransaction.Outcome.SUCCESS, detail="documents du patient",
    )  # fmt: skip
    displays, partners = rem_shots("INS/va1.39"), rem_shots("INS/va1.46")
    log_in(page, live_server, doctor)

    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    banner = page.get_by_test_id("patient-banner")
    assert INS in banner.get_by_test_id("ins").inner_text()
    displays(page, "banner-ins-with-traces-link")

    banner.get_by_test_id("ins-traces-link").click()
    page.wait_for_selector("[data-testid=ins-traces]")
    row = page.get_by_test_id("ins-event").first
    text = row.inner_text()
    assert doctor.username in text and doctor.rpps in text and "127.0.0.1" in text
    assert "Affichage" in text and "Dossier patient (bandeau)" in text and INS in text
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INS_READ, detail__view="patients:ins_traces").exists()
    displays(page, "ins-displays")

    transmissions = page.get_by_test_id("ins-transmissions").inner_text()
    assert dmp_message.control_id in transmissions and "TD3.1" in transmissions
    assert "DMP (via la PFI)" in transmissions and "adam.hoda@test-ci-sis.mssante.fr" in transmissions
    assert "BAL MSSanté du patient" in transmissions
    page.get_by_test_id("ins-transmissions").scroll_into_view_if_needed()
    partners(page, "ins-partners")

    with page.expect_download() as download:
        page.get_by_test_id("ins-traces-csv").click()
    content = open(download.value.path(), encoding="utf-8").read()
    assert content.startswith("nature;date;utilisateur") and content.count("Transmission;") == 6
    export = AuditEvent.objects.get(action=AuditEvent.Action.TRACE_EXPORT)
    assert export.actor == doctor and export.patient_id == patient.pk
    page.reload()
    assert "Traces de l'INS (CSV)" in page.get_by_test_id("ins-events").inner_text()
    displays(page, "ins-export-traced")

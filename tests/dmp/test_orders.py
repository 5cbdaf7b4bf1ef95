"""Feeding orders: automatic at validation, hold/cancel/release, run-time checks, MDM to the sandbox PFI, ZAMs.

Orders are run here by calling the service the Celery task calls (``run_order``) in the test
thread; the worker itself is exercised in ``test_worker.py``. The PFI is the sandbox simulator
over real MLLP sockets, and its ZAMs come back through a real DPI listener.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from consent.models import Source, State, Subject
from consent.services import record_consent
from dmp.models import BusinessAck, DeletionReason, FeedingDelay, FeedingOrder, OrderKind, OrderState
from dmp.selectors.feeding import feeding_delay
from dmp.services.feeding import cancel_order, release_order, run_order, send_now, withdraw_from_dmp
from documents.models import ExportState
from documents.services import Recipients, delete_document, start_correction, update_draft, validate_document
from dpi.hl7.parsing import STANDARD_ENCODING, field_values, read_segments
from dpi.models import AuditEvent
from patients.models import IdentityStatus
from sandbox.models import PfiMessage
from tests.factories import CareUnitFactory, CorrespondentFactory, EpisodeFactory, PatientFactory, UserFactory
from tests.support.feeding import LETTER_FIELDS, PRO_ADDRESS, set_pfi_mode
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _order(document, channel: str = "dmp") -> FeedingOrder:
    return FeedingOrder.objects.filter(document=document, channel=channel).latest("pk")


def _export(document, channel: str = "dmp", recipient: str = ""):
    return document.exports.get(channel=channel, recipient=recipient)


def _run(order: FeedingOrder) -> FeedingOrder:
    run_order(order.pk)
    order.refresh_from_db()
    return order


def _accepted(document) -> list[PfiMessage]:
    """What the PFI accepted for this document (every version), oldest first."""
    ids = [v.cda_id_root for v in document.versions.all()]
    return list(PfiMessage.objects.filter(document_id__in=ids, ack_code="AA").order_by("pk"))


# --- creation and delays -----------------------------------------------------------------------------


def test_validated_segur_document_is_ordered_with_no_user_action_after_its_delay(qualified_episode, letter):
    FeedingDelay.objects.create(type_code="11490-0", care_unit=qualified_episode.care_unit, delay_minutes=30)
    before = timezone.now()
    document = letter(qualified_episode)
    order = _order(document)
    assert (order.state, order.kind, order.purpose) == (OrderState.SCHEDULED, OrderKind.AUTOMATIC, "publish")
    assert before + timedelta(minutes=30) <= order.due_at <= timezone.now() + timedelta(minutes=30)
    assert _export(document).state == ExportState.PENDING
    validated = AuditEvent.objects.get(change="validated")
    assert [ordered["order"] for ordered in validated.detail["feeding"]] == [order.pk]
    assert run_order(order.pk) is None  # not due yet: nothing happens


def test_most_specific_delay_rule_wins(settings, care_unit):
    settings.DMP_FEEDING_DELAY_MINUTES = 60
    other = CareUnitFactory()
    assert feeding_delay("11490-0", care_unit) == timedelta(minutes=60)
    FeedingDelay.objects.create(delay_minutes=45)
    FeedingDelay.objects.create(care_unit=care_unit, delay_minutes=20)
    FeedingDelay.objects.create(type_code="11490-0", delay_minutes=10)
    FeedingDelay.objects.create(type_code="11490-0", care_unit=care_unit, delay_minutes=5)
    assert feeding_delay("11490-0", care_unit) == timedelta(minutes=5)
    assert feeding_delay("11490-0", other) == timedelta(minutes=10)
    assert feeding_delay("34874-8", care_unit) == timedelta(minutes=20)
    assert feeding_delay("34874-8", other) == timedelta(minutes=45)


def test_document_held_before_validation_is_ordered_held_and_released_later(qualified_episode, letter, doctor, pfi):
    document = letter(qualified_episode, hold_sending=True)
    order = _order(document)
    assert order.state == OrderState.HELD and _export(document).state == ExportState.HELD
    assert run_order(order.pk) is None
    release_order(order=order, acting_user=doctor)
    assert _run(order).state == OrderState.SENT
    assert AuditEvent.objects.filter(change="feeding_released", detail__previous_state="held").exists()


def test_cancelled_order_sends_nothing_and_can_be_released(qualified_episode, letter, doctor, no_delay, pfi):
    document = letter(qualified_episode)
    order = cancel_order(order=_order(document), acting_user=doctor)
    assert order.state == OrderState.CANCELLED and _export(document).state == ExportState.NOT_SENT
    assert run_order(order.pk) is None and _accepted(document) == []
    assert AuditEvent.objects.filter(change="feeding_cancelled", actor=doctor).exists()
    release_order(order=order, acting_user=doctor)
    assert _run(order).state == OrderState.SENT and len(_accepted(document)) == 1


def test_a_sent_order_can_no_longer_be_cancelled(qualified_episode, letter, doctor, no_delay, pfi):
    order = _run(_order(letter(qualified_episode)))
    with pytest.raises(ValidationError):
        cancel_order(order=order, acting_user=doctor)


def test_draft_documents_and_imported_ones_are_never_ordered(qualified_episode, letter):
    document = letter(qualified_episode, validate=False)
    assert not FeedingOrder.objects.filter(document=document).exists()


# --- running: the PFI receives the MDM, the ZAMs come back -------------------------------------------


def test_due_order_is_sent_to_the_pfi_and_its_zam_acknowledges_the_dmp_line(qualified_episode, letter, no_delay, pfi):
    document = letter(qualified_episode)
    order = _run(_order(document))
    assert order.state == OrderState.SENT and order.trigger == "T02" and order.message is not None
    [received] = _accepted(document)
    assert (received.trigger, received.to_dmp, received.ins, received.control_id) == (
        "T02", True, "279035121518989", order.control_id,
    )  # fmt: skip
    assert received.error == ""  # the simulator checks the volet's rules
    wait_until(lambda: BusinessAck.objects.filter(order=order).exists())
    ack = BusinessAck.objects.get(order=order)
    assert (ack.event, ack.success) == ("Z01", True)
    assert _export(document).state == ExportState.ACKNOWLEDGED


def test_the_mdm_names_its_recipients_and_its_identifiers_authorities(qualified_episode, letter, no_delay, pfi):
    """PRT-5 for the patient (INS) and for a professional the DPI knows; PID-18/PV1-19 with their CX-4."""
    colleague = UserFactory(email=PRO_ADDRESS.upper(), last_name="HODA", first_name="Adam")
    document = letter(qualified_episode, recipients=Recipients((PRO_ADDRESS,), patient=True))
    assert _run(_order(document, "mss")).state == OrderState.SENT
    [received] = _accepted(document)  # the sandbox PFI checked PRT-5, PID-18 and PV1-19 (sandbox/pfi.py)
    segments = read_segments(received.raw, STANDARD_ENCODING)
    rct = {_value(s, "15.4"): s for s in segments if s.name == "PRT" and _value(s, "4.1") == "RCT"}
    assert [_value(rct[PRO_ADDRESS], f"5.{n}") for n in (1, 2, 9.2, 13)] == [
        colleague.national_id, "HODA", "1.2.250.1.71.4.2.1", "IDNPS",
    ]  # fmt: skip
    patient = rct["279035121518989@patient.mssante.fr"]
    assert [_value(patient, f"5.{n}") for n in (1, 9.2, 13)] == ["279035121518989", "1.2.250.1.213.1.4.10", "INS"]
    pid, pv1 = (next(s for s in segments if s.name == name) for name in ("PID", "PV1"))
    assert [_value(pid, f"18.{n}") for n in (1, "4.1", 5)] == ["NDA001", "TEST", "AN"]  # the GAM's namespace
    assert [_value(pv1, f"19.{n}") for n in (1, "4.1", 5)] == [qualified_episode.visit_number, "TEST", "VN"]


def _value(segment, spec: str) -> str:
    return next(iter(field_values(segment, spec, STANDARD_ENCODING)), "")


def test_mss_recipients_get_their_own_order_with_delivery_and_read_receipts(qualified_episode, letter, no_delay, pfi):
    document = letter(qualified_episode, recipients=Recipients((PRO_ADDRESS,), patient=True))
    order = _run(_order(document, "mss"))
    assert order.state == OrderState.SENT
    [received] = _accepted(document)
    assert (received.to_dmp, received.to_patient) == (False, True)
    assert received.mss_recipients == [PRO_ADDRESS, "279035121518989@patient.mssante.fr"]
    wait_until(lambda: BusinessAck.objects.filter(order=order, event="Z03").count() >= 2)
    assert _export(document, "mss_pro", PRO_ADDRESS).state == ExportState.READ
    assert _export(document, "mss_patient", "279035121518989@patient.mssante.fr").state == ExportState.READ


def test_opposition_recorded_during_the_delay_blocks_the_dmp_but_not_mssanté(
    qualified_episode, letter, doctor, no_delay, pfi
):
    document = letter(qualified_episode, recipients=Recipients((PRO_ADDRESS,)))
    record_consent(
        episode=qualified_episode,
        subject=Subject.FEEDING,
        state=State.INFORMED_OPPOSED,
        source=Source.UI,
        acting_user=doctor,
    )
    dmp, mss = _run(_order(document, "dmp")), _run(_order(document, "mss"))
    assert dmp.state == OrderState.REFUSED and "Opposition" in dmp.reason
    assert _export(document).state == ExportState.NOT_SENT and "Opposition" in _export(document).reason
    assert mss.state == OrderState.SENT
    assert [m.to_dmp for m in _accepted(document)] == [False]


def test_unqualified_ins_blocks_the_dmp_only(care_unit, letter, no_delay, pfi):
    patient = PatientFactory(ins="", identity_status=IdentityStatus.PROVISOIRE)
    document = letter(EpisodeFactory(patient=patient, care_unit=care_unit), recipients=Recipients((PRO_ADDRESS,)))
    dmp, mss = _run(_order(document, "dmp")), _run(_order(document, "mss"))
    assert dmp.state == OrderState.REFUSED and "INS" in dmp.reason
    assert mss.state == OrderState.SENT


def test_document_invisible_to_the_patient_is_never_mailed_to_the_patient(qualified_episode, letter, no_delay, pfi):
    document = letter(qualified_episode, invisible_to_patient=True, recipients=Recipients((PRO_ADDRESS,), True))
    _run(_order(document, "mss"))
    [received] = _accepted(document)
    assert received.to_patient is False and received.mss_recipients == [PRO_ADDRESS]
    line = _export(document, "mss_patient", "279035121518989@patient.mssante.fr")
    assert line.state == ExportState.NOT_SENT and "invisible" in line.reason


# --- versions: replacement, visibility, deletion -------------------------------------------------------


def _new_version(document, doctor, **flags):
    start_correction(document=document, acting_user=doctor)
    update_draft(
        document=document,
        title=document.title,
        fields=LETTER_FIELDS | {"suites": "Contrôle à 15 jours."},
        act_date=document.act_date,
        acting_user=doctor,
        flags=flags,
    )
    return validate_document(document=document, acting_user=doctor)


def test_new_version_is_sent_as_a_replacement_of_the_version_in_the_dmp(
    qualified_episode, letter, doctor, no_delay, pfi
):
    document = letter(qualified_episode)
    first = _run(_order(document))
    _new_version(document, doctor)
    second = _run(_order(document))
    assert (second.trigger, second.replaced_version_id) == ("T10", first.version_id)
    replacement = _accepted(document)[-1]
    assert replacement.trigger == "T10" and replacement.parent_id == first.version.cda_id_root
    assert replacement.flags["MODIF_CONF_CODE"] == "N"


def test_version_replaced_before_its_sending_is_not_sent(qualified_episode, letter, doctor, no_delay, pfi):
    document = letter(qualified_episode)
    stale = _order(document)
    _new_version(document, doctor)
    assert _run(stale).state == OrderState.REFUSED and "remplacée" in stale.reason
    fresh = _run(_order(document))
    assert fresh.trigger == "T02"  # nothing was in the DMP yet
    assert [m.trigger for m in _accepted(document)] == ["T02"]


def test_visibility_change_is_a_new_version_sent_as_t10_with_modif_conf_code(
    qualified_episode, letter, doctor, no_delay, pfi
):
    document = letter(qualified_episode)
    _run(_order(document))
    _new_version(document, doctor, masked_to_professionals=True)
    _run(_order(document))
    replacement = _accepted(document)[-1]
    assert replacement.trigger == "T10"
    assert (replacement.flags["MODIF_CONF_CODE"], replacement.flags["MASQUE_PS"]) == ("Y", "Y")


def test_deleting_a_fed_document_withdraws_it_from_the_dmp_with_t04(qualified_episode, letter, doctor, no_delay, pfi):
    document = letter(qualified_episode)
    _run(_order(document))
    delete_document(document=document, acting_user=doctor)
    withdrawal = FeedingOrder.objects.get(document=document, purpose="delete")
    assert withdrawal.deletion_reason == DeletionReason.DELETED_HERE
    assert _run(withdrawal).state == OrderState.SENT and withdrawal.trigger == "T04"
    assert _accepted(document)[-1].trigger == "T04"
    wait_until(lambda: BusinessAck.objects.filter(order=withdrawal).exists())
    assert _export(document).state == ExportState.WITHDRAWN


def test_deleting_a_document_not_yet_sent_cancels_its_order(qualified_episode, letter, doctor):
    document = letter(qualified_episode)
    delete_document(document=document, acting_user=doctor)
    assert _order(document).state == OrderState.CANCELLED
    assert not FeedingOrder.objects.filter(document=document, purpose="delete").exists()


def test_patient_request_withdraws_from_the_dmp_only_what_was_sent(qualified_episode, letter, doctor, no_delay, pfi):
    document = letter(qualified_episode)
    with pytest.raises(ValidationError):
        withdraw_from_dmp(document=document, reason=DeletionReason.PATIENT_REQUEST, acting_user=doctor)
    _run(_order(document))
    order = withdraw_from_dmp(document=document, reason=DeletionReason.PATIENT_REQUEST, acting_user=doctor)
    assert _run(order).trigger == "T04"
    document.refresh_from_db()
    assert document.status == "validated"  # still in the DPI, gone from the DMP


# --- failures ------------------------------------------------------------------------------------------


def test_pfi_rejection_fails_visibly_and_retry_sends_again(qualified_episode, letter, doctor, no_delay, pfi):
    set_pfi_mode("ae")
    document = letter(qualified_episode)
    order = _run(_order(document))
    assert order.state == OrderState.FAILED and order.reason
    assert _export(document).state == ExportState.FAILED
    set_pfi_mode("normal")
    release_order(order=order, acting_user=doctor)
    assert _run(order).state == OrderState.SENT


def test_unreachable_pfi_is_retried_with_backoff_up_to_a_ceiling(qualified_episode, letter, settings, no_delay, pfi):
    settings.DMP_FEEDING_MAX_ATTEMPTS, settings.DMP_FEEDING_BACKOFF_SECONDS = 3, 60
    settings.PFI_PORT = 9  # nothing listens there
    order = _order(letter(qualified_episode))
    first = _run(order)
    assert first.state == OrderState.SCHEDULED and first.attempts == 1
    assert timedelta(seconds=30) < first.due_at - timezone.now() <= timedelta(seconds=60)  # backoff, not timing
    for _attempt in (2, 3):
        FeedingOrder.objects.filter(pk=order.pk).update(due_at=timezone.now())
        order = _run(order)
    assert (order.state, order.attempts) == (OrderState.FAILED, 3)
    assert "3 tentatives" in order.reason


def test_dmp_rejection_in_the_zam_marks_the_dmp_line_failed_with_its_reason(qualified_episode, letter, no_delay, pfi):
    set_pfi_mode("dmp_reject")
    document = letter(qualified_episode)
    order = _run(_order(document))
    assert order.state == OrderState.SENT
    wait_until(lambda: BusinessAck.objects.filter(order=order).exists())
    line = _export(document)
    assert line.state == ExportState.FAILED and line.reason


def test_a_version_is_never_ordered_twice_on_a_channel(qualified_episode, letter, doctor, no_delay, pfi):
    document = letter(qualified_episode)
    _run(_order(document))
    with pytest.raises(ValidationError):
        send_now(document=document, channel="dmp", acting_user=doctor)
    assert FeedingOrder.objects.filter(document=document, channel="dmp").count() == 1


def test_a_correspondent_named_in_the_document_is_identified_in_prt5(qualified_episode, letter, no_delay, pfi):
    """HOP/va1.05: the document's correspondent brings its RPPS to the MDM, checked by the sandbox PFI."""
    gp = CorrespondentFactory(family_name="MOREAU", given_name="Claire", mss_address="c.moreau@medecin.mssante.fr")
    document = letter(qualified_episode, recipients=Recipients(correspondents=(gp,)))
    assert _run(_order(document, "mss")).state == OrderState.SENT
    [received] = _accepted(document)
    segments = read_segments(received.raw, STANDARD_ENCODING)
    [rct] = [s for s in segments if s.name == "PRT" and _value(s, "4.1") == "RCT"]
    assert [_value(rct, f"5.{n}") for n in (1, 2, 3, 13)] == [f"8{gp.rpps}", "MOREAU", "Claire", "IDNPS"]
    assert _value(rct, "15.4") == "c.moreau@medecin.mssante.fr"

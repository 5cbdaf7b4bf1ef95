"""The sending choices in the browser (issue 13 §3-4), with the sandbox PFI and a real worker: the patient's
refusal of their Mon espace santé mailbox is recorded in the file, shown in the banner, closes the channel on
the writing page and refuses a sending already planned (MSS/va1.20); "may not reply" reaches the PFI as
NTE FIN (SC.MSS/CONF.24); a validated letter is sent later to a correspondent chosen then (MSS/va1.23); a
mailed letter's deletion is told to its recipients (SC.MSS/UX.38). Screenshots under var/artefacts/rem/<id>/."""

from __future__ import annotations

import pytest

from documents.models import Document
from sandbox.models import PfiMessage
from tests.browser.helpers import (
    accept_next_confirmation,
    log_in,
    qualified_patient_in,
    rem_shots,
    start_discharge_letter,
)
from tests.factories import CorrespondentFactory
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
FIN = "NTE|1|||FIN|"


def _mailed(document: Document, trigger: str = "T02") -> PfiMessage:
    """The MSSanté message (not the DMP one) the sandbox PFI accepted for the document."""
    found = PfiMessage.objects.filter(document_id__in=_ids(document), trigger=trigger, to_dmp=False, ack_code="AA")
    wait_until(found.exists)
    return found.latest("pk")


def _ids(document: Document) -> list[str]:
    return list(document.versions.values_list("cda_id_root", flat=True))


@pytest.mark.usefixtures("pfi", "worker")
def test_the_patients_channel_and_the_sendings_a_user_asks_for(page, live_server, care_unit, settings):
    settings.DMP_FEEDING_DELAY_MINUTES = 0
    physician, patient = qualified_patient_in(care_unit)
    cardiologist = CorrespondentFactory(family_name="ROUX", given_name="Paul", mss_address="p.roux@cardio.mssante.fr")
    log_in(page, live_server, physician)

    # A draft planned for the patient's mailbox, then the patient refuses it (e.g. a minor).
    start_discharge_letter(page, live_server, patient)
    page.get_by_label("Envoyer au patient (messagerie de Mon espace santé)").check()
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.wait_for_load_state()
    planned = Document.objects.get(patient=patient)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    refusal = rem_shots("MSS/va1.20")
    accept_next_confirmation(page)
    page.get_by_test_id("patient-mailbox-refuse").click()
    page.get_by_test_id("icon-patient-mailbox").wait_for()
    refusal(page, "refusal-recorded-and-shown-in-the-banner")
    page.goto(f"{live_server.url}/documents/{planned.pk}/modifier/")
    assert page.get_by_label("Envoyer au patient (messagerie de Mon espace santé)").is_disabled()
    refusal(page, "patient-channel-closed-on-the-writing-page")
    page.get_by_test_id("validate").click()
    page.get_by_test_id("export-mss_patient").filter(has_text="Non envoyé").wait_for()
    refusal(page, "planned-sending-refused-at-run-time")
    assert not PfiMessage.objects.filter(to_patient=True).exists()

    # Sent later, by hand, to a correspondent chosen now.
    page.get_by_test_id("send-mss").click()
    page.get_by_test_id("recipient-search").fill("roux")
    page.get_by_test_id("recipient-search").press("Enter")
    page.get_by_test_id(f"add-recipient-{cardiologist.pk}").click()
    by_hand = rem_shots("MSS/va1.23")
    by_hand(page, "cardiologist-chosen-for-a-later-sending")
    page.get_by_test_id("send-mss-submit").click()
    assert _mailed(planned).mss_recipients == ["p.roux@cardio.mssante.fr"]
    page.get_by_test_id("export-mss_pro").filter(has_text="p.roux@cardio.mssante.fr").wait_for()
    by_hand(page, "sent-to-the-cardiologist")

    # The patient accepts again; a letter they may not reply to.
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.get_by_test_id("patient-mailbox-accept").click()
    page.get_by_test_id("icon-patient-mailbox").wait_for(state="detached")
    start_discharge_letter(page, live_server, patient)
    page.get_by_label("Titre").fill("Lettre au patient")
    page.get_by_label("Envoyer au patient (messagerie de Mon espace santé)").check()
    assert not page.get_by_label("Le patient peut répondre à ce message").is_checked()
    rem_shots("SC.MSS/CONF.24")(page, "patient-may-not-reply")
    page.get_by_test_id("validate").click()
    page.get_by_test_id("correct").wait_for()
    to_patient = Document.objects.get(patient=patient, title="Lettre au patient")
    received = _mailed(to_patient)
    assert received.to_patient and FIN in received.raw.split("\r")

    # Deleted: its recipients are told.
    mailed = to_patient.feeding_orders.filter(channel="mss", state="sent")
    wait_until(mailed.exists)
    page.reload()
    deletion = rem_shots("SC.MSS/UX.38")
    deletion(page, "deletion-offers-to-tell-the-recipients")
    page.get_by_test_id("delete-form").get_by_role("button", name="Supprimer").click()
    page.get_by_test_id("document-status").filter(has_text="Supprimé").wait_for()
    assert _mailed(to_patient, "T04").to_patient
    deletion(page, "deleted-and-told")

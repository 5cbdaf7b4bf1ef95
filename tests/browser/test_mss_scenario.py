"""Browser scenario of the MSSanté inbound flow: a document arrives over MLLP from the (sandbox) PFI, the
care unit's badge shows it, the user opens it from the list and finds it in the patient file with the
MSSanté provenance; a document whose identity does not match is refused and appears nowhere."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from dpi.hl7.client import TransportError
from dpi.hl7.mllp import start_server_in_thread
from mss.models import MailboxRoute
from sandbox.mss_push import mdm_for, patient_document, patient_identity, push
from tests.browser.helpers import log_in
from tests.factories import EpisodeFactory, MembershipFactory, PatientFactory, RoleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def listener():
    handle = start_server_in_thread("127.0.0.1", 0)
    yield handle
    handle.stop()


def send_document(listener, patient, *, title: str, alter: str = "") -> str:
    identity = patient_identity(patient, alter)
    id_root, cda = patient_document(identity, title=title)
    try:
        return push(mdm_for(identity, cda, id_root, recipient="cardio@chu.mssante.fr").text(), port=listener.port).code
    except TransportError as exc:  # AE: the PFI would send the MDN
        return exc.ack.code


def test_a_document_received_by_mssante_reaches_the_unit_and_the_patient_file(page, live_server, care_unit, shots,
                                                                              listener):  # fmt: skip
    user = MembershipFactory(care_unit=care_unit, role=RoleFactory()).user
    care_unit.site.legal_entity.accepts_test_ins = True
    care_unit.site.legal_entity.save()
    MailboxRoute.objects.create(address="cardio@chu.mssante.fr", care_unit=care_unit)
    patient = PatientFactory(
        birth_name="LEROY", first_names="CLAIRE ANNE", birth_date=date(1975, 2, 14), sex="F",
        birth_place_insee="69123", ins="275026912312387", ins_oid="1.2.250.1.213.1.4.10",
        identity_status="qualifiee",
    )  # fmt: skip
    EpisodeFactory(patient=patient, care_unit=care_unit)
    log_in(page, live_server, user)
    expect(page.get_by_test_id("mss-badge")).to_have_text("0")

    assert send_document(listener, patient, title="CR de coronarographie") == "AA"
    page.reload()
    expect(page.get_by_test_id("mss-badge")).to_have_text("1")
    shots(page, "badge")

    page.get_by_test_id("mss-inbox-link").click()
    row = page.get_by_test_id("mss-notification")
    assert row.count() == 1 and "LEROY" in row.inner_text() and "non lu" in row.inner_text()
    shots(page, "unit-list")
    row.get_by_test_id("open-document").click()
    page.get_by_test_id("document-detail").wait_for()
    assert "Reçu par MSSanté" in page.get_by_test_id("provenance").first.inner_text()
    expect(page.get_by_test_id("mss-badge")).to_have_text("0")
    shots(page, "document")

    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    received = page.get_by_test_id("mss-document")
    expect(received).to_have_count(1)
    assert "CR de coronarographie" in received.inner_text() and "Reçu par MSSanté" in received.inner_text()
    listed = page.get_by_test_id("document-row")
    expect(listed).to_have_count(1)
    assert "Reçu par MSSanté" in listed.get_by_test_id("provenance").inner_text()
    shots(page, "patient-file")

    assert send_document(listener, patient, title="CR d'une autre patiente", alter="birth_date") == "AE"
    page.reload()
    expect(page.get_by_test_id("document-row")).to_have_count(1)
    assert "CR d'une autre patiente" not in page.content()
    expect(page.get_by_test_id("mss-document")).to_have_count(1)
    page.get_by_test_id("mss-inbox-link").click()
    assert page.get_by_test_id("mss-notification").count() == 1
    assert "CR d'une autre patiente" not in page.content()
    shots(page, "refused-nowhere")

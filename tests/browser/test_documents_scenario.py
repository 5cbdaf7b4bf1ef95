"""Browser scenario of the documents: write and validate a discharge letter, see it listed with its
provenance and status, open it on the PDF, switch to the CDA view, correct it, see both versions."""

from __future__ import annotations

import pytest

from tests.browser.helpers import log_in, qualified_patient_in, start_discharge_letter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_doctor_writes_validates_views_and_corrects_a_discharge_letter(page, live_server, care_unit, shots):
    user, patient = qualified_patient_in(care_unit)
    log_in(page, live_server, user)
    start_discharge_letter(page, live_server, patient)
    page.get_by_label("Traitements à la sortie").fill("Paracétamol 1 g ; si douleur ; 5 jours")
    shots(page, "write")
    page.get_by_test_id("validate").click()
    page.get_by_test_id("pdf-frame").wait_for()
    assert "Validé" in page.get_by_test_id("document-status").inner_text()
    shots(page, "pdf-view")

    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    row = page.get_by_test_id("document-row")
    row.wait_for()
    assert "Produit dans le DPI" in row.get_by_test_id("provenance").inner_text()
    assert "Validé" in row.inner_text()
    shots(page, "list")

    row.get_by_role("link").first.click()
    page.get_by_test_id("tab-cda").click()
    frame = page.frame_locator("[data-testid=cda-frame]")
    frame.get_by_text("DUMONT").first.wait_for()  # an N1 CDA: its header; the body is the PDF
    shots(page, "cda-view")

    page.get_by_test_id("correct").click()
    page.get_by_label("Suites à donner").fill("Consultation de contrôle à 1 mois.")
    page.get_by_test_id("validate").click()
    versions = page.get_by_test_id("versions")
    versions.wait_for()
    assert "v2 (actuelle)" in versions.inner_text() and "v1" in versions.inner_text()
    shots(page, "two-versions")

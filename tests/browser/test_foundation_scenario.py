"""Browser scenario of the foundation: second factor, search, refusal, emergency access, audit."""

from __future__ import annotations

import pytest

from dpi.models import AuditEvent
from tests.browser.helpers import accept_next_confirmation, log_in
from tests.factories import EpisodeFactory, PatientFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_doctor_logs_in_with_totp_is_refused_outside_units_then_uses_emergency_access_seen_in_audit(
    page, live_server, doctor, care_unit, shots
):
    own = EpisodeFactory(care_unit=care_unit, patient=PatientFactory(birth_name="BERNARD", first_names="ALICE")).patient
    foreign = EpisodeFactory(patient=PatientFactory(birth_name="BERTIN", first_names="MARC")).patient

    log_in(page, live_server, doctor, shots)
    assert page.get_by_test_id("user-name").inner_text() == doctor.display_name
    assert f"RPPS {doctor.rpps}" in page.content()
    shots(page, "home")

    page.get_by_label("Nom, prénom").fill("ber")
    page.get_by_role("button", name="Rechercher").click()
    results = page.get_by_test_id("search-results")
    results.wait_for()
    assert results.get_by_role("link", name=own.birth_name).is_visible()  # the birth name leads to the file
    assert results.get_by_role("link", name=foreign.birth_name).is_visible()
    shots(page, "search")

    results.get_by_role("link", name=foreign.birth_name).click()
    page.get_by_test_id("access-refused").wait_for()
    shots(page, "refused")

    page.get_by_label("Motif de l'accès d'urgence").fill("Patient inconscient, avis chirurgical urgent")
    asked = accept_next_confirmation(page)
    page.get_by_role("button", name="Ouvrir en accès d'urgence").click()
    page.get_by_test_id("emergency-banner").wait_for()
    assert asked  # the emergency access was confirmed first
    assert foreign.display_name in page.get_by_test_id("patient-banner").inner_text()
    shots(page, "emergency-file")

    admin = UserFactory(is_staff=True, is_superuser=True)
    page.get_by_role("button", name="Se déconnecter").click()
    log_in(page, live_server, admin)
    page.goto(f"{live_server.url}/admin/dpi/auditevent/?emergency__exact=1")
    rows = page.locator("#result_list tbody tr")
    rows.first.wait_for()
    assert rows.count() == AuditEvent.objects.filter(emergency=True).count() == 2  # access granted + file opened
    assert doctor.username in rows.first.inner_text()
    shots(page, "audit")

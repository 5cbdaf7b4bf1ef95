"""Browser scenario of the PAM feed: an admission arrives over MLLP, the file shows the identity
status and the consent icons, the user records an opposition to consultation and sees the icon change."""

from __future__ import annotations

import pytest

from dpi.hl7.client import send
from dpi.hl7.mllp import start_server_in_thread
from tests.browser.helpers import accept_next_confirmation, log_in
from tests.factories import CareUnitFactory, LegalEntityFactory, MembershipFactory, RoleFactory, SiteFactory
from tests.pam.builder import FINESS_EG, FINESS_EJ, Adt

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admission_over_mllp_then_opposition_to_consultation_changes_the_icon(page, live_server, shots):
    entity = LegalEntityFactory(finess_ej=FINESS_EJ)
    unit = CareUnitFactory(site=SiteFactory(legal_entity=entity, finess_eg=FINESS_EG), code="UF01", name="Chirurgie")
    user = MembershipFactory(care_unit=unit, role=RoleFactory()).user
    listener = start_server_in_thread()
    try:
        ack = send(Adt(zfa=("ACTIF", "INO", "IC")).encode(), host="127.0.0.1", port=listener.port)
    finally:
        listener.stop()
    assert ack.code == "AA"

    log_in(page, live_server, user)
    page.get_by_role("link", name="MARTIN JEANNE").click()  # patients present in my unit, on the home page
    banner = page.get_by_test_id("patient-banner")
    assert "Identité qualifiée" in banner.inner_text()
    assert "279035121518989" in banner.get_by_test_id("ins").inner_text()
    consultation_icon = page.get_by_test_id("icon-dmp-consultation")
    assert "Consultation : autorisée" in consultation_icon.inner_text()
    assert "Alimentation : autorisée" in page.get_by_test_id("icon-dmp-feeding").inner_text()
    shots(page, "file-after-admission")

    asked = accept_next_confirmation(page)
    page.get_by_test_id("oppose-dmp_consultation").click()
    page.get_by_test_id("icon-dmp-consultation").filter(has_text="opposition").wait_for()
    assert asked  # the opposition was confirmed first
    assert "Informé, opposé" in page.get_by_test_id("state-dmp_consultation").inner_text()
    assert f"RPPS {user.rpps}" in page.get_by_test_id("source-dmp_consultation").inner_text()
    shots(page, "opposition-recorded")

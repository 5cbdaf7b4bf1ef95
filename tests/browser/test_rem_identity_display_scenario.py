"""REM INS/va1.36 and SC.DMP/UX.11 in the browser: the patients-present list and the file name a patient by
the four birth traits first, the used names beside them as such, the identity status and age visible without
a click, "INS (NIR)" and a test INS flagged; screenshots under var/artefacts/rem/<id>/."""

from __future__ import annotations

from datetime import date

import pytest

from patients.models import IdentityStatus, Sex
from tests.browser.helpers import log_in, rem_shots
from tests.factories import EpisodeFactory, MembershipFactory, PatientFactory, RoleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_lists_and_banner_put_the_birth_traits_first_with_status_and_age(page, live_server, care_unit):
    user = MembershipFactory(care_unit=care_unit, role=RoleFactory()).user
    married = PatientFactory(
        birth_name="DUPONT", first_names="MARIE LOUISE", used_name="MARTIN", used_first_name="MALOU",
        birth_date=date(1979, 3, 28), sex=Sex.FEMALE, ins="279035121518989", ins_oid="1.2.250.1.213.1.4.10",
        identity_status=IdentityStatus.QUALIFIEE,
    )  # fmt: skip
    provisional = PatientFactory(birth_name="DUPONT", first_names="MARC", identity_status=IdentityStatus.PROVISOIRE)
    for patient in (married, provisional):
        EpisodeFactory(patient=patient, care_unit=care_unit)
    log_in(page, live_server, user)
    page.goto(f"{live_server.url}/")
    lines = page.get_by_test_id("patient-identity")
    texts = [lines.nth(index).inner_text() for index in range(lines.count())]
    first = next(text for text in texts if "MARIE" in text)
    assert first.index("DUPONT") < first.index("MARIE") < first.index("28/03/1979") < first.index("MARTIN MALOU")
    assert "Identité qualifiée" in first and " ans)" in first
    assert any("Identité provisoire" in text and "MARC" in text for text in texts)
    shots = rem_shots("INS/va1.36")
    shots(page, "patients-present")

    page.get_by_role("link", name="DUPONT MARIE").click()
    banner = page.get_by_test_id("patient-banner")
    assert banner.get_by_test_id("banner-birth-name").inner_text() == "DUPONT"
    assert "MARTIN MALOU" in banner.get_by_test_id("banner-used-identity").inner_text()
    assert "INS (NIR)" in banner.inner_text() and banner.get_by_test_id("ins-test").inner_text() == "test"
    assert "1.2.250" not in banner.inner_text()
    shots(page, "banner")
    status = rem_shots("SC.DMP/UX.11")
    status(page, "banner-status")
    page.goto(f"{live_server.url}/")
    status(page, "list-status")

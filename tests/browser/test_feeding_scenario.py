"""Browser scenario of the DMP feeding: validate a discharge letter, see the pending order and its countdown,
cancel it, release it, and see it sent then acknowledged by the (sandbox) PFI, with a real worker."""

from __future__ import annotations

import re

import pytest

from tests.browser.helpers import accept_next_confirmation, log_in, qualified_patient_in, start_discharge_letter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.usefixtures("pfi", "worker")
def test_validated_letter_waits_is_cancelled_released_then_sent_and_acknowledged(
    page, live_server, care_unit, shots, settings
):
    settings.DMP_FEEDING_DELAY_MINUTES = 0.5  # thirty seconds to change one's mind
    user, patient = qualified_patient_in(care_unit)
    log_in(page, live_server, user)
    start_discharge_letter(page, live_server, patient)
    page.get_by_test_id("validate").click()

    order = page.get_by_test_id("order-dmp")
    order.wait_for()
    countdown = order.get_by_test_id("countdown")
    assert re.search(r"dans \d+ s", countdown.inner_text())
    first = countdown.inner_text()
    page.wait_for_timeout(1500)  # the countdown is live (not a timing assertion on the product)
    assert countdown.inner_text() != first
    assert "En attente" in page.get_by_test_id("export-dmp").inner_text()
    shots(page, "pending-order")

    asked = accept_next_confirmation(page)
    page.get_by_test_id("cancel-dmp").click()
    page.get_by_test_id("release-dmp").wait_for()
    assert asked and asked[0].startswith("Annuler l'envoi")  # the cancellation was confirmed first
    assert "annulé" in page.get_by_test_id("order-dmp").inner_text()
    assert "Non envoyé" in page.get_by_test_id("export-dmp").inner_text()
    shots(page, "cancelled")

    page.get_by_test_id("release-dmp").click()
    export = page.get_by_test_id("export-dmp")
    export.filter(has_text="Accusé de réception").wait_for(timeout=30_000)
    shots(page, "acknowledged")
    page.reload()
    history = page.get_by_test_id("feeding-history")
    assert "envoyé à la PFI" in history.inner_text() and "Z01" in history.inner_text()
    shots(page, "history")

"""The admin's journals are usable on a 1366 px hospital screen (issue 15 §6): the audit trail and the HL7
journal show their key columns without a horizontal scroll, patients by IPP and name."""

from __future__ import annotations

import re

import pytest

from dpi.hl7.engine import process_inbound
from dpi.models import AuditEvent
from dpi.services import audit
from tests.browser.helpers import log_in
from tests.factories import PatientFactory, UserFactory
from tests.support.hl7 import adt_message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page) -> bool:
    """Neither the page nor the result table (which the admin scrolls inside its own box) hides a column."""
    return page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth"
        " && [...document.querySelectorAll('#changelist .results')].every(box => box.scrollWidth <= box.clientWidth)"
    )


def test_the_audit_trail_and_the_hl7_journal_fit_a_1366_px_screen(page, live_server, shots):
    admin = UserFactory(is_staff=True, is_superuser=True, username="administrateur.du.systeme.information")
    patient = PatientFactory(birth_name="DE LA FONTAINE-SAINT-GERMAIN", first_names="MARIE-CHRISTINE ANNE")
    for index in range(30):
        audit(action=AuditEvent.Action.PATIENT_OPEN, actor=admin, obj=patient, patient_id=patient.pk,
              detail={"view": "patients:file", "path": f"/patients/{patient.pk}/", "n": index})  # fmt: skip
        process_inbound(adt_message(f"CTRL{index:06d}", family="DE LA FONTAINE-SAINT-GERMAIN").encode(), peer="gam")
    log_in(page, live_server, admin)
    page.goto(f"{live_server.url}/admin/dpi/auditevent/")
    assert page.get_by_text(f"{patient.ipp} · DE LA FONTAINE-SAINT-GERMAIN", exact=False).first.is_visible()
    shots(page, "audit-trail")
    assert _fits(page)
    page.goto(f"{live_server.url}/admin/hl7/message/")
    assert page.get_by_text("CTRL000029").is_visible()
    assert re.fullmatch(r".+ \(A[AER]\)", page.locator("td.field-outcome").first.inner_text())  # status and ACK
    shots(page, "hl7-journal")
    assert _fits(page)

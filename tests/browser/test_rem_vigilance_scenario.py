"""Browser scenarios of issue 15 §5: the header badge of the documents integrated and not seen and its list
(REM SC.MSS/UX.40, screenshots under var/artefacts/rem/SC.MSS/UX.40/), the identity-vigilance work list and the
emergency-access review (under var/artefacts/vigilance-worklist/ and var/artefacts/emergency-review/)."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from dpi.hl7.engine import process_inbound
from dpi.models import Role
from mss.models import MailboxRoute
from patients.services import start_emergency_access
from sandbox.mss_push import mdm_for, patient_document, patient_identity
from tests.browser.helpers import log_in, rem_shots
from tests.factories import EpisodeFactory, MembershipFactory, PatientFactory, RoleFactory
from tests.support.browser import Screenshots

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAILBOX = "cardio@chu.mssante.fr"


@pytest.fixture
def leroy(care_unit):
    care_unit.site.legal_entity.accepts_test_ins = True
    care_unit.site.legal_entity.save()
    MailboxRoute.objects.create(address=MAILBOX, care_unit=care_unit)
    patient = PatientFactory(
        birth_name="LEROY", first_names="CLAIRE ANNE", birth_date=date(1975, 2, 14), sex="F",
        birth_place_insee="69123", ins="275026912312387", ins_oid="1.2.250.1.213.1.4.10",
        identity_status="qualifiee",
    )  # fmt: skip
    EpisodeFactory(patient=patient, care_unit=care_unit)
    return patient


def receive(patient, *, title: str, alter: str = "") -> None:
    """An MDM from the PFI, through the same engine as the MLLP listener."""
    identity = patient_identity(patient, alter)
    id_root, cda = patient_document(identity, title=title)
    process_inbound(mdm_for(identity, cda, id_root, recipient=MAILBOX).encode(), peer="127.0.0.1:test")


def test_the_badge_counts_the_unseen_documents_and_opens_their_list(page, live_server, care_unit, leroy):
    shots = rem_shots("SC.MSS/UX.40")
    user = MembershipFactory(care_unit=care_unit, role=RoleFactory()).user
    receive(leroy, title="CR de coronarographie")
    log_in(page, live_server, user)
    badge = page.get_by_test_id("mss-badge")
    expect(badge).to_have_text("1")
    assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(163, 0, 27)"
    shots(page, "badge")
    badge.click()
    row = page.get_by_test_id("unseen-document")
    expect(row).to_have_count(1)
    assert "LEROY" in row.inner_text() and "Reçu par MSSanté" in row.inner_text()
    shots(page, "unseen-list")
    row.get_by_test_id("open-document").click()
    page.get_by_test_id("document-detail").wait_for()
    expect(page.get_by_test_id("mss-badge")).to_have_text("0")
    shots(page, "seen")


def test_the_vigilance_team_compares_a_refused_document_and_marks_it_handled(page, live_server, care_unit, leroy):
    shots = Screenshots("vigilance-worklist")
    role = RoleFactory(code="identitovigilance", label="Identitovigilance", scope=Role.Scope.LEGAL_ENTITY)
    user = MembershipFactory(care_unit=care_unit, role=role).user
    user.user_permissions.add(Permission.objects.get(codename="identity_vigilance"))
    PatientFactory(birth_name="LEROY", first_names="CLAIRE", birth_date=date(1975, 2, 14), sex="F")
    receive(leroy, title="CR d'échographie", alter="birth_date")
    log_in(page, live_server, user)
    page.get_by_test_id("vigilance-link").click()
    expect(page.get_by_test_id("vigilance-refusal")).to_have_count(1)
    expect(page.get_by_test_id("duplicate-pair")).to_have_count(1)
    shots(page, "worklist")
    page.get_by_test_id("compare-refusal").click()
    expect(page.get_by_test_id("candidate")).to_have_count(2)
    assert page.get_by_test_id("trait-differs").count() >= 1
    shots(page, "comparison")
    page.get_by_label("Commentaire (facultatif)").fill("Erreur de date chez l'expéditeur, rappelé")
    page.get_by_test_id("mark-handled").click()
    expect(page.get_by_test_id("vigilance-refusals-empty")).to_be_visible()
    shots(page, "handled")


def test_a_unit_head_reviews_an_emergency_access(page, live_server, care_unit):
    shots = Screenshots("emergency-review")
    opener = MembershipFactory(care_unit=care_unit, role=RoleFactory(may_break_glass=True)).user
    patient = PatientFactory(birth_name="GARCIA", first_names="SOFIA", birth_date=date(1990, 7, 21), sex="F")
    start_emergency_access(user=opener, patient=patient, reason="Patiente inconsciente transférée au bloc")
    head = MembershipFactory(care_unit=care_unit, role=RoleFactory()).user
    head.user_permissions.add(Permission.objects.get(codename="review_unit_emergency_access"))
    log_in(page, live_server, head)
    page.get_by_test_id("emergency-review-link").click()
    row = page.get_by_test_id("emergency-access")
    expect(row).to_have_count(1)
    assert "GARCIA" in row.inner_text() and "Patiente inconsciente" in row.inner_text()
    shots(page, "review-list")
    row.get_by_test_id("mark-reviewed").click()
    expect(page.get_by_test_id("emergency-review-empty")).to_be_visible()
    page.get_by_test_id("show-all").click()
    expect(page.get_by_test_id("reviewed")).to_have_count(1)
    shots(page, "reviewed")

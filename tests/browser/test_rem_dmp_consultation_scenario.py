"""REM scenarios of the patient's DMP in the file (issue 10), in Debian's chromium against the sandbox DMP.

Each scenario keeps its screenshots as evidence under ``var/artefacts/rem/<requirement id>/`` and asserts
what the sandbox received (``live_dmp.calls``) and what the DPI recorded, not only what the page shows.

SC.DMP/AIRS.03 is the CNDA homologation of the consultation profile: a certificate, not a screen. The
viewing of a DMP document before its integration (PDF, then CDA) is the "document displayed" step of
SC.DMP/UX.14, and SC.DMP/AIRS.06 (each user's own national identifier in the VIHF) is shown with two
professionals one after the other.
"""

from __future__ import annotations

import copy
import shutil

import pytest
from playwright.sync_api import expect

from consent.models import State
from dmp.categories import CATEGORIES
from dmp.models import NewDocumentsRule
from dmp.models.consultation import Reference
from documents.models import Document, Provenance
from sandbox.models import DmpAuthorisation, DmpBehaviour, DmpDocument
from tests.browser.helpers import log_in, rem_shots
from tests.dmp.live import BIOLOGY, IMAGING, LETTER
from tests.support.browser import Screenshots

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Evidence:
    """Numbered screenshots kept for one or several requirement ids: taken once, copied to each folder."""

    def __init__(self, *requirement_ids: str, scenario: str = "") -> None:
        """``scenario`` names a subfolder, for an id another scenario proves too (they may run in parallel)."""
        self.folders: list[Screenshots] = [rem_shots(requirement_id, scenario) for requirement_id in requirement_ids]

    def __call__(self, page, step: str, *, element=None) -> None:
        """The whole page, or only ``element`` (a locator) when given."""
        first, *others = self.folders
        first.count += 1
        path = first.folder / f"{first.count:02d}-{step}.png"
        if element is None:
            page.screenshot(path=str(path), full_page=True)
        else:
            element.screenshot(path=str(path))
        for other in others:
            other.count += 1
            shutil.copy(path, other.folder / f"{other.count:02d}-{step}.png")


def open_file(page, live_server, patient) -> None:
    page.goto(f"{live_server.url}/patients/{patient.pk}/")


def dmp_state(page) -> str:
    """The DMP state beside the identity, once the DMP answered (or why it was not asked)."""
    state = page.get_by_test_id("dmp-state")
    state.wait_for()
    return state.get_attribute("data-state")


def dmp_list(page):
    """The DMP's documents in the section, once loaded."""
    entries = page.locator("#dmp-panel [data-testid=dmp-entries]")
    entries.wait_for()
    return entries


def row_of(page, document: DmpDocument):
    return page.locator(f'[data-testid=dmp-entry][data-unique-id="{document.unique_id}"]')


def allow_forms_to_sandbox(settings, live_dmp) -> None:  # noqa: F811
    """The web PS and DRIMbox forms post to the sandbox's web pages: in the tests they run on a free port,
    which the CSP ``form-action`` computed from the default settings does not name."""
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    origins = {"/".join(url.split("/", 3)[:3]) for url in (live_dmp.server.webps_url, live_dmp.server.drimbox_url)}
    policy["DIRECTIVES"]["form-action"] += sorted(origins)
    settings.CONTENT_SECURITY_POLICY = policy


# --- the state beside the identity ----------------------------------------------------------------


def test_ux12_the_dmp_states_are_shown_beside_the_identity_without_a_click(page, live_server, live_dmp):  # noqa: F811
    shots = Evidence("SC.DMP/UX.12")
    authorised = live_dmp.consultation()
    user = authorised.user
    set_automatically = live_dmp.consultation(user=user, authorised=False)
    refused = live_dmp.consultation(user=user, authorised=False)
    live_dmp.block(refused.dmp, user)
    without_dmp = live_dmp.consultation(user=user, with_dmp=False)
    closed = live_dmp.consultation(user=user)
    live_dmp.close_dmp(closed.dmp)
    log_in(page, live_server, user)

    cases = [
        (authorised, "authorised", "DMP ouvert, accès autorisé", "open-authorised"),
        (set_automatically, "authorised", "autorisation d'accès enregistrée à l'instant", "open-authorisation-set"),
        (refused, "not_authorised", "DMP ouvert, accès non autorisé", "open-not-authorised"),
        (without_dmp, "none", "Pas de DMP", "no-dmp"),
        (closed, "closed", "DMP fermé", "closed"),
    ]
    for consultation, state, text, step in cases:
        open_file(page, live_server, consultation.patient)
        assert dmp_state(page) == state, step
        assert text in page.get_by_test_id("dmp-state").inner_text()
        if state != "authorised":  # and the section says why there is nothing to list
            expect(page.get_by_test_id("dmp-not-consultable")).to_have_attribute("data-state", state)
        else:
            page.get_by_test_id("dmp-no-entry").wait_for()  # an empty DMP, consulted
        shots(page, f"banner-{step}", element=page.get_by_test_id("patient-banner"))
    shots(page, "file-closed-dmp")

    assert len(live_dmp.calls("TD0.3")) == 1  # only the patient without an authorisation got one set
    assert not live_dmp.calls("ITI-18", patient_ins__in=[c.patient.ins for c in (refused, without_dmp, closed)])


def test_conf16_the_access_authorisation_is_set_automatically_once(page, live_server, live_dmp):  # noqa: F811
    shots = Evidence("SC.DMP/CONF.16")
    consultation = live_dmp.consultation(documents=4, authorised=False)
    user = consultation.user
    assert not DmpAuthorisation.objects.filter(dmp=consultation.dmp, national_id=user.national_id).exists()
    log_in(page, live_server, user)

    open_file(page, live_server, consultation.patient)
    assert dmp_state(page) == "authorised"
    notice = page.get_by_test_id("dmp-authorisation-set")
    assert "autorisation d'accès enregistrée à l'instant" in notice.inner_text()
    dmp_list(page)
    shots(page, "authorisation-set-on-opening")
    td03 = live_dmp.calls("TD0.3")
    assert len(td03) == 1 and td03[0].name_id == user.national_id
    assert DmpAuthorisation.objects.filter(dmp=consultation.dmp, national_id=user.national_id).exists()

    page.reload()  # the state comes from the session: no second request (the note is kept for the session)
    assert dmp_state(page) == "authorised"
    dmp_list(page)
    shots(page, "reloaded-no-second-request")
    assert len(live_dmp.calls("TD0.3")) == 1


def test_conf06_an_opposed_patient_is_never_asked_for_until_the_non_opposition_is_recorded(
    page,
    live_server,
    live_dmp,  # noqa: F811
):
    shots = Evidence("SC.DMP/CONF.06")
    consultation = live_dmp.consultation(documents=4, consent=State.INFORMED_OPPOSED)
    log_in(page, live_server, consultation.user)

    open_file(page, live_server, consultation.patient)
    assert dmp_state(page) == "opposed"
    assert "oppos" in page.get_by_test_id("dmp-state").inner_text().lower()
    expect(page.get_by_test_id("dmp-blocked")).to_have_attribute("data-reason", "opposed")
    assert "opposition" in page.get_by_test_id("icon-dmp-consultation").inner_text()
    shots(page, "opposed-banner", element=page.get_by_test_id("patient-banner"))
    shots(page, "opposed-file")
    assert live_dmp.calls() == []  # nothing at all reached the DMP

    page.get_by_role("button", name="Informé, accepte la consultation").click()
    expect(page.get_by_test_id("icon-dmp-consultation")).to_contain_text("autorisée")
    shots(page, "non-opposition-recorded")
    assert live_dmp.calls() == []

    open_file(page, live_server, consultation.patient)
    assert dmp_state(page) == "authorised"
    dmp_list(page)
    shots(page, "consultation-allowed")
    assert live_dmp.calls("TD0.2") and live_dmp.calls("ITI-18")


def test_ux10_the_file_stays_usable_while_the_dmp_is_slow(page, live_server, live_dmp, settings):  # noqa: F811
    shots = Evidence("DPI.DMP/UX.10")
    settings.DMP_TIMEOUT_SECONDS = 3.0  # time enough to use the file while the DMP is being asked
    consultation = live_dmp.consultation(documents=4)
    log_in(page, live_server, consultation.user)
    live_dmp.set_mode(DmpBehaviour.Mode.SLOW, slow_seconds=6)

    open_file(page, live_server, consultation.patient)
    loading = page.get_by_test_id("dmp-access-loading")
    assert "interrogation du DMP…" in loading.inner_text()
    assert page.get_by_test_id("dmp-panel-loading").is_visible()
    shots(page, "dmp-being-asked")

    history = page.locator("[data-testid=consent-history] tbody tr")
    before = history.count()
    page.get_by_test_id("informed-no-opposition").click()  # meanwhile, the file answers as usual
    expect(history).to_have_count(before + 2)
    assert loading.is_visible() and page.get_by_test_id("dmp-state").count() == 0  # the DMP has not answered yet
    page.locator("#consent-panel details").last.locator("summary").click()
    shots(page, "file-used-while-waiting")

    assert dmp_state(page) == "error"
    assert "DMP" in page.get_by_test_id("dmp-state").inner_text()
    error = page.locator("#dmp-panel [data-testid=dmp-error]")
    expect(error).to_be_visible(timeout=20_000)
    assert "reste utilisable" in error.inner_text()
    shots(page, "dmp-did-not-answer")

    live_dmp.set_mode(DmpBehaviour.Mode.NORMAL)
    page.get_by_test_id("dmp-refresh").click()
    dmp_list(page)
    shots(page, "refreshed-once-the-dmp-answers")


# --- the DMP section: new documents, list, search ------------------------------------------------


def test_ux15_new_documents_are_counted_per_type_as_configured_then_marked_as_seen(
    page,
    live_server,
    live_dmp,  # noqa: F811
    care_unit,
):
    shots = Evidence("SC.DMP/UX.15")
    configured = Evidence("SC.DMP/UX.17")
    invisible = Evidence("SC.DMP/UX.14.TER")
    user = live_dmp.professional(care_unit, is_staff=True, is_superuser=True)  # also sets the rules
    consultation = live_dmp.consultation(user=user)
    dmp = consultation.dmp
    rule = NewDocumentsRule.objects.create(
        care_unit=care_unit,
        categories=[category.key for category in CATEGORIES if category.key != "imaging"],
        reference=Reference.DAYS,
        days=30,
    )
    live_dmp.add_document(dmp, LETTER, days_ago=2)
    live_dmp.add_document(dmp, BIOLOGY, days_ago=3)
    live_dmp.add_document(dmp, BIOLOGY, days_ago=1, invisible_to_patient=True)
    live_dmp.add_document(dmp, IMAGING, days_ago=1)  # a type the unit does not count
    live_dmp.add_document(dmp, LETTER, days_ago=60)  # before the period
    live_dmp.add_document(dmp, LETTER, days_ago=1, from_site=care_unit.site)  # written in the hospital
    log_in(page, live_server, user)

    page.goto(f"{live_server.url}/admin/dmp/newdocumentsrule/{rule.pk}/change/")
    expect(page.locator("input[name=categories][value=imaging]")).not_to_be_checked()
    expect(page.locator("input[name=categories][value=biology]")).to_be_checked()
    configured(page, "rule-of-the-unit")

    open_file(page, live_server, consultation.patient)
    new = page.get_by_test_id("dmp-new-documents")
    expect(page.get_by_test_id("dmp-new-total")).to_have_text("3")
    expect(page.get_by_test_id("dmp-new-ldl")).to_have_attribute("data-count", "1")
    expect(page.get_by_test_id("dmp-new-biology")).to_have_attribute("data-count", "2")
    assert page.get_by_test_id("dmp-new-imaging").count() == 0
    expect(page.get_by_test_id("dmp-new-invisible")).to_have_text("dont 1 invisible pour le patient")
    assert "Lettres de liaison : 1" in new.inner_text() and "Biologie : 2" in new.inner_text()
    section = page.get_by_test_id("dmp-section")
    for evidence in (shots, configured, invisible):
        evidence(page, "new-documents-per-type", element=section)
    invisible(page, "invisible-in-the-list", element=page.get_by_test_id("dmp-entries"))

    page.get_by_test_id("dmp-new-acknowledge").click()
    page.get_by_test_id("dmp-new-acknowledged").wait_for()
    shots(page, "marked-as-seen", element=section)
    page.reload()
    expect(page.get_by_test_id("dmp-new-total")).to_have_attribute("data-count", "0")
    shots(page, "reopened-no-new-document", element=section)

    live_dmp.add_document(dmp, BIOLOGY, days_ago=0)
    page.get_by_test_id("dmp-refresh").click()
    expect(page.get_by_test_id("dmp-new-biology")).to_have_attribute("data-count", "1")
    expect(page.get_by_test_id("dmp-new-total")).to_have_text("1")
    shots(page, "counting-again-from-then", element=section)


def test_ux14_the_dmp_documents_are_listed_with_the_invisible_sign_and_viewed(page, live_server, live_dmp):  # noqa: F811
    shots = Evidence("SC.DMP/UX.14")
    bis = Evidence("SC.DMP/UX.14.BIS")
    consultation = live_dmp.consultation(documents=4)
    hidden = live_dmp.add_document(consultation.dmp, IMAGING, days_ago=3, invisible_to_patient=True)
    report = live_dmp.add_document(consultation.dmp, BIOLOGY, days_ago=2)  # N1: a CDA with its PDF
    log_in(page, live_server, consultation.user)

    open_file(page, live_server, consultation.patient)
    entries = dmp_list(page)
    rows = entries.get_by_test_id("dmp-entry")
    assert rows.count() >= 6
    assert entries.locator("[data-invisible]").count() == 1
    assert row_of(page, hidden).get_by_test_id("dmp-invisible").is_visible()
    assert row_of(page, report).get_by_test_id("dmp-invisible").count() == 0
    for evidence in (shots, bis):
        evidence(page, "file-with-the-dmp-list")
        evidence(page, "list-invisible-sign", element=page.get_by_test_id("dmp-section"))

    page.get_by_test_id("dmp-search").locator("summary").click()
    expect(page.get_by_test_id("dmp-search-form")).to_be_visible()
    shots(page, "metadata-filters", element=page.get_by_test_id("dmp-section"))

    row_of(page, report).get_by_test_id("dmp-entry-open").click()
    page.get_by_test_id("dmp-document").wait_for()
    expect(page.get_by_test_id("tab-pdf")).to_have_attribute("aria-selected", "true")
    pdf = page.request.get(live_server.url + page.get_by_test_id("pdf-frame").get_attribute("src"))
    assert pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF-")
    assert page.get_by_test_id("dmp-document-integrate").is_visible()  # viewed before any integration
    assert not Document.objects.filter(patient=consultation.patient).exists()
    shots(page, "document-pdf")

    page.get_by_test_id("tab-cda").click()
    expect(page.get_by_test_id("tab-cda")).to_have_attribute("aria-selected", "true")
    frame = page.frame_locator("[data-testid=cda-frame]")
    expect(frame.locator("body")).to_contain_text("DMP-TEST")
    shots(page, "document-cda")
    assert len(live_dmp.calls("ITI-43")) == 1  # the tabs reuse the document retrieved once


def test_ux27_the_dmp_is_searched_on_several_criteria_including_invisibility(page, live_server, live_dmp):  # noqa: F811
    shots = Evidence("SC.DMP/UX.27")
    consultation = live_dmp.consultation(documents=4)
    hidden = live_dmp.add_document(consultation.dmp, IMAGING, days_ago=3, invisible_to_patient=True)
    visible = live_dmp.add_document(consultation.dmp, IMAGING, days_ago=5)
    hidden_letter = live_dmp.add_document(consultation.dmp, LETTER, days_ago=4, invisible_to_patient=True)
    log_in(page, live_server, consultation.user)

    open_file(page, live_server, consultation.patient)
    dmp_list(page)
    page.get_by_test_id("dmp-search").locator("summary").click()
    form = page.get_by_test_id("dmp-search-form")
    form.get_by_label("Type de document").select_option(label="Imagerie")
    form.get_by_label("Visibilité pour le patient").select_option("invisible")
    form.get_by_label("Période de l'acte").select_option("1y")
    shots(page, "criteria", element=page.get_by_test_id("dmp-section"))
    searches = len(live_dmp.calls("ITI-18"))

    form.get_by_role("button", name="Rechercher").click()
    rows = page.get_by_test_id("dmp-entry")
    expect(rows).to_have_count(1)
    assert rows.get_attribute("data-unique-id") == hidden.unique_id
    assert rows.get_by_test_id("dmp-invisible").is_visible()
    assert row_of(page, visible).count() == 0 and row_of(page, hidden_letter).count() == 0
    shots(page, "results", element=page.get_by_test_id("dmp-section"))

    sent = live_dmp.calls("ITI-18")[searches:]
    assert sent and any("INVISIBLE_PATIENT" in str(call.query_parameters) for call in sent)


def test_airs06_each_users_own_national_identifier_is_in_every_request(page, browser, live_server, live_dmp):  # noqa: F811
    shots = Evidence("SC.DMP/AIRS.06")
    first = live_dmp.consultation(documents=4)
    report = live_dmp.add_document(first.dmp, BIOLOGY, days_ago=2)
    care_unit = first.user.memberships.first().care_unit
    second_user = live_dmp.professional(care_unit, is_staff=True, is_superuser=True)
    live_dmp.authorise(first.dmp, second_user)
    assert first.user.national_id != second_user.national_id

    log_in(page, live_server, first.user)
    assert f"RPPS {first.user.rpps}" in page.locator(".user-box").inner_text()
    open_file(page, live_server, first.patient)
    dmp_list(page)
    row_of(page, report).get_by_test_id("dmp-entry-open").click()
    page.get_by_test_id("pdf-frame").wait_for()
    shots(page, "ps1-document-viewed")
    by_first = live_dmp.calls()
    assert {call.transaction for call in by_first} >= {"TD0.2", "ITI-18", "ITI-43"}
    assert {call.name_id for call in by_first} == {first.user.national_id}

    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="fr-FR")
    try:
        other = context.new_page()
        other.set_default_timeout(15_000)
        log_in(other, live_server, second_user)
        assert f"RPPS {second_user.rpps}" in other.locator(".user-box").inner_text()
        open_file(other, live_server, first.patient)
        dmp_list(other)
        shots(other, "ps2-file")
        by_second = live_dmp.calls()[len(by_first) :]
        assert {call.transaction for call in by_second} >= {"TD0.2", "ITI-18"}
        assert {call.name_id for call in by_second} == {second_user.national_id}

        other.goto(f"{live_server.url}/admin/sandbox/dmpcall/")
        expect(other.locator("#result_list")).to_contain_text(first.user.national_id)
        expect(other.locator("#result_list")).to_contain_text(second_user.national_id)
        shots(other, "sandbox-record-of-the-name-ids")
    finally:
        context.close()


# --- integration and updates -----------------------------------------------------------------------


def test_ux31_several_documents_are_integrated_in_one_action(page, live_server, live_dmp):  # noqa: F811
    shots = Evidence("SC.DMP/UX.31")
    consultation = live_dmp.consultation(documents=4)
    letter = live_dmp.add_document(consultation.dmp, LETTER, days_ago=2)
    report = live_dmp.add_document(consultation.dmp, BIOLOGY, days_ago=3)
    log_in(page, live_server, consultation.user)

    open_file(page, live_server, consultation.patient)
    dmp_list(page)
    expect(page.get_by_test_id("documents").or_(page.get_by_text("Aucun document."))).to_be_visible()
    assert page.get_by_test_id("document-row").count() == 0
    row_of(page, letter).locator("input[type=checkbox]").check()
    row_of(page, report).locator("input[type=checkbox]").check()
    shots(page, "two-documents-checked", element=page.get_by_test_id("dmp-section"))

    page.get_by_test_id("dmp-integrate").click()
    result = page.get_by_test_id("dmp-integration-result")
    expect(result.locator("[data-testid=dmp-integrated][data-ok='1']")).to_have_count(2)
    rows = page.get_by_test_id("document-row")
    expect(rows).to_have_count(2)  # the file's documents list reloads by itself
    for index in range(2):
        assert "Importé du DMP" in rows.nth(index).get_by_test_id("provenance").inner_text()
    shots(page, "integrated-and-listed-in-the-file")

    integrated = Document.objects.filter(patient=consultation.patient, provenance=Provenance.DMP)
    assert integrated.count() == 2
    page.reload()
    dmp_list(page)
    expect(row_of(page, letter).get_by_test_id("dmp-already-integrated")).to_be_visible()
    expect(row_of(page, report).get_by_test_id("dmp-already-integrated")).to_be_visible()
    shots(page, "marked-already-integrated", element=page.get_by_test_id("dmp-section"))


def test_dd05_a_document_replaced_in_the_dmp_is_signalled_and_its_new_version_integrated(
    page,
    live_server,
    live_dmp,  # noqa: F811
    settings,
):
    shots = Evidence("SC.CDA/DD.05")
    settings.DMP_CACHE_MINUTES = 0  # every opening of the file asks the DMP again, as on a later day
    consultation = live_dmp.consultation(documents=4)
    letter = live_dmp.add_document(consultation.dmp, LETTER, days_ago=5)
    log_in(page, live_server, consultation.user)

    open_file(page, live_server, consultation.patient)
    dmp_list(page)
    row_of(page, letter).locator("input[type=checkbox]").check()
    page.get_by_test_id("dmp-integrate").click()
    expect(page.locator("[data-testid=dmp-integrated][data-ok='1']")).to_have_count(1)
    document = Document.objects.get(patient=consultation.patient, provenance=Provenance.DMP)
    shots(page, "letter-integrated")

    live_dmp.replace_document(consultation.dmp, letter)  # a new version submitted by its author
    open_file(page, live_server, consultation.patient)
    update = page.get_by_test_id("dmp-update")
    expect(update).to_contain_text("une nouvelle version est dans le DMP")
    assert document.title in update.inner_text()
    shots(page, "notice-on-opening-the-file")

    update.get_by_test_id("dmp-update-integrate").click()
    expect(page.locator("[data-testid=dmp-integrated][data-ok='1']")).to_have_count(1)
    shots(page, "new-version-integrated", element=page.get_by_test_id("dmp-section"))
    assert Document.objects.filter(patient=consultation.patient, provenance=Provenance.DMP).count() == 1
    assert document.versions.count() == 2  # the new version beside the old one

    page.goto(f"{live_server.url}/documents/{document.pk}/")
    versions = page.get_by_test_id("versions")
    expect(versions).to_contain_text("v2")
    expect(versions).to_contain_text("v1")
    shots(page, "both-versions-kept")


def test_a_document_invisible_to_the_patient_is_made_visible_after_confirmation(page, live_server, live_dmp):  # noqa: F811
    shots = Evidence("SC.DMP/VISIBILITE")
    consultation = live_dmp.consultation(documents=4)
    hidden = live_dmp.add_document(consultation.dmp, IMAGING, days_ago=3, invisible_to_patient=True)
    log_in(page, live_server, consultation.user)

    open_file(page, live_server, consultation.patient)
    dmp_list(page)
    row = row_of(page, hidden)
    assert row.get_by_test_id("dmp-invisible").is_visible()
    shots(page, "invisible-in-the-list", element=page.get_by_test_id("dmp-section"))

    row.get_by_test_id("dmp-make-visible").click()
    confirm = page.get_by_test_id("dmp-visibility")
    expect(confirm).to_contain_text("ce choix ne peut pas être annulé")
    expect(page.get_by_label("Rendre visible pour le patient")).to_be_checked()
    shots(page, "confirmation-asked")
    assert not live_dmp.calls("ITI-57")

    page.get_by_test_id("dmp-visibility-confirm").click()
    page.get_by_test_id("dmp-section").wait_for()
    expect(page.locator(".messages")).to_contain_text("est maintenant visible")
    dmp_list(page)
    expect(row_of(page, hidden).get_by_test_id("dmp-invisible")).to_have_count(0)
    shots(page, "visible-now")

    changes = live_dmp.calls("ITI-57")
    assert len(changes) == 1 and changes[0].name_id == consultation.user.national_id
    current = DmpDocument.objects.get(unique_id=hidden.unique_id, status=DmpDocument.Status.APPROVED)
    assert not current.invisible_to_patient


# --- contextual accesses: the DMP web PS and the DRIMbox ----------------------------------------------


def test_ux49_the_dmp_web_ps_opens_on_the_patient_and_on_the_vaccination_note(
    page,
    live_server,
    live_dmp,  # noqa: F811
    settings,
):
    shots = Evidence("DPI.DMP/UX.49", "DPI.AUTH.01", "DPI.AUTH.02", scenario="air")  # PSC's: .../psc/
    allow_forms_to_sandbox(settings, live_dmp)
    consultation = live_dmp.consultation(documents=4)
    user, patient = consultation.user, consultation.patient
    log_in(page, live_server, user)
    open_file(page, live_server, patient)
    dmp_list(page)
    shots(page, "web-ps-buttons", element=page.get_by_test_id("dmp-section"))

    with page.expect_popup() as opened:
        page.get_by_test_id("open-webps").click()
    webps = opened.value
    expect(webps.locator("h1")).to_have_text("Dossier médical partagé")
    assert webps.url == live_dmp.server.webps_url
    expect(webps.locator("body")).to_contain_text(f"({user.national_id})")
    assert webps.locator("tbody tr").count() >= 4
    shots(webps, "web-ps-patient-dmp")
    calls = live_dmp.calls("TD0.10")
    assert len(calls) == 1 and calls[0].outcome == "ok"
    assert calls[0].name_id == user.national_id and calls[0].patient_ins.startswith(patient.ins)
    webps.close()

    with page.expect_popup() as opened:
        page.get_by_test_id("open-vaccination").click()
    vaccination = opened.value
    expect(vaccination.locator("h1")).to_have_text("Vaccination")
    shots(vaccination, "web-ps-vaccination")
    vaccination.get_by_label("Vaccin").fill("Grippe saisonnière")
    vaccination.get_by_label("Numéro de lot").fill("LOT-2026-01")
    vaccination.get_by_role("button", name="Enregistrer dans le DMP").click()
    expect(vaccination.locator(".ok")).to_contain_text("Note de vaccination enregistrée")
    notes = vaccination.locator("main li")
    expect(notes).to_have_count(1)
    expect(notes).to_contain_text(user.national_id)  # written in the DMP under the user's own identifier
    shots(vaccination, "vaccination-note-recorded")
    vaccination.close()
    assert [call.name_id for call in live_dmp.calls("TD0.10")] == [user.national_id] * 2


def test_tra04_the_drimbox_opens_from_the_dmp_section(page, live_server, live_dmp, settings):  # noqa: F811
    shots = Evidence("SC.DB/TRA.04")
    allow_forms_to_sandbox(settings, live_dmp)
    consultation = live_dmp.consultation()
    live_dmp.add_document(consultation.dmp, IMAGING, days_ago=4)
    log_in(page, live_server, consultation.user)
    open_file(page, live_server, consultation.patient)
    dmp_list(page)
    link = page.get_by_test_id("open-drimbox")
    shots(page, "drimbox-link", element=page.get_by_test_id("dmp-section"))

    with page.expect_popup() as opened:
        link.click()
    drimbox = opened.value
    expect(drimbox.locator("h1")).to_have_text("Examens d'imagerie du patient")
    studies = drimbox.locator("tbody tr")
    expect(studies).to_have_count(1)
    shots(drimbox, "drimbox-studies")
    calls = live_dmp.calls("DRIMbox")
    assert len(calls) == 1 and calls[0].name_id == consultation.user.national_id

    studies.get_by_role("button", name="Visualiser").click()
    drimbox.wait_for_load_state()
    assert "/drimbox/etude" in drimbox.url
    shots(drimbox, "drimbox-viewer")
    drimbox.close()

"""Hostile content in Debian's chromium (issue 17 §2): a patient whose name from the PAM feed carries script, then
hostile CDA documents (narrative, header) with hostile producer stylesheets, opened in the file viewer on every
tab. No script may run: every payload of ``tests/security/payloads.py`` sets ``window.__pwned`` and opens a
dialog; the browser is watched for dialogs, for the sentinel in every frame, and for blocked-script or CSP
messages on the console (they would mean a script reached the page and only the last wall stopped it).
Screenshots under ``var/artefacts/rem/SC.SSI/GEN.18/``."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from documents.models import Document
from dpi.hl7.engine import process_inbound
from patients.models import Patient
from sandbox.mss_push import patient_document, patient_identity
from tests.browser.helpers import log_in, rem_shots
from tests.factories import CareUnitFactory, LegalEntityFactory, MembershipFactory, RoleFactory, SiteFactory
from tests.pam.builder import FINESS_EG, FINESS_EJ, Adt
from tests.security.payloads import HOSTILE_NAMES, NARRATIVES, PRODUCER_STYLESHEETS, SECRET_MARKERS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCHED_CONSOLE = ("blocked script execution", "content security policy", "refused to")
RENDERED = ("script-in-narrative", "linkhtml-javascript", "rendermultimedia-svg-html", "script-in-header")
OUTPUTS = ("script-ish-output", "mutating-output")


class Watch:
    """What the page did that it must not: dialogs opened, console messages about blocked scripts or the CSP."""

    def __init__(self, page) -> None:  # noqa: ANN001  (Playwright's page)
        self.dialogs: list[str] = []
        self.console: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", self._console)

    def _dialog(self, dialog) -> None:  # noqa: ANN001
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message) -> None:  # noqa: ANN001
        if any(text in message.text.lower() for text in WATCHED_CONSOLE):
            self.console.append(message.text)

    def assert_nothing_ran(self, page) -> None:  # noqa: ANN001
        page.wait_for_timeout(300)  # an onerror or onload would have fired by now (never a timing assertion)
        assert self.dialogs == [] and self.console == [], (self.dialogs, self.console)
        for frame in page.frames:
            assert frame.evaluate("() => typeof window.__pwned") == "undefined", frame.url
            content = frame.content()
            assert all(marker not in content for marker in SECRET_MARKERS)


def _hospital() -> tuple[object, Patient]:
    """A unit of the PAM builder's structure, its physician, and a patient admitted over the feed under a
    hostile name (the engine's entry point, as the MLLP listener calls it)."""
    entity = LegalEntityFactory(finess_ej=FINESS_EJ, accepts_test_ins=True)
    unit = CareUnitFactory(site=SiteFactory(legal_entity=entity, finess_eg=FINESS_EG), code="UF01", name="Unité 1")
    user = MembershipFactory(care_unit=unit, role=RoleFactory()).user
    ack = process_inbound(Adt(birth_name=HOSTILE_NAMES[1], first_name=HOSTILE_NAMES[0]).encode(), peer="127.0.0.1:b")
    assert b"MSA|AA|" in ack
    return user, Patient.objects.get(ipp="000100")


def _import_hostile_documents(user, patient: Patient) -> list[Document]:  # noqa: ANN001
    """Each hostile narrative with a hostile producer stylesheet, imported through the upload page."""
    client = Client()
    client.force_login(user)
    stylesheets = {payload.name: payload for payload in PRODUCER_STYLESHEETS}
    documents = []
    for number, name in enumerate(RENDERED):
        narrative = next(payload for payload in NARRATIVES if payload.name == name)
        xsl = stylesheets[OUTPUTS[number % len(OUTPUTS)]].xsl(secret="", written="")
        cda = narrative.apply(patient_document(patient_identity(patient))[1])  # a new document id each time
        files = {"cda": SimpleUploadedFile("d.xml", cda), "stylesheet": SimpleUploadedFile("p.xsl", xsl)}
        response = client.post(
            reverse("documents:import", args=[patient.pk]), files | {"accept_identity_differences": "on"}
        )
        assert response.status_code == 302, response.content.decode()[-500:]
        documents.append(Document.objects.order_by("-pk").first())
    return documents


def test_no_script_of_a_hostile_name_document_or_stylesheet_runs_in_the_browser(page, live_server):
    shots = rem_shots("SC.SSI/GEN.18")
    user, patient = _hospital()
    documents = _import_hostile_documents(user, patient)
    watch = Watch(page)
    log_in(page, live_server, user)

    page.goto(f"{live_server.url}/")
    shots(page, "home-hostile-name")
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.get_by_test_id("patient-banner").wait_for()
    assert HOSTILE_NAMES[1].upper() in page.get_by_test_id("patient-banner").inner_text().upper()
    shots(page, "file-hostile-name")
    watch.assert_nothing_ran(page)

    for document, name in zip(documents, RENDERED, strict=True):
        for tab in ("cda", "producer"):
            page.goto(f"{live_server.url}/documents/{document.pk}/")
            page.get_by_test_id(f"tab-{tab}").click()
            frame = page.frame_locator("[data-testid=cda-frame]")
            frame.locator("body").wait_for()
            shots(page, f"{name}-{tab}")
            watch.assert_nothing_ran(page)

"""Irreversible-looking actions ask first, under the site's CSP (no inline script): dismissing the question
sends nothing, accepting it does. Emergency access (a plain form, static/js/confirm.js) and recording an
opposition (an htmx form, hx-confirm)."""

from __future__ import annotations

import pytest

from consent.models import ConsentDecision
from patients.models import EmergencyAccess
from tests.browser.helpers import log_in, qualified_patient_in
from tests.factories import EpisodeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _answer(page, accept: bool, questions: list[str]) -> None:
    def handle(dialog) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", handle)


def test_emergency_access_and_an_opposition_are_confirmed_before_they_are_recorded(page, live_server, care_unit, shots):
    user, patient = qualified_patient_in(care_unit)
    outsider = EpisodeFactory().patient
    log_in(page, live_server, user)
    questions: list[str] = []

    page.goto(f"{live_server.url}/patients/{outsider.pk}/")
    page.locator("#id_reason").fill("Arrêt cardiaque aux urgences")
    _answer(page, False, questions)
    page.get_by_role("button", name="Ouvrir en accès d'urgence").click()
    page.wait_for_timeout(300)  # a refused question leaves the page as it is (not a timing assertion)
    assert not EmergencyAccess.objects.exists()
    _answer(page, True, questions)
    page.get_by_role("button", name="Ouvrir en accès d'urgence").click()
    page.wait_for_selector("[data-testid=emergency-banner]")
    assert EmergencyAccess.objects.filter(user=user, patient=outsider).count() == 1
    shots(page, "emergency-access-confirmed")

    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    _answer(page, False, questions)
    page.get_by_test_id("oppose-dmp_feeding").click()
    page.wait_for_timeout(300)
    assert not ConsentDecision.objects.filter(state="informed_opposed").exists()
    _answer(page, True, questions)
    page.get_by_test_id("oppose-dmp_feeding").click()
    page.locator("[data-testid=oppose-dmp_feeding][aria-pressed=true]").wait_for()
    assert ConsentDecision.objects.filter(state="informed_opposed", subject="dmp_feeding").count() == 1
    shots(page, "opposition-confirmed")

    assert [q.split(" ?")[0] for q in questions] == [
        "Ouvrir ce dossier en accès d'urgence",
        "Ouvrir ce dossier en accès d'urgence",
        "Enregistrer l'opposition du patient à l'alimentation de son DMP pour cet épisode de soins",
        "Enregistrer l'opposition du patient à l'alimentation de son DMP pour cet épisode de soins",
    ]

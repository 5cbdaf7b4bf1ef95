"""SC.MSS/UX.10 in the browser: while writing a discharge letter, the physician searches a correspondent by
name and city; the Annuaire Santé's answer (sandbox FHIR server) arrives after the local results, each
MSSanté box by type and practice situation; one click adds the personal box as a checked recipient, and
the saved draft names it. Screenshots under var/artefacts/rem/SC.MSS/UX.10/."""

from __future__ import annotations

import json

import pytest

from documents.models import Document
from sandbox.annuaire.people import person
from sandbox.annuaire.server import AnnuaireServer
from tests.browser.helpers import log_in, qualified_patient_in, rem_shots, start_discharge_letter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
KEY = "cle-du-scenario"
SOMEONE = person(4)


@pytest.fixture
def annuaire(settings):
    server = AnnuaireServer("127.0.0.1", 0, api_key=KEY, people=300)
    server.start()
    settings.ANNUAIRE_FHIR_URL, settings.ANNUAIRE_API_KEY = server.base_url, KEY
    yield server
    server.shutdown()
    server.server_close()


def test_a_correspondent_found_by_name_and_city_in_the_directory_becomes_a_recipient(
    page, live_server, care_unit, annuaire
):
    physician, patient = qualified_patient_in(care_unit)
    town = SOMEONE.activities[0].structure.town[2]
    shots = rem_shots("SC.MSS/UX.10")

    log_in(page, live_server, physician)
    start_discharge_letter(page, live_server, patient)
    page.get_by_test_id("recipient-criteria").locator("summary").click()
    page.get_by_test_id("recipient-nom").fill(SOMEONE.family_name)
    page.get_by_test_id("recipient-lieu").fill(town)
    shots(page, "criteria-name-and-city")
    page.get_by_role("button", name="Rechercher").click()
    found = page.get_by_test_id(f"annuaire-{SOMEONE.rpps}")
    found.wait_for()
    assert "BAL personnelle" in found.inner_text() and town in found.inner_text()
    found.scroll_into_view_if_needed()
    shots(page, "directory-answer-boxes-by-type-and-situation")

    page.get_by_test_id(f"annuaire-add-{SOMEONE.mss_address}").click()
    row = page.locator("#recipient-list li", has_text=SOMEONE.mss_address)
    row.wait_for()
    assert row.locator("input[type=checkbox]").is_checked()
    shots(page, "address-added-as-recipient")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.wait_for_load_state()

    letter = Document.objects.get(patient=patient)
    assert SOMEONE.mss_address in json.dumps(letter.recipients)

"""The correspondent search reaches the Annuaire Santé (SC.MSS/UX.10, ANN/va1.05): local correspondents
first, then the directory in a lazy fragment; one click adds an MSSanté address as a recipient of the
document being written or names it in the patient's panel; an unreachable directory leaves the page usable."""

from __future__ import annotations

import pytest
from django.urls import reverse

from directory.models import Correspondent, PatientCorrespondent
from dpi.models import AuditEvent
from sandbox.annuaire.people import person
from tests.factories import CorrespondentFactory, EpisodeFactory

pytestmark = pytest.mark.django_db
SOMEONE = person(4)


@pytest.fixture
def patient(care_unit, client, doctor):
    client.force_login(doctor)
    return EpisodeFactory(care_unit=care_unit).patient


def test_local_results_come_first_and_the_directory_loads_in_the_background(client, patient, sandbox):
    CorrespondentFactory(family_name=SOMEONE.family_name)
    url = reverse("directory:search", args=[patient.pk])

    page = client.get(url, {"nom": SOMEONE.family_name, "lieu": "", "pour": "document"}).content.decode()

    assert 'data-testid="correspondent-results"' in page
    assert "Recherche dans l'Annuaire Santé…" in page
    assert not sandbox.calls  # the local results never wait for the directory


def test_the_directory_fragment_shows_mailboxes_by_type_and_practice_situation(client, patient, sandbox):
    url = reverse("directory:annuaire", args=[patient.pk])

    page = client.get(url, {"rpps": SOMEONE.rpps, "pour": "document"}).content.decode()

    assert f'data-testid="annuaire-{SOMEONE.rpps}"' in page
    assert "BAL personnelle" in page and "BAL organisationnelle" in page
    assert SOMEONE.mss_address in page
    assert SOMEONE.activities[0].structure.name in page


def test_a_free_text_alone_searches_the_directory_by_name(client, patient, sandbox):
    url = reverse("directory:annuaire", args=[patient.pk])

    page = client.get(url, {"q": SOMEONE.family_name, "pour": "patient"}).content.decode()

    assert SOMEONE.family_name in page and "Médecin traitant" in page


def test_an_address_picked_becomes_a_directory_correspondent_and_a_checked_recipient_row(client, patient, sandbox):
    url = reverse("directory:annuaire_recipient", args=[patient.pk])

    row = client.post(url, {"rpps": SOMEONE.rpps, "adresse": SOMEONE.mss_address}).content.decode()

    correspondent = Correspondent.objects.get(rpps=SOMEONE.rpps)
    assert (correspondent.source, correspondent.mss_address) == ("annuaire", SOMEONE.mss_address)
    assert (correspondent.family_name, correspondent.city) == (
        SOMEONE.family_name,
        SOMEONE.activities[0].structure.town[2],
    )
    assert f'value="{correspondent.pk}" checked' in row
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.CORRESPONDENT_CHANGE, object_id=str(correspondent.pk)
    ).exists()


def test_picking_the_same_address_again_refreshes_the_correspondent_instead_of_duplicating_it(client, patient, sandbox):
    stale = CorrespondentFactory(rpps=SOMEONE.rpps, mss_address=SOMEONE.mss_address, family_name="ANCIEN")
    url = reverse("directory:annuaire_recipient", args=[patient.pk])

    client.post(url, {"rpps": SOMEONE.rpps, "adresse": SOMEONE.mss_address})

    stale.refresh_from_db()
    assert (Correspondent.objects.count(), stale.family_name, stale.source) == (1, SOMEONE.family_name, "annuaire")


def test_an_address_that_is_not_the_professionals_is_refused(client, patient, sandbox):
    url = reverse("directory:annuaire_recipient", args=[patient.pk])

    response = client.post(url, {"rpps": SOMEONE.rpps, "adresse": "pirate@exemple.mssante.fr"})

    assert response.status_code == 400
    assert not Correspondent.objects.exists()


def test_an_address_from_the_directory_is_named_the_patients_general_practitioner(client, patient, sandbox):
    url = reverse("directory:annuaire_name", args=[patient.pk])

    panel = client.post(url, {"rpps": SOMEONE.rpps, "adresse": SOMEONE.mss_address, "role": "traitant"})

    link = PatientCorrespondent.objects.get(patient=patient)
    assert (link.role, link.correspondent.rpps) == ("traitant", SOMEONE.rpps)
    assert 'data-testid="correspondent-traitant"' in panel.content.decode()


def test_a_directory_in_error_leaves_a_clear_message_and_the_local_results_usable(client, patient, sandbox):
    sandbox.mode = "error"
    url = reverse("directory:annuaire", args=[patient.pk])

    page = client.get(url, {"nom": "MARTIN"}).content.decode()

    assert 'data-testid="annuaire-error"' in page and "HTTP 500" in page
    assert "restent utilisables" in page


def test_a_user_of_another_unit_cannot_search_the_directory_for_the_patient(
    client, patient, sandbox, user_without_unit
):
    client.force_login(user_without_unit)

    response = client.get(reverse("directory:annuaire", args=[patient.pk]), {"nom": "MARTIN"})

    assert response.status_code == 403
    assert not sandbox.calls

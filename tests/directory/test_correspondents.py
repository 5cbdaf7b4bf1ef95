"""A patient's correspondents (HOP/va1.05): named from the file, planned as recipients of every document."""

from __future__ import annotations

import pytest
from django.urls import reverse

from directory.models import PatientCorrespondent
from directory.selectors import planned_recipients, search_correspondents
from directory.services import name_patient_correspondent
from dpi.models import AuditEvent
from tests.factories import CareUnitFactory, CorrespondentFactory, EpisodeFactory

Role = PatientCorrespondent.Role
pytestmark = pytest.mark.django_db


@pytest.fixture
def episode(care_unit):
    return EpisodeFactory(care_unit=care_unit)


def test_a_new_general_practitioner_replaces_the_previous_one_and_is_audited(episode, doctor):
    patient, first, second = episode.patient, CorrespondentFactory(), CorrespondentFactory()
    name_patient_correspondent(patient=patient, correspondent=first, role=Role.TREATING, acting_user=doctor)
    name_patient_correspondent(patient=patient, correspondent=second, role=Role.TREATING, acting_user=doctor)

    assert [(link.role, link.correspondent) for link in planned_recipients(patient)] == [(Role.TREATING, second)]
    rows = AuditEvent.objects.filter(action=AuditEvent.Action.CORRESPONDENT_CHANGE, patient_id=patient.pk)
    assert rows.count() == 2
    assert rows.first().before["replaced"] == [{"role": Role.TREATING, "correspondent": first.pk}]


def test_naming_a_correspondent_again_moves_it_to_the_new_role(episode, doctor):
    patient, gp = episode.patient, CorrespondentFactory()
    name_patient_correspondent(patient=patient, correspondent=gp, role=Role.OTHER, acting_user=doctor)
    name_patient_correspondent(patient=patient, correspondent=gp, role=Role.REFERRING, acting_user=doctor)

    assert [link.role for link in planned_recipients(patient)] == [Role.REFERRING]


def test_planned_recipients_put_the_gp_first_and_leave_out_inactive_correspondents(episode, doctor):
    patient = episode.patient
    other, gp, gone = CorrespondentFactory(), CorrespondentFactory(), CorrespondentFactory(active=False)
    for correspondent, role in ((other, Role.OTHER), (gp, Role.TREATING), (gone, Role.REFERRING)):
        name_patient_correspondent(patient=patient, correspondent=correspondent, role=role, acting_user=doctor)

    assert [link.correspondent for link in planned_recipients(patient)] == [gp, other]


def test_local_search_matches_every_word_among_names_city_and_rpps():
    moreau = CorrespondentFactory(family_name="MOREAU", city="Lyon")
    CorrespondentFactory(family_name="MOREAU", city="Paris")
    CorrespondentFactory(family_name="MOREAU", city="Lyon", active=False)

    assert list(search_correspondents("moreau lyon")) == [moreau]
    assert list(search_correspondents(moreau.rpps)) == [moreau]
    assert list(search_correspondents("   ")) == []


def test_the_file_names_a_gp_in_one_click_and_shows_it(client, episode, doctor):
    gp = CorrespondentFactory(family_name="MOREAU", mss_address="claire.moreau@medecin.mssante.fr")
    client.force_login(doctor)
    patient = episode.patient

    results = client.get(reverse("directory:search", args=[patient.pk]), {"q": "moreau", "pour": "patient"})
    assert f'data-testid="name-traitant-{gp.pk}"' in results.content.decode()
    panel = client.post(
        reverse("directory:name", args=[patient.pk]),
        {"correspondent": gp.pk, "role": "traitant"},
        HTTP_HX_REQUEST="true",
    )

    assert panel.status_code == 200
    assert "claire.moreau@medecin.mssante.fr" in panel.content.decode()
    assert PatientCorrespondent.objects.get(patient=patient).role == Role.TREATING


@pytest.mark.parametrize(
    "data",
    [{"correspondent": "x", "role": "traitant"}, {"correspondent": "1", "role": "chef"}, {}],
    ids=["id", "role", "empty"],
)
def test_a_bad_naming_is_refused_with_a_clear_error_and_changes_nothing(client, episode, doctor, data):
    CorrespondentFactory(pk=1)
    client.force_login(doctor)

    response = client.post(reverse("directory:name", args=[episode.patient.pk]), data)

    assert response.status_code == 400 and "invalide" in response.content.decode()
    assert not PatientCorrespondent.objects.exists()


def test_an_overlong_search_is_refused_not_run(client, episode, doctor):
    client.force_login(doctor)

    response = client.get(reverse("directory:search", args=[episode.patient.pk]), {"q": "x" * 201})

    assert response.status_code == 400


def test_a_user_of_another_unit_can_neither_search_nor_name_for_the_patient(client, doctor):
    episode = EpisodeFactory(care_unit=CareUnitFactory())
    client.force_login(doctor)
    gp = CorrespondentFactory()

    search = client.get(reverse("directory:search", args=[episode.patient.pk]), {"q": "moreau"})
    naming = client.post(
        reverse("directory:name", args=[episode.patient.pk]), {"correspondent": gp.pk, "role": "traitant"}
    )

    assert search.status_code == naming.status_code == 403
    assert not PatientCorrespondent.objects.exists()
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_REFUSED, patient_id=episode.patient.pk).count() == 2
    )

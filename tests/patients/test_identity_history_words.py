"""The identity history of a file speaks the words of the identity form, never the model's field names."""

from __future__ import annotations

import pytest
from django.urls import reverse
from lxml import html

from patients.models import IdentityEvent

pytestmark = pytest.mark.django_db


def _history_lines(client, patient) -> list[str]:
    page = html.fromstring(client.get(reverse("patients:file", args=[patient.pk])).content)
    return [" ".join(line.text_content().split()) for line in page.xpath("//*[@data-testid='identity-change']")]


def test_identity_history_names_each_changed_trait_in_french_with_before_and_after(client, doctor, qualified_episode):
    patient = qualified_episode.patient
    IdentityEvent.objects.create(
        patient=patient,
        kind=IdentityEvent.Kind.UPDATED,
        changes={
            "birth_name": ["PAT-DEUX", "PAT-TROIS"],
            "identity_status": ["provisoire", "validee"],
            "birth_date": ["1979-03-05", "1979-03-15"],
            "used_name": ["MARTIN", ""],
        },
    )
    client.force_login(doctor)
    lines = _history_lines(client, patient)
    assert lines == [  # in the order of the identity's traits
        "statut de l'identité : Identité provisoire → Identité validée",
        "nom de naissance : PAT-DEUX → PAT-TROIS",
        "nom utilisé : MARTIN → (vide)",
        "date de naissance : 05/03/1979 → 15/03/1979",
    ]
    assert not any("birth_name" in line or "identity_status" in line for line in lines)


def test_a_merge_in_the_history_names_identities_by_their_ipp_not_by_an_internal_id(client, doctor, qualified_episode):
    patient = qualified_episode.patient
    IdentityEvent.objects.create(
        patient=patient,
        kind=IdentityEvent.Kind.MERGED,
        changes={"absorbed": [987654, "IPP-B"], "survivor": [patient.pk, patient.ipp], "visits": ["V1", "V2"]},
        note="IPP IPP-B absorbé",
    )
    client.force_login(doctor)
    lines = _history_lines(client, patient)
    assert lines == [
        "identité absorbée : IPP IPP-B",
        f"identité conservée : IPP {patient.ipp}",
        "venues rattachées : V1, V2",
    ]
    assert "987654" not in " ".join(lines)

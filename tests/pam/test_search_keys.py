"""Identities written by the PAM feed are found by the search whatever the spelling typed: creation,
update of the names, merge (REM INS/va1.25)."""

from __future__ import annotations

import pytest

from patients.models import Patient
from patients.selectors import search_patients
from tests.support.engine import send

pytestmark = pytest.mark.django_db


def found(name: str) -> list[str]:
    return [patient.ipp for patient in search_patients(name=name)]


def test_an_identity_created_then_renamed_by_the_feed_is_found_by_its_current_names_typed_any_way(adt):
    assert (
        send(adt.but(trigger="A28", visit=None, birth_name="D'ARC", first_names="HÉLÈNE", first_name="HÉLÈNE")).code
        == "AA"
    )
    assert found("darc helene") == ["000100"]
    ack = send(
        adt.but(
            trigger="A31", control_id="2", visit=None, birth_name="LEFÈBVRE", first_names="JEAN-PIERRE",
            first_name="JEAN-PIERRE", used_name="GARCÍA", used_first_name="JP",
        )
    )  # fmt: skip
    assert ack.code == "AA", ack.text
    assert found("darc") == []
    assert found("lefebvre jean pierre") == found("garcia") == ["000100"]
    patient = Patient.objects.get()
    assert (patient.birth_name_key, patient.used_name_key, patient.first_name_key) == (
        "LEFEBVRE",
        "GARCIA",
        "JEANPIERRE",
    )


def test_an_identity_absorbed_by_a_merge_is_no_longer_found(adt):
    send(adt.but(ipp="000200", visit="V200", nda="NDA200", ins=None, birth_name="LEFEVRE"))
    send(adt.but(control_id="2", ipp="000100", birth_name="LEFÈVRE"))
    assert sorted(found("lefevre")) == ["000100", "000200"]
    merge = adt.but(trigger="A40", control_id="3", visit=None, birth_name="LEFÈVRE", mrg="000200^^^CHU&010000016&M^PI")
    ack = send(merge)
    assert ack.code == "AA", ack.text
    assert found("lefevre") == ["000100"]

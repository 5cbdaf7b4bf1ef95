"""How a patient is named (REM INS/va1.36, SC.DMP/UX.11): the four birth traits first, the used names beside
them as such, the identity status in every list, the age, "INS (NIR)" rather than an OID, test INS flagged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from patients.models import IdentityStatus, Patient
from tests.factories import EpisodeFactory, PatientFactory

pytestmark = pytest.mark.django_db

NIR = "1.2.250.1.213.1.4.8"
NIR_TEST = "1.2.250.1.213.1.4.10"


def _married(**fields) -> Patient:
    born = timezone.localdate().replace(year=timezone.localdate().year - 47) - dt.timedelta(days=3)
    defaults = {
        "birth_name": "DUPONT", "first_names": "MARIE LOUISE", "used_name": "MARTIN", "used_first_name": "MALOU",
        "birth_date": born, "sex": "F", "ins": "279035121518989", "ins_oid": NIR,
        "identity_status": IdentityStatus.QUALIFIEE,
    }  # fmt: skip
    return PatientFactory(**(defaults | fields))


def _identity_line(page: str) -> str:
    """The text of the first identity line of a list page, tags removed."""
    line = page[page.index('data-testid="patient-identity"') :]
    return " ".join(strip_tags(line[line.index(">") + 1 : line.index("</td>")]).split())


def test_plain_text_names_by_birth_traits_with_the_used_names_beside_them():
    assert _married().display_name == "DUPONT MARIE (utilisé : MARTIN MALOU)"
    assert _married(used_name="", used_first_name="").display_name == "DUPONT MARIE"
    assert _married(used_name="Dupont", used_first_name="MARIE").display_name == "DUPONT MARIE"  # same traits


def test_the_banner_shows_birth_traits_first_age_and_the_ins_kind_never_its_oid(client, doctor, care_unit):
    patient = _married()
    EpisodeFactory(patient=patient, care_unit=care_unit)
    client.force_login(doctor)
    page = client.get(reverse("patients:file", args=[patient.pk])).content.decode()
    banner = page[page.index('data-testid="patient-banner"') :]
    assert banner.index("DUPONT") < banner.index("MARIE") < banner.index("MARTIN")  # used names after, as such
    assert "Nom et prénom utilisés : MARTIN MALOU" in banner
    assert "(47 ans)" in banner and "Féminin" in banner
    assert "INS (NIR)" in banner and NIR not in page  # no raw OID anywhere on the page
    assert 'data-testid="ins-test"' not in banner


def test_a_test_ins_is_flagged_test_in_the_banner(client, doctor, care_unit):
    patient = _married(ins_oid=NIR_TEST)
    EpisodeFactory(patient=patient, care_unit=care_unit)
    client.force_login(doctor)
    page = client.get(reverse("patients:file", args=[patient.pk])).content.decode()
    assert 'data-testid="ins-test"' in page and ">test</span>" in page and NIR_TEST not in page


def test_the_patients_present_list_shows_birth_traits_and_identity_status(client, doctor, care_unit):
    patient = _married(identity_status=IdentityStatus.PROVISOIRE)
    EpisodeFactory(patient=patient, care_unit=care_unit)
    client.force_login(doctor)
    page = client.get(reverse("home")).content.decode()
    line = _identity_line(page)
    assert line.index("DUPONT") < line.index("MARIE") < line.index("Féminin") < line.index("MARTIN MALOU")
    assert "Identité provisoire" in line and "(47 ans)" in line and f"IPP {patient.ipp}" in line


def test_which_extras_are_shown_is_configurable_but_the_four_traits_always_are(client, doctor, care_unit, settings):
    settings.PATIENT_IDENTITY_EXTRAS = ["ins"]
    patient = _married()
    EpisodeFactory(patient=patient, care_unit=care_unit)
    client.force_login(doctor)
    page = client.get(reverse("home")).content.decode()
    line = _identity_line(page)
    assert "INS (NIR) 279035121518989" in line and "IPP" not in line and "ans)" not in line
    assert all(trait in line for trait in ("DUPONT", "MARIE", patient.birth_date.strftime("%d/%m/%Y"), "Féminin"))


def test_an_unknown_extra_stops_the_start_with_a_clear_error(settings):
    settings.PATIENT_IDENTITY_EXTRAS = ["age", "adresse"]
    with pytest.raises(SystemCheckError, match="PATIENT_IDENTITY_EXTRAS: unknown adresse"):
        call_command("check")


def test_the_demo_has_a_patient_in_each_of_the_four_identity_statuses():
    from sandbox.demo import _patients, _structures

    _patients(_structures())
    statuses = set(Patient.objects.filter(ipp_authority="CHU-DEMO").values_list("identity_status", flat=True))
    assert statuses == set(IdentityStatus.values)
    recovered = Patient.objects.get(identity_status=IdentityStatus.RECUPEREE)
    assert recovered.ins  # an INS retrieved from INSi, not usable for sharing until qualified


def test_a_list_showing_the_ins_by_choice_traces_each_ins_shown(client, doctor, care_unit, settings):
    from dpi.models import AuditEvent

    settings.PATIENT_IDENTITY_EXTRAS = ["ins"]
    patient = _married()
    EpisodeFactory(patient=patient, care_unit=care_unit)
    EpisodeFactory(patient=_married(ins="", ins_oid="", identity_status=IdentityStatus.PROVISOIRE), care_unit=care_unit)
    client.force_login(doctor)
    client.get(reverse("home"))
    row = AuditEvent.objects.get(action=AuditEvent.Action.INS_READ)  # the patient without an INS: none
    assert (row.patient_id, row.actor, row.detail["view"]) == (patient.pk, doctor, "home")
    assert row.detail["ins"] == patient.ins

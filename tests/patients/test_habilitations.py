"""The one habilitation rule: care relationship, wider role, or emergency access."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from dpi.models import AuditEvent, Role
from patients.selectors import AccessReason, accessible_patients, patient_access
from patients.services import start_emergency_access
from tests.factories import CareUnitFactory, EpisodeFactory, MembershipFactory, PatientFactory, RoleFactory

pytestmark = pytest.mark.django_db


def _check(user, patient, expected: AccessReason) -> None:
    """patient_access and accessible_patients must always agree."""
    assert patient_access(user, patient).reason is expected
    assert (patient in accessible_patients(user)) is (expected is not AccessReason.NONE)


def test_episode_in_own_care_unit_opens_the_file(doctor, care_unit):
    patient = EpisodeFactory(care_unit=care_unit).patient
    _check(doctor, patient, AccessReason.CARE_RELATIONSHIP)


def test_patient_without_episode_in_own_units_is_refused(doctor):
    patient = EpisodeFactory().patient
    _check(doctor, patient, AccessReason.NONE)


def test_past_episode_in_own_unit_still_opens_the_file(doctor, care_unit):
    patient = EpisodeFactory(care_unit=care_unit, discharged_at=timezone.now() - timedelta(days=400)).patient
    _check(doctor, patient, AccessReason.CARE_RELATIONSHIP)


def test_cancelled_episode_grants_nothing(doctor, care_unit):
    patient = EpisodeFactory(care_unit=care_unit, cancelled=True).patient
    _check(doctor, patient, AccessReason.NONE)


def test_expired_membership_grants_nothing(care_unit):
    membership = MembershipFactory(care_unit=care_unit, valid_until=timezone.localdate() - timedelta(days=1))
    patient = EpisodeFactory(care_unit=care_unit).patient
    _check(membership.user, patient, AccessReason.NONE)


def test_site_role_opens_files_across_its_site_only(site_pharmacist, care_unit):
    same_site = EpisodeFactory(care_unit=CareUnitFactory(site=care_unit.site)).patient
    other_site = EpisodeFactory().patient
    _check(site_pharmacist, same_site, AccessReason.ROLE)
    _check(site_pharmacist, other_site, AccessReason.NONE)


def test_legal_entity_role_opens_every_file_of_the_entity(care_unit):
    role = RoleFactory(code="dim", label="DIM", scope=Role.Scope.LEGAL_ENTITY)
    user = MembershipFactory(care_unit=care_unit, role=role).user
    patient = EpisodeFactory().patient  # another site of the same legal entity (factory default)
    _check(user, patient, AccessReason.ROLE)


def test_emergency_access_opens_the_file_for_a_limited_time(doctor, settings):
    patient = EpisodeFactory().patient
    access = start_emergency_access(user=doctor, patient=patient, reason="Patient inconscient aux urgences")
    _check(doctor, patient, AccessReason.EMERGENCY)
    assert access.expires_at - access.started_at == pytest.approx(
        timedelta(hours=settings.BREAK_GLASS_HOURS), abs=timedelta(seconds=5)
    )
    access.expires_at = timezone.now() - timedelta(seconds=1)
    access.save()
    _check(doctor, patient, AccessReason.NONE)


def test_emergency_access_requires_a_reason(doctor):
    with pytest.raises(ValidationError):
        start_emergency_access(user=doctor, patient=PatientFactory(), reason="   ")


def test_emergency_access_requires_a_role_that_allows_it(nurse):
    with pytest.raises(PermissionDenied):
        start_emergency_access(user=nurse, patient=PatientFactory(), reason="Urgence")


def test_emergency_access_is_flagged_in_the_audit(doctor):
    patient = PatientFactory()
    start_emergency_access(user=doctor, patient=patient, reason="Arrêt cardiaque")
    event = AuditEvent.objects.get(action=AuditEvent.Action.EMERGENCY_ACCESS)
    assert event.emergency and event.patient_id == patient.pk and event.actor_rpps == doctor.rpps
    assert event.detail["reason"] == "Arrêt cardiaque"


def test_opening_a_file_is_audited_and_refusal_too(client, doctor, care_unit):
    mine = EpisodeFactory(care_unit=care_unit).patient
    other = EpisodeFactory().patient
    client.force_login(doctor)
    assert client.get(reverse("patients:file", args=[mine.pk])).status_code == 200
    assert client.get(reverse("patients:file", args=[other.pk])).status_code == 403
    opened = AuditEvent.objects.get(action=AuditEvent.Action.PATIENT_OPEN)
    refused = AuditEvent.objects.get(action=AuditEvent.Action.PATIENT_REFUSED)
    assert (opened.patient_id, opened.actor, opened.ip_address) == (mine.pk, doctor, "127.0.0.1")
    assert refused.patient_id == other.pk


def test_emergency_access_form_opens_the_file_and_marks_it(client, doctor):
    patient = EpisodeFactory().patient
    client.force_login(doctor)
    response = client.post(reverse("patients:emergency_access", args=[patient.pk]), {"reason": "Urgence vitale"})
    assert response.status_code == 302
    page = client.get(reverse("patients:file", args=[patient.pk]))
    assert page.status_code == 200
    assert b'data-testid="emergency-banner"' in page.content
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_OPEN, emergency=True).exists()


def test_emergency_access_form_without_reason_is_refused(client, doctor):
    patient = EpisodeFactory().patient
    client.force_login(doctor)
    response = client.post(reverse("patients:emergency_access", args=[patient.pk]), {"reason": ""})
    assert response.status_code == 400
    assert client.get(reverse("patients:file", args=[patient.pk])).status_code == 403

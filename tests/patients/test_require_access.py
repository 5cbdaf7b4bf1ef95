"""The services' one access check (`patients.access.require_access`), used by documents and feeding."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from dmp.services.feeding import send_history
from documents.models import Document
from dpi.models import AuditEvent
from patients.access import require_access

pytestmark = pytest.mark.django_db


def test_a_user_of_the_patients_unit_may_act_and_nothing_is_written(doctor, qualified_episode):
    require_access(doctor, qualified_episode.patient)
    assert not AuditEvent.objects.exists()


def test_a_user_without_habilitation_is_refused_with_the_same_message_and_no_row(user_without_unit, qualified_episode):
    with pytest.raises(PermissionDenied, match="Vous n'êtes pas habilité sur ce dossier."):
        require_access(user_without_unit, qualified_episode.patient)
    assert not AuditEvent.objects.exists()


def test_the_feeding_services_refuse_through_it(user_without_unit, qualified_episode):
    patient = qualified_episode.patient
    document = Document.objects.create(patient=patient, set_id="1.2.3", type_code="11490-0", act_date=timezone.now())
    with pytest.raises(PermissionDenied, match="habilité"):
        send_history(patient_documents=[document], acting_user=user_without_unit)

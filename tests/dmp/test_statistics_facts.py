"""The facts the usage indicators count (DSR vague 2, 3.2.7) are stored and can be counted per FINESS
géographique over a period: consultation transactions per user and profession (with the share of
the profession's users), documents integrated from the DMP per type, documents downloaded."""

from __future__ import annotations

import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from dmp.access import Context
from dmp.clients.types import Actor, PatientRef
from dmp.models import DmpTransaction, IntegratedDmpDocument
from dmp.selectors.statistics import (
    ProfessionUsage,
    UserConsultations,
    consultations_per_user,
    downloaded_per_finess,
    integrated_documents,
    integrated_per_type,
    users_per_profession,
)
from dmp.services.tracing import record
from documents.models import Document, Provenance
from dpi.codes import Profession
from tests.factories import CareUnitFactory, MembershipFactory, PatientFactory, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
SINCE, UNTIL = datetime(2025, 2, 1, tzinfo=PARIS), datetime(2025, 3, 1, tzinfo=PARIS)
IN_FEBRUARY, IN_MARCH = datetime(2025, 2, 10, 9, tzinfo=PARIS), datetime(2025, 3, 1, tzinfo=PARIS)
Kind, Outcome = DmpTransaction.Kind, DmpTransaction.Outcome


def trace(user, finess: str, *, at: datetime = IN_FEBRUARY, **fields: object) -> DmpTransaction:
    values = {
        "kind": Kind.SEARCH,
        "user": user,
        "user_name": user.display_name,
        "national_id": user.national_id,
        "profession": user.profession,
        "finess_eg": finess,
        "ins": "279035121518989",
        "outcome": Outcome.SUCCESS,
    }
    row = DmpTransaction.objects.create(**(values | fields))
    DmpTransaction.objects.filter(pk=row.pk).update(at=at)
    return row


def integrated(patient, type_code: str, finess: str, *, at: datetime = IN_FEBRUARY, **fields: object) -> Document:
    document = Document.objects.create(
        patient=patient, set_id=f"1.2.{Document.objects.count()}", type_code=type_code, type_label=f"type {type_code}",
        title="Document du DMP", act_date=at, provenance=Provenance.DMP, finess_eg=finess, **fields,
    )  # fmt: skip
    link = IntegratedDmpDocument.objects.create(
        document=document, unique_id=f"{document.set_id}.1", entry_uuid="urn:uuid:x", repository_unique_id="1.2.9"
    )
    IntegratedDmpDocument.objects.filter(pk=link.pk).update(integrated_at=at)
    return document


def test_the_tracer_freezes_the_users_profession_and_the_units_finess(qualified_episode):
    unit = qualified_episode.care_unit
    nurse = MembershipFactory(care_unit=unit, role=RoleFactory(code="ide"), user__profession=Profession.INFIRMIER).user
    patient = qualified_episode.patient
    actor = Actor(nurse.national_id, nurse.display_name, nurse.profession, "", "1" + unit.site.finess_eg,
                  timezone.now(), "")  # fmt: skip
    context = Context(nurse, patient, qualified_episode, unit, actor, PatientRef(patient.ins, patient.ins_oid), False)
    row = record(context, Kind.RETRIEVE, "", Outcome.SUCCESS, time.monotonic(), ["1.2.3", "1.2.4"])
    nurse.profession = Profession.MEDECIN
    nurse.save()
    row.refresh_from_db()
    frozen = (row.user, row.national_id, row.profession, row.finess_eg)
    assert frozen == (nurse, nurse.national_id, "60", unit.site.finess_eg)
    assert (row.patient, row.ins, row.documents, row.document_count) == (patient, patient.ins, ["1.2.3", "1.2.4"], 2)
    [fact] = consultations_per_user(since=timezone.now().replace(year=2000), until=timezone.now().replace(year=2100))
    assert fact.profession == "60" and fact.transactions == 1


def test_consultation_transactions_are_counted_per_finess_user_and_profession():
    doctor, nurse = UserFactory(), UserFactory(profession=Profession.INFIRMIER)
    trace(doctor, "020000001")
    trace(doctor, "020000001", kind=Kind.RETRIEVE)
    trace(doctor, "020000002", kind=Kind.WEB_PS)
    trace(nurse, "020000001")
    trace(nurse, "020000001", outcome=Outcome.REFUSED)  # not a consultation made
    trace(nurse, "020000001", kind=Kind.EXISTENCE)  # not a consultation
    trace(nurse, "020000001", kind=Kind.VISIBILITY)  # not a consultation
    trace(nurse, "020000001", at=IN_MARCH)  # outside the period
    assert consultations_per_user(since=SINCE, until=UNTIL) == [
        UserConsultations("020000001", doctor.national_id, doctor.display_name, "10", 2),
        UserConsultations("020000001", nurse.national_id, nurse.display_name, "60", 1),
        UserConsultations("020000002", doctor.national_id, doctor.display_name, "10", 1),
    ]


def test_the_users_who_consulted_are_a_share_of_the_active_users_of_their_profession():
    unit = CareUnitFactory(site__finess_eg="020000001")
    doctors = [MembershipFactory(care_unit=unit).user for _ in range(3)]
    MembershipFactory(care_unit=unit, user__is_active=False)  # not counted
    MembershipFactory(care_unit=unit, valid_until=date(2025, 1, 31))  # ended before the period
    nurse = MembershipFactory(care_unit=unit, role=RoleFactory(code="ide"), user__profession="60").user
    trace(doctors[0], "020000001")
    trace(doctors[0], "020000001", kind=Kind.RETRIEVE)
    trace(doctors[1], "020000001")
    trace(nurse, "020000001", outcome=Outcome.UNAVAILABLE)
    usage = users_per_profession(since=SINCE, until=UNTIL)
    assert usage == [ProfessionUsage("020000001", "10", 2, 3), ProfessionUsage("020000001", "60", 0, 1)]
    assert usage[0].ratio == pytest.approx(2 / 3) and usage[1].ratio == 0
    assert ProfessionUsage("020000009", "10", 1, 0).ratio is None


def test_documents_integrated_from_the_dmp_are_counted_per_finess_and_type():
    patient = PatientFactory()
    integrated(patient, "11490-0", "020000001")
    integrated(patient, "11490-0", "020000001")
    integrated(patient, "34874-8", "020000001")
    integrated(patient, "11490-0", "020000002")
    integrated(patient, "11490-0", "020000001", at=IN_MARCH)  # outside the period
    Document.objects.create(
        patient=patient, set_id="9.9", type_code="11490-0", type_label="LDL", title="Reçu par MSSanté",
        act_date=IN_FEBRUARY, provenance=Provenance.MSS, finess_eg="020000001",
    )  # fmt: skip
    counts = integrated_per_type(since=SINCE, until=UNTIL)
    assert [(c.finess_eg, c.type_code, c.documents) for c in counts] == [
        ("020000001", "11490-0", 2),
        ("020000001", "34874-8", 1),
        ("020000002", "11490-0", 1),
    ]
    assert counts[0].type_label == "type 11490-0"


def test_the_integrated_documents_keep_their_episode_for_the_rates_per_stay(qualified_episode):
    document = integrated(qualified_episode.patient, "11490-0", "020000001", episode=qualified_episode)
    assert list(integrated_documents(since=SINCE, until=UNTIL).values_list("pk", "episode__kind")) == [
        (document.pk, qualified_episode.kind)
    ]


def test_documents_downloaded_from_the_dmp_are_counted_per_finess():
    doctor = UserFactory()
    trace(doctor, "020000001", kind=Kind.RETRIEVE, document_count=3)
    trace(doctor, "020000001", kind=Kind.RETRIEVE, document_count=1)
    trace(doctor, "020000002", kind=Kind.RETRIEVE, document_count=2)
    trace(doctor, "020000001", kind=Kind.RETRIEVE, document_count=5, outcome=Outcome.ERROR)
    trace(doctor, "020000001", kind=Kind.SEARCH, document_count=9)
    assert downloaded_per_finess(since=SINCE, until=UNTIL) == {"020000001": 4, "020000002": 2}

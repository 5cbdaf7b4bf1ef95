"""A lived-in DMP for a patient: a few dozen documents over several years, from outside the hospital.

:func:`seed_dmp` is idempotent (a DMP that has documents is left as it is, its traits refreshed) and
deterministic per INS. What it files: every kind of :data:`sandbox.dmp.codes.KINDS` from several
authors and establishments, one document in three versions (RPLC), one deleted, some invisible to the
patient, some masked to professionals, and a few from the last days so that "new documents" counts move.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from patients.models import IdentityStatus, Patient
from sandbox.dmp.codes import IMAGING, KINDS, kind_of
from sandbox.dmp.documents import Establishment, Professional, Version, build_document, new_oid, rpps_national_id
from sandbox.dmp.store import VISIBLE, Submission, Visibility, delete_document, register_cda, xcn, xon
from sandbox.models import DmpDocument, PatientDmp

ESTABLISHMENTS = (
    Establishment("CHU de Lyon", "690781810", 1),
    Establishment("Clinique du Parc", "130784134", 2, facility_type="SA04"),
    Establishment("Laboratoire BioSud", "130039414", 3, "LABORATOIRE", "SA29"),
    Establishment("Cabinet de radiologie des Lices", "350002861", 4, "AMBULATOIRE", "SA07"),
    Establishment("Cabinet médical de la Gare", "750025612", 5, "AMBULATOIRE", "SA07"),
    Establishment("Pharmacie du Marché", "590012345", 6, "AMBULATOIRE", "SA33"),
)
PROFESSIONALS = (
    Professional(
        rpps_national_id("2000000011"), "Lambert", "Anne", "10", "SM26", ESTABLISHMENTS[4]
    ),  # general practitioner
    Professional(rpps_national_id("2000000012"), "Fournier", "Marc", "10", "SM04", ESTABLISHMENTS[0]),  # cardiologist
    Professional(rpps_national_id("2000000013"), "Girard", "Sophie", "10", "SM14", ESTABLISHMENTS[1]),  # surgeon
    Professional(rpps_national_id("2000000014"), "Bonnet", "Paul", "10", "SM44", ESTABLISHMENTS[3]),  # radiologist
    Professional(
        rpps_national_id("2000000015"), "Mercier", "Julie", "21", "", ESTABLISHMENTS[2]
    ),  # biologist (pharmacist)
    Professional(
        rpps_national_id("2000000016"), "Faure", "Louis", "21", "", ESTABLISHMENTS[5]
    ),  # dispensing pharmacist
)
# Who writes what: a kind's author is drawn from these professionals (indexes in PROFESSIONALS).
AUTHORS_OF = {
    "11502-2": (4,),
    "18748-4": (3,),
    "60593-1": (5,),
    "34874-8": (2,),
    "57833-6": (0, 1),
    "87273-9": (0,),
    "11369-6": (0,),
}
DEFAULT_AUTHORS = (0, 1, 2)
YEARS = 5
RECENT = 3  # documents of the last days


def seed_dmp(patient: Patient, *, count: int = 30, now: datetime | None = None) -> PatientDmp:
    """The patient's DMP, filled with ``count`` documents the first time (the patient needs a qualified INS)."""
    with transaction.atomic():
        dmp = open_dmp(patient)
        if dmp.documents.exists():
            return dmp
        now = now or timezone.now()
        rng = random.Random(dmp.ins)  # noqa: S311 (demo data, not security)
        kinds = list(KINDS.values())
        for number in range(count - RECENT):
            kind = kinds[number % len(kinds)]
            created = now - timedelta(days=rng.randint(20, 365 * YEARS), hours=rng.randint(0, 12))
            visibility = Visibility(masked_to_professionals=number in (5, 17), invisible_to_patient=number in (3, 11))
            add_document(dmp, kind.code, created=created, visibility=visibility, rng=rng)
        for days in range(1, RECENT + 1):
            add_document(dmp, kinds[days].code, created=now - timedelta(days=days), rng=rng)
        _versions_and_deletion(dmp, now, rng)
    return dmp


def open_dmp(patient: Patient) -> PatientDmp:
    """The patient's DMP, created open and linked to Mon espace santé if missing; traits as the patient's."""
    traits = {
        "ins_oid": patient.ins_oid,
        "birth_name": patient.birth_name,
        "first_names": patient.first_names,
        "birth_date": patient.birth_date,
        "sex": patient.sex,
        "birth_place_insee": patient.birth_place_insee,
    }
    return PatientDmp.objects.update_or_create(ins=patient.ins, defaults=traits)[0]


def add_document(
    dmp: PatientDmp,
    type_code: str,
    *,
    created: datetime | None = None,
    visibility: Visibility = VISIBLE,
    author: Professional | None = None,
    rng: random.Random | None = None,
    version: Version | None = None,
    lines: tuple[str, ...] = (),
) -> DmpDocument:
    """File one document of ``type_code`` written outside the hospital (imaging reports name a study)."""
    rng = rng or random.Random()  # noqa: S311 (demo data, not security)
    kind = kind_of(type_code)
    author = author or PROFESSIONALS[rng.choice(AUTHORS_OF.get(type_code, DEFAULT_AUTHORS))]
    created = created or timezone.now()
    study_uid = f"2.25.{uuid.UUID(int=rng.getrandbits(128)).int}" if type_code == IMAGING else ""
    _document_id, cda = build_document(
        dmp, kind, author, created, version=version, study_uid=study_uid, lines=lines or _lines(kind.label, rng)
    )
    establishment = author.establishment
    submission = Submission(
        author_person=xcn(author.national_id, author.family_name, author.given_name),
        author_institution=xon(establishment.name, f"1{establishment.finess}"),
        title=kind.label,
        when=created + timedelta(minutes=30),
    )
    return register_cda(dmp, cda, submission=submission, visibility=visibility, event_codes=_events(type_code))


def _events(type_code: str) -> tuple[tuple[str, str, str], ...]:
    """An eventCodeList for imaging reports (CCAM act), so the parameter has something to find."""
    if type_code == IMAGING:
        return (("ZBQK002", "1.2.250.1.213.2.5", "Radiographie du thorax"),)
    return ()


def _lines(label: str, rng: random.Random) -> tuple[str, ...]:
    findings = (
        "Examen clinique sans particularité.",
        "Évolution favorable, poursuite du traitement en cours.",
        "Pas d'allergie connue. Tension artérielle 128/76 mmHg.",
        "Contrôle prévu dans trois mois.",
    )
    return (f"{label} : document de démonstration du DMP simulé.", *rng.sample(findings, 2))


def _versions_and_deletion(dmp: PatientDmp, now: datetime, rng: random.Random) -> None:
    """A discharge letter corrected twice (RPLC chain: the older two deprecated), and a deleted report."""
    set_id = new_oid()
    first = add_document(dmp, "11490-0", created=now - timedelta(days=200), rng=rng, version=Version(set_id))
    previous = first
    for number in (2, 3):
        version = Version(set_id, number, replaces=previous.unique_id)
        previous = add_document(dmp, "11490-0", created=now - timedelta(days=200 - number), rng=rng, version=version)
    deleted = add_document(dmp, "11488-4", created=now - timedelta(days=90), rng=rng)
    delete_document(dmp, deleted.unique_id)


def seed_demo_dmps() -> list[PatientDmp]:
    """The DMPs of the demo patients whose identity is qualified (``sandbox.demo.load_demo``)."""
    patients = Patient.objects.filter(ipp_authority="CHU-DEMO", identity_status=IdentityStatus.QUALIFIEE)
    return [seed_dmp(patient) for patient in patients.order_by("ipp")]

"""Demo data: one legal entity, two sites, six care units, a user per profession, a few patients, the
MSSanté mailbox routed to a care unit with one document received and one refused for its identity, the
identity-vigilance team, a unit head and the data-protection officer with an emergency access to review.

Idempotent: loading twice updates the same rows. Never used in production.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value, yield_hotp_counters_from_time
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from consent.models import ConsentDecision, Source, State, Subject
from consent.services import record_consent
from directory.models import Correspondent, PatientCorrespondent
from dmp.models import FeedingDelay, NewDocumentsRule
from dmp.models.consultation import Reference
from dpi.codes import NationalIdType, Profession, Specialty
from dpi.hl7.engine import process_inbound
from dpi.hl7.models import Message
from dpi.models import CareUnit, LegalEntity, Membership, Role, Site, User
from dpi.validators import luhn_check_digit, nir_key
from mss.models import MailboxRoute
from patients.models import EmergencyAccess, Episode, IdentityStatus, Patient, Sex
from patients.services import start_emergency_access
from sandbox.annuaire.demo import load_demo_directory
from sandbox.dmp.seed import seed_demo_dmps
from sandbox.pki import ensure_test_pki

DEMO_PASSWORD = "Demo-DPI-2026!"  # noqa: S105 (public demo password, demo data only)
INS_NIR_TEST_OID = "1.2.250.1.213.1.4.10"

ROLES = [
    # code, label, scope, may_break_glass
    ("medecin", "Médecin", Role.Scope.CARE_UNIT, True),
    ("sage-femme", "Sage-femme", Role.Scope.CARE_UNIT, True),
    ("infirmier", "Infirmier", Role.Scope.CARE_UNIT, False),
    ("reeducateur", "Rééducateur", Role.Scope.CARE_UNIT, False),
    ("pharmacien", "Pharmacien (site)", Role.Scope.SITE, False),
    ("secretaire", "Secrétaire médicale", Role.Scope.CARE_UNIT, False),
    ("dim", "Médecin DIM (établissement)", Role.Scope.LEGAL_ENTITY, False),
    ("identitovigilance", "Identitovigilance (établissement)", Role.Scope.LEGAL_ENTITY, False),
]

CARE_UNITS = [
    # site FINESS EG, UF code, name
    ("000897406", "6268", "Chirurgie viscérale"),
    ("000897406", "8782", "Urgences"),
    ("000897406", "1001", "Médecine interne"),
    ("000897422", "2001", "Maternité"),
    ("000897422", "2002", "Pédiatrie"),
    ("000897422", "2003", "Consultations externes"),
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    profession: str
    specialty: str
    role: str
    units: tuple[str, ...]
    rpps_base: str = ""

    @property
    def rpps(self) -> str | None:
        return self.rpps_base + luhn_check_digit(self.rpps_base) if self.rpps_base else None


USERS = [
    DemoUser(
        "dr.martin",
        "Claire",
        "Martin",
        Profession.MEDECIN,
        Specialty.CHIRURGIE_VISCERALE,
        "medecin",
        ("6268", "8782"),
        "1000000001",
    ),
    DemoUser("ide.bernard", "Lucas", "Bernard", Profession.INFIRMIER, "", "infirmier", ("6268",), "1000000002"),
    DemoUser("sf.petit", "Emma", "Petit", Profession.SAGE_FEMME, "", "sage-femme", ("2001",), "1000000003"),
    DemoUser("ph.durand", "Hugo", "Durand", Profession.PHARMACIEN, "", "pharmacien", ("1001",), "1000000004"),
    DemoUser("mk.leroy", "Léa", "Leroy", Profession.MASSEUR_KINE, "", "reeducateur", ("2002",), "1000000005"),
    DemoUser("dr.dim", "Paul", "Roux", Profession.MEDECIN, Specialty.MEDECINE_INTERNE, "dim", ("1001",), "1000000006"),
    DemoUser("sec.moreau", "Julie", "Moreau", "", "", "secretaire", ("2003",)),
    DemoUser(
        "chef.faure",
        "Anne",
        "Faure",
        Profession.MEDECIN,
        Specialty.CHIRURGIE_VISCERALE,
        "medecin",
        ("6268",),
        "1000000007",
    ),  # fmt: skip
    DemoUser("iv.garnier", "Sophie", "Garnier", "", "", "identitovigilance", ("1001",)),
    DemoUser("dpo.lambert", "Marc", "Lambert", "", "", "", ()),  # no care unit: reviews, opens no file
]

# Django groups carrying the permissions of issue 15 §5 (docs/decisions.md): group, permission, members.
GROUPS = [
    ("Cellule d'identitovigilance", "mss.identity_vigilance", ("iv.garnier",)),
    ("Chefs d'unité", "patients.review_unit_emergency_access", ("chef.faure",)),
    ("Délégué à la protection des données", "patients.review_emergency_access", ("dpo.lambert",)),
]

DEMO_MAILBOX = "dpi@hopital.mssante.fr"  # the sandbox PFI's recipient (manage.py sandbox_push_mss)
DEMO_MAILBOX_UNIT = "6268"

PATIENTS = [
    # ipp, birth name, first names, used name, birth date, sex, INSEE, NIR13 (qualified) or "", UF, kind, days ago
    (
        "100001",
        "DUPONT",
        "MARIE JEANNE",
        "",
        date(1958, 4, 12),
        Sex.FEMALE,
        "75056",
        "2580475056123",
        "6268",
        Episode.Kind.INPATIENT,
        2,
    ),
    (
        "100002",
        "LEFEBVRE",
        "JEAN",
        "",
        date(1971, 11, 3),
        Sex.MALE,
        "69123",
        "1711169123321",
        "8782",
        Episode.Kind.EMERGENCY,
        0,
    ),
    (
        "100003",
        "GARCIA",
        "SOFIA",
        "MARTINEZ",
        date(1990, 7, 21),
        Sex.FEMALE,
        "13055",
        "2900713055456",
        "2001",
        Episode.Kind.INPATIENT,
        1,
    ),
    ("100004", "NGUYEN", "THANH", "", date(2019, 2, 14), Sex.MALE, "33063", "", "2002", Episode.Kind.AMBULATORY, 0),
    (
        "100005",
        "ROBERT",
        "ANDRE PIERRE",
        "",
        date(1945, 9, 30),
        Sex.MALE,
        "59350",
        "1450959350789",
        "1001",
        Episode.Kind.INPATIENT,
        5,
    ),
    ("100006", "BLANC", "CHLOE", "", date(1984, 1, 8), Sex.FEMALE, "31555", "", "2003", Episode.Kind.OUTPATIENT, 0),
    # A possible duplicate of DUPONT (same birth name, first birth first name and birth date), created at a
    # consultation without an identity document: the identity-vigilance work list pairs them.
    ("100007", "DUPONT", "MARIE", "", date(1958, 4, 12), Sex.FEMALE, "", "", "1001", Episode.Kind.OUTPATIENT, 12),
]


# The four identity statuses of the RNIV in the demo: those with an INS are qualified unless said here
# (LEFEBVRE's INS was retrieved from INSi, no identity document seen yet); those without are provisional
# unless said here (NGUYEN's identity was checked on a document, no INS retrieved).
DEMO_STATUSES = {"100002": IdentityStatus.RECUPEREE, "100004": IdentityStatus.VALIDEE}


def demo_totp_secret(username: str) -> str:
    """A stable base32 secret per demo user, so the demo's second factor survives reloads."""
    digest = hashlib.sha256(f"dpi-demo-totp:{username}".encode()).digest()[:20]
    return base64.b32encode(digest).decode()


def current_totp_code(user: User) -> str:
    """The code the user's authenticator app shows now (demo and tests only)."""
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    secret = get_adapter().decrypt(authenticator.data["secret"])
    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


def _structures() -> dict[str, CareUnit]:
    entity, _ = LegalEntity.objects.update_or_create(
        finess_ej="000897414", defaults={"name": "Centre hospitalier de démonstration", "accepts_test_ins": True}
    )
    sites = {
        "000897406": Site.objects.update_or_create(
            finess_eg="000897406", defaults={"legal_entity": entity, "name": "Hôpital Nord"}
        )[0],
        "000897422": Site.objects.update_or_create(
            finess_eg="000897422", defaults={"legal_entity": entity, "name": "Hôpital Sud"}
        )[0],
    }
    return {
        code: CareUnit.objects.update_or_create(site=sites[finess], code=code, defaults={"name": name})[0]
        for finess, code, name in CARE_UNITS
    }


def _users(units: dict[str, CareUnit]) -> list[User]:
    roles = {
        code: Role.objects.update_or_create(
            code=code, defaults={"label": label, "scope": scope, "may_break_glass": glass}
        )[0]
        for code, label, scope, glass in ROLES
    }
    users = []
    for spec in USERS:
        user, _ = User.objects.update_or_create(
            username=spec.username,
            defaults={
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "national_id_type": NationalIdType.RPPS if spec.rpps else NationalIdType.NONE,
                "rpps": spec.rpps,
                "profession": spec.profession,
                "specialty": spec.specialty,
            },
        )
        for code in spec.units:
            Membership.objects.get_or_create(user=user, care_unit=units[code], role=roles[spec.role])
        users.append(user)
    admin, _ = User.objects.update_or_create(
        username="admin",
        defaults={"first_name": "Admin", "last_name": "DPI", "is_staff": True, "is_superuser": True},
    )
    users.append(admin)
    for user in users:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, demo_totp_secret(user.username))
    return users


def _patients(units: dict[str, CareUnit]) -> None:
    now = timezone.now()
    for ipp, birth_name, first_names, used_name, born, sex, insee, nir13, unit, kind, days in PATIENTS:
        patient, _ = Patient.objects.update_or_create(
            ipp_authority="CHU-DEMO",
            ipp=ipp,
            defaults={
                "birth_name": birth_name,
                "first_names": first_names,
                "used_name": used_name,
                "birth_date": born,
                "sex": sex,
                "birth_place_insee": insee,
                "ins": nir13 + nir_key(nir13) if nir13 else "",
                "ins_oid": INS_NIR_TEST_OID if nir13 else "",
                "identity_status": DEMO_STATUSES.get(ipp)
                or (IdentityStatus.QUALIFIEE if nir13 else IdentityStatus.PROVISOIRE),
            },
        )
        admitted = (now - timedelta(days=days)).replace(hour=9, minute=30, second=0, microsecond=0)
        Episode.objects.update_or_create(
            visit_authority="CHU-DEMO",
            visit_number=f"V{ipp}",
            defaults={"patient": patient, "kind": kind, "care_unit": units[unit], "admitted_at": admitted},
        )


# Correspondents in town (issue 11, HOP/va1.05): DUPONT's GP is planned as recipient of her documents; the
# others are found by the correspondent search (a cardiologist, a rehabilitation centre without a person).
CORRESPONDENTS = [
    ("1", "MME", "DR", "MOREAU", "Claire", "Médecine générale", "Cabinet des Tilleuls", "75011", "Paris", "c.moreau"),
    ("2", "M", "DR", "ROUX", "Paul", "Cardiologie", "Clinique du Parc", "69006", "Lyon", "paul.roux"),
    ("", "", "", "", "", "", "Centre de rééducation des Lilas", "93260", "Les Lilas", "accueil.crf-lilas"),
]


def _correspondents() -> None:
    people = []
    for n, civility, title, family, given, specialty, organization, postal_code, city, mailbox in CORRESPONDENTS:
        rpps = f"100900000{n}" if n else ""
        correspondent, _ = Correspondent.objects.update_or_create(
            mss_address=f"{mailbox}@demo.mssante.fr",
            defaults={
                "rpps": rpps + luhn_check_digit(rpps) if rpps else "",
                "civility": civility, "title": title, "family_name": family, "given_name": given,
                "profession": "Médecin" if family else "", "specialty": specialty, "organization": organization,
                "postal_code": postal_code, "city": city,
            },
        )  # fmt: skip
        people.append(correspondent)
    dupont = Patient.objects.get(ipp_authority="CHU-DEMO", ipp="100001")
    PatientCorrespondent.objects.get_or_create(
        patient=dupont, role=PatientCorrespondent.Role.TREATING, defaults={"correspondent": people[0]}
    )


@transaction.atomic
def load_demo() -> list[User]:
    units = _structures()
    users = _users(units)
    _groups()
    _patients(units)
    _correspondents()
    _mssante(units)
    _emergency_access()
    _feeding_delay()
    ensure_test_pki(settings.DMP_PKI_DIR)  # the DPI's DMP certificates and the sandbox DMP's
    seed_demo_dmps()
    _dmp_consultation()
    load_demo_directory()
    return users


def _groups() -> None:
    for name, permission, usernames in GROUPS:
        group, _ = Group.objects.get_or_create(name=name)
        app_label, codename = permission.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.user_set.add(*User.objects.filter(username__in=usernames))


# Two MDM from the sandbox PFI, each sent once (its MSH-10 is fixed): a letter for DUPONT, integrated and
# counted by the badge of Chirurgie viscérale; one whose birth date is a day off, refused (904) and on the
# identity-vigilance work list.
DEMO_MSS = [("DEMO-MSS-0001", "", "Compte rendu de consultation d'anesthésie"),
            ("DEMO-MSS-0002", "birth_date", "Compte rendu de consultation de cardiologie")]  # fmt: skip


def _mssante(units: dict[str, CareUnit]) -> None:
    from sandbox.mss_push import mdm_for, patient_document, patient_identity

    MailboxRoute.objects.update_or_create(address=DEMO_MAILBOX, defaults={"care_unit": units[DEMO_MAILBOX_UNIT]})
    dupont = Patient.objects.get(ipp_authority="CHU-DEMO", ipp="100001")
    for control_id, alter, title in DEMO_MSS:
        if Message.objects.filter(control_id=control_id).exists():
            continue
        identity = patient_identity(dupont, alter)
        id_root, cda = patient_document(identity, title=title)
        mdm = mdm_for(identity, cda, id_root, control_id=control_id, recipient=DEMO_MAILBOX)
        process_inbound(mdm.encode(), peer="demo")


def _emergency_access() -> None:
    """dr.martin opened GARCIA's file in an emergency yesterday (4 h, ended): chef.faure and dpo.lambert review it."""
    martin = User.objects.get(username="dr.martin")
    garcia = Patient.objects.get(ipp_authority="CHU-DEMO", ipp="100003")
    if EmergencyAccess.objects.filter(user=martin, patient=garcia).exists():
        return
    access = start_emergency_access(user=martin, patient=garcia, reason="Patiente transférée inconsciente au bloc")
    started = timezone.now() - timedelta(days=1)
    EmergencyAccess.objects.filter(pk=access.pk).update(
        started_at=started, expires_at=started + timedelta(hours=settings.BREAK_GLASS_HOURS)
    )


# The patients' choices on the DMP for their current visit, recorded once (a reload keeps later changes):
# DUPONT consents to both, GARCIA opposes consultation (the DPI then never asks her DMP), ROBERT was not
# informed yet (the user records it in the file, then the DMP appears).
DEMO_CONSENTS = {
    "100001": {Subject.FEEDING: State.INFORMED_NOT_OPPOSED, Subject.CONSULTATION: State.INFORMED_NOT_OPPOSED},
    "100003": {Subject.FEEDING: State.INFORMED_NOT_OPPOSED, Subject.CONSULTATION: State.INFORMED_OPPOSED},
}


def _dmp_consultation() -> None:
    """Consents of the demo patients, and a new-documents counter shown for every kind of care over the
    last 30 days (the default shows it for consultations and emergencies since the last visit)."""
    for ipp, choices in DEMO_CONSENTS.items():
        episode = Episode.objects.get(visit_authority="CHU-DEMO", visit_number=f"V{ipp}")
        if ConsentDecision.objects.filter(episode=episode).exists():
            continue
        for subject, state in choices.items():
            record_consent(episode=episode, subject=subject, state=state, source=Source.UI)
    NewDocumentsRule.objects.update_or_create(
        legal_entity=LegalEntity.objects.get(finess_ej="000897414"),
        site=None,
        care_unit=None,
        specialty="",
        defaults={
            "episode_kinds": [kind for kind, _label in Episode.Kind.choices],
            "reference": Reference.DAYS,
            "days": 30,
        },
    )


DEMO_FEEDING_DELAY_MINUTES = 2


def _feeding_delay() -> None:
    """A short delay, so that the demo shows the pending order and its countdown, then its sending."""
    FeedingDelay.objects.get_or_create(
        type_code="", care_unit=None, defaults={"delay_minutes": DEMO_FEEDING_DELAY_MINUTES}
    )

"""Identity matching of an inbound MSSanté document (spec 4.5): the INS, its OID and the five traits.

The CDA ``recordTarget`` is authoritative: it is what the document carries into the file. The PID of
the message must agree with it (PID-3 INS, PID-5 birth name and first names, PID-7, PID-8, PID-11 BDL).
A document is integrated automatically only when a local identity with the status *qualifiée* has the
same INS matricule, the same OID, and exactly the same five traits. Reads only; the refusals carry the
volet's error codes (see :data:`mss.refusals.APPLICATION_ERRORS`).
"""

from __future__ import annotations

from documents.cda import CdaPatient
from mss.refusals import Refusal
from patients.ins import TEST_INS_OIDS
from patients.models import IdentityStatus, Patient
from patients.pam import Identity
from patients.selectors import legal_entity_for


def first_names(patient: CdaPatient) -> str:
    """The list of birth first names: the unqualified ``given`` (CI-SIS), else the ``given`` qualified BR."""
    return " ".join(patient.first_names) or patient.first_name


def missing_traits(patient: CdaPatient) -> list[str]:
    """The INS traits the document lacks (the birth place may be empty: unknown at the INSi too)."""
    traits = {
        "nom de naissance": patient.birth_name,
        "prénoms de naissance": first_names(patient),
        "date de naissance": patient.birth_date,
        "sexe": patient.sex,
    }
    return [label for label, value in traits.items() if not value]


def trait_differences(local: Patient, received: CdaPatient) -> list[tuple[str, str, str]]:
    """Every trait that differs, compared exactly (no case folding, no fuzzy match): (label, received, local)."""
    pairs = [
        ("nom de naissance", local.birth_name, received.birth_name),
        ("prénoms de naissance", local.first_names, first_names(received)),
        ("date de naissance", local.birth_date, received.birth_date),
        ("sexe", local.sex, received.sex),
        ("lieu de naissance (INSEE)", local.birth_place_insee, received.birth_place_insee),
    ]
    return [(label, str(value or ""), str(mine or "")) for label, mine, value in pairs if (mine or "") != (value or "")]


def pid_disagreements(pid: Identity, cda: CdaPatient) -> list[str]:
    """Where the message's PID says something else than the CDA (what PID leaves empty is not compared)."""
    found = []
    if pid.ins is not None and not pid.ins.is_null and cda.ins is not None:
        if (pid.ins.value, pid.ins.authority) != (cda.ins.extension, cda.ins.root):
            found.append(f"INS : {pid.ins.value} ({pid.ins.authority}) dans PID-3, {cda.ins.extension} dans le CDA")
    elif (pid.ins is None) != (cda.ins is None):
        found.append("INS présent d'un seul côté (PID-3 ou recordTarget)")
    pairs = [
        ("nom de naissance", pid.birth_name, cda.birth_name),
        ("prénoms", pid.first_names, first_names(cda)),
        ("date de naissance", pid.birth_date, cda.birth_date),
        ("sexe", pid.sex, cda.sex),
        ("lieu de naissance", pid.birth_place_insee, cda.birth_place_insee),
    ]
    found += [f"{label} : « {mine} » dans PID, « {theirs} » dans le CDA" for label, mine, theirs in pairs
              if mine and mine != theirs]  # fmt: skip
    return found


def accepts_test_ins(patient: Patient) -> bool:
    """Test/demo INS OIDs count only for a legal entity configured for tests (as the PAM feed does)."""
    entity = legal_entity_for(patient.ipp_authority)
    return bool(entity and entity.accepts_test_ins)


def match_patient(received: CdaPatient) -> Patient:
    """The local qualified identity the document designates exactly, else :class:`Refusal` 902-905."""
    ins = received.ins
    if ins is None:
        if not received.ids:
            raise Refusal.application("902", "Aucun identifiant patient dans le document.", "PID^1^3")
        raise Refusal.application("903", "Le document ne porte pas d'INS : pas d'intégration automatique.", "PID^1^3")
    missing = missing_traits(received)
    if missing:
        raise Refusal.application("905", "Traits INS absents : " + ", ".join(missing) + ".", "PID^1^5")
    candidates = list(Patient.objects.filter(ins=ins.extension, merged_into__isnull=True)[:2])
    if not candidates:
        if _same_traits_other_ins(received):
            raise Refusal.application("904", "Un patient qualifié porte ces traits avec un autre INS.", "PID^1^3")
        raise Refusal.application("902", f"Aucun patient connu avec l'INS {ins.extension}.", "PID^1^3")
    if len(candidates) > 1:
        raise Refusal.application("906", f"Plusieurs identités portent l'INS {ins.extension}.", "PID^1^3")
    patient = candidates[0]
    if patient.identity_status != IdentityStatus.QUALIFIEE:
        raise Refusal.application(
            "904", "L'identité locale n'est pas qualifiée.", "PID^1^3", patient=patient,
            private=f"Statut de l'identité locale : {patient.get_identity_status_display()}.",
        )  # fmt: skip
    if patient.ins_oid != ins.root:
        raise Refusal.application(
            "904", f"OID de l'INS ({ins.root}) différent de celui du dossier.", "PID^1^3", patient=patient,
            private=f"OID de l'INS : {ins.root} reçu, {patient.ins_oid} dans le dossier.",
        )  # fmt: skip
    if ins.root in TEST_INS_OIDS and not accepts_test_ins(patient):
        raise Refusal.application(
            "904", f"OID d'INS de test ({ins.root}) refusé : la structure n'est pas configurée pour les tests.",
            "PID^1^3", patient=patient,
        )  # fmt: skip
    differences = trait_differences(patient, received)
    if differences:
        raise Refusal.application(
            "904", "Traits différents : " + ", ".join(label for label, _r, _l in differences) + ".", "PID^1^5",
            patient=patient,
            private="Traits différents : " + " ; ".join(
                f"{label} : « {theirs} » reçu, « {mine} » dans le dossier" for label, theirs, mine in differences
            ),
        )  # fmt: skip
    return patient


def _same_traits_other_ins(received: CdaPatient) -> bool:
    return Patient.objects.filter(
        identity_status=IdentityStatus.QUALIFIEE,
        merged_into__isnull=True,
        birth_name=received.birth_name,
        first_names=first_names(received),
        birth_date=received.birth_date,
        sex=received.sex,
    ).exists()

"""The recipients a document names (HOP/va1.05, DOC/va1.06).

A new document starts with the patient's correspondents (general practitioner, referring doctor, others);
the author keeps, removes or adds correspondents before validation. The document keeps each one as written
(``Document.recipients``: a correspondent changed later does not change a document already written); the
CDA names the professionals (``informationRecipient``), the PDF lists everyone, the patient included.
Their MSSanté addresses join the addresses typed by hand in the sending list (``mss_recipients``): the mails
are a technical list and may grow after validation without a new CDA version (hl7v2-interfaces §3).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from directory.models import Correspondent, PatientCorrespondent
from directory.selectors import patient_correspondents, planned_recipients
from documents.content import Recipient
from documents.models import Document, PatientReplyDefault
from patients.models import Patient

PATIENT_ROLE = "patient"
_KEYS = tuple(f.name for f in dataclasses.fields(Recipient))


def planned_ids(patient: Patient) -> list[int]:
    """The correspondents a new document of the patient starts with."""
    return [link.correspondent_id for link in planned_recipients(patient)]


def snapshots(patient: Patient, chosen: Iterable[Correspondent]) -> list[dict[str, object]]:
    """The chosen correspondents as the document keeps them, each with the role the patient gave it."""
    roles = {link.correspondent_id: link.role for link in patient_correspondents(patient)}
    return [
        {"correspondent": c.pk, **dataclasses.asdict(_recipient(c, roles.get(c.pk, PatientCorrespondent.Role.OTHER)))}
        for c in chosen
    ]


def chosen_ids(document: Document) -> list[int]:
    return [entry["correspondent"] for entry in document.recipients if entry.get("correspondent")]


def sending_addresses(typed: Iterable[str], correspondents: Iterable[Correspondent]) -> list[str]:
    """The MSSanté addresses a choice of recipients sends to: the typed ones then the correspondents', each
    once, in lower case."""
    chosen = [*typed, *(correspondent.mss_address for correspondent in correspondents)]
    return list(dict.fromkeys(address.strip().lower() for address in chosen if address.strip()))


def recipient_addresses(document: Document) -> set[str]:
    """The MSSanté addresses the document's recipients bring to its sending list."""
    return {str(entry["mss_address"]).lower() for entry in document.recipients if entry.get("mss_address")}


def content_recipients(document: Document) -> tuple[Recipient, ...]:
    """Who the document names: its correspondents, then the patient when it is sent to them."""
    named = [Recipient(**{key: entry.get(key, "") for key in _KEYS}) for entry in document.recipients]
    if document.mss_to_patient:
        named.append(Recipient(role=PATIENT_ROLE, name="Le patient (messagerie de Mon espace santé)"))
    return tuple(named)


def patient_may_reply_by_default(type_code: str) -> bool:
    """The hospital's default for a type (admin *Réponses du patient par défaut*); none set: no reply."""
    return PatientReplyDefault.objects.filter(type_code=type_code, patient_may_reply=True).exists()


def _recipient(correspondent: Correspondent, role: str) -> Recipient:
    return Recipient(
        role=role,
        name=correspondent.display_name,
        family_name=correspondent.family_name,
        given_name=correspondent.given_name,
        civility=correspondent.civility,
        title=correspondent.title,
        rpps=correspondent.rpps,
        organization=correspondent.organization,
        organization_id=correspondent.organization_id,
        city=correspondent.city,
        mss_address=correspondent.mss_address.lower(),
    )

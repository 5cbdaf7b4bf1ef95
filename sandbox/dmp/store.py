"""Every write to the sandbox DMP's registry: documents in, new versions, deletions, visibility updates.

One place for the XDS bookkeeping (entry UUIDs, logical ids, submission sets, HasMember and RPLC
associations, deprecation), used by the seeding, the PFI's DESTDMP feeding, the web PS page and ITI-57.
A document's metadata come from its CDA header, as the DMP derives them (``docs/dmp-protocol.md`` §6).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from lxml import etree

from documents.cda import parse_cda_header
from dpi.xmlsafe import parse_xml
from sandbox.dmp.codes import FORMAT_SYSTEM, format_code, kind_of
from sandbox.dmp.constants import PROFESSIONAL_ID_ROOT, REPOSITORY_UNIQUE_ID, SPECIALTY_SYSTEM, STUDY_REFERENCE
from sandbox.models import DmpAssociation, DmpDocument, DmpSubmissionSet, PatientDmp
from sandbox.models.dmp import APPROVED, DELETED, DEPRECATED

_HL7 = {"h": "urn:hl7-org:v3"}
SANDBOX_SOURCE_ID = "1.2.250.1.213.1.1.9"


def new_uuid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


@dataclass(frozen=True)
class Visibility:
    """The DMP visibility codes of an entry (TRE_A07)."""

    masked_to_professionals: bool = False
    invisible_to_patient: bool = False
    invisible_to_legal_representatives: bool = False


VISIBLE = Visibility()  # no visibility code: seen by everyone


@dataclass(frozen=True)
class Submission:
    """Who submits (the submission set's author) and when."""

    author_person: str
    author_institution: str
    title: str = ""
    source_id: str = SANDBOX_SOURCE_ID
    content_type_code: str = "07"
    when: datetime = field(default_factory=timezone.now)


def xcn(national_id: str, family: str, given: str) -> str:
    return f"{national_id}^{family}^{given}^^^^^^&{PROFESSIONAL_ID_ROOT}&ISO"


def xon(name: str, structure_id: str) -> str:
    return f"{name}^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^{structure_id}"


@transaction.atomic
def register_cda(
    dmp: PatientDmp,
    cda: bytes,
    *,
    submission: Submission | None = None,
    visibility: Visibility = VISIBLE,
    event_codes: tuple[tuple[str, str, str], ...] = (),
) -> DmpDocument:
    """File a CDA document in the DMP: a new document, or a new version of the one its relatedDocument names."""
    entry = entry_from_cda(dmp, cda)
    entry.masked_to_professionals = visibility.masked_to_professionals
    entry.invisible_to_patient = visibility.invisible_to_patient
    entry.invisible_to_legal_representatives = visibility.invisible_to_legal_representatives
    entry.event_codes = [list(code) for code in event_codes]
    submission = submission or Submission(entry.author_person, entry.author_institution, title=entry.title)
    entry.submission_set = _submission_set(dmp, replace(submission, title=submission.title or entry.title))
    entry.save()
    _link(dmp, DmpAssociation.HAS_MEMBER, entry.submission_set.entry_uuid, entry.entry_uuid, status="Original")
    replaced = _replaced_entry(dmp, cda)
    if replaced is not None:
        _link(dmp, DmpAssociation.REPLACES, entry.entry_uuid, replaced.entry_uuid)
        dmp.documents.filter(lid=replaced.lid, status=APPROVED).update(status=DEPRECATED)
    return entry


def entry_from_cda(dmp: PatientDmp, cda: bytes) -> DmpDocument:
    """An unsaved first metadata version of the document, its metadata read from the CDA header."""
    header = parse_cda_header(cda)
    root = parse_xml(cda)
    author = root.find("h:author/h:assignedAuthor", _HL7)
    organisation = _find(author, "h:representedOrganization")
    specialty = _find(author, "h:code")
    kind = kind_of(header.type_code)
    author_id = header.author_id.extension if header.author_id else ""
    created = header.effective_time or timezone.now()
    return DmpDocument(
        dmp=dmp,
        entry_uuid=new_uuid(),
        lid=new_uuid(),
        unique_id=header.id.key,
        repository_unique_id=REPOSITORY_UNIQUE_ID,
        title=header.title or kind.label,
        type_code=header.type_code,
        type_label=header.type_label or kind.label,
        class_code=kind.class_code,
        class_label=kind.class_label,
        format_code=format_code(header.level),
        format_scheme=FORMAT_SYSTEM,
        practice_setting_code=_attribute(root, ".//h:serviceEvent//h:standardIndustryClassCode", "code")
        or "ETABLISSEMENT",
        facility_type_code=_attribute(root, ".//h:healthCareFacility/h:code", "code") or "SA01",
        confidentiality=header.confidentiality or "N",
        creation_time=created,
        service_start=header.service_start or created,
        service_stop=header.service_end,
        author_id=author_id,
        author_person=xcn(author_id, header.author_family_name, header.author_given_name),
        author_institution=xon(
            _text(organisation, "h:name"),
            _attribute(organisation, "h:id", "extension") if organisation is not None else "",
        ),
        author_specialty=f"{specialty.get('code')}^^{SPECIALTY_SYSTEM}" if specialty is not None else "",
        reference_ids=[f"{uid}^^^^{STUDY_REFERENCE}" for uid in _study_uids(root)],
        source_patient_id=next(
            (f"{i.extension}^^^&{i.root}&ISO" for i in header.patient.ids if i != header.patient.ins), ""
        ),
        content=cda,
        hash=hashlib.sha1(cda, usedforsecurity=False).hexdigest(),
        size=len(cda),
    )


def _find(element: etree._Element | None, path: str) -> etree._Element | None:
    return element.find(path, _HL7) if element is not None else None


def _attribute(element: etree._Element | None, path: str, name: str) -> str:
    found = _find(element, path)
    return (found.get(name) or "") if found is not None else ""


def _text(element: etree._Element | None, path: str) -> str:
    found = _find(element, path)
    return " ".join((found.text or "").split()) if found is not None else ""


def _study_uids(root: etree._Element) -> list[str]:
    """The DICOM study instance UIDs an imaging report names (documentationOf/serviceEvent/id)."""
    return [uid for uid in root.xpath("h:documentationOf/h:serviceEvent/h:id/@root", namespaces=_HL7) if uid]


def _replaced_entry(dmp: PatientDmp, cda: bytes) -> DmpDocument | None:
    """The current version of the document this CDA replaces (relatedDocument RPLC), if the DMP has it."""
    replaced = parse_cda_header(cda).replaced_id
    if replaced is None:
        return None
    return dmp.documents.filter(unique_id=replaced.key).exclude(status=DELETED).order_by("-version").first()


def _submission_set(dmp: PatientDmp, submission: Submission) -> DmpSubmissionSet:
    return DmpSubmissionSet.objects.create(
        dmp=dmp,
        entry_uuid=new_uuid(),
        unique_id=f"2.25.{uuid.uuid4().int}",
        source_id=submission.source_id,
        submission_time=submission.when,
        title=submission.title[:255],
        author_person=submission.author_person,
        author_institution=submission.author_institution,
        content_type_code=submission.content_type_code,
    )


def _link(dmp: PatientDmp, kind: str, source: str, target: str, **slots: str) -> DmpAssociation:
    return DmpAssociation.objects.create(
        dmp=dmp,
        entry_uuid=new_uuid(),
        type=kind,
        source=source,
        target=target,
        submission_set_status=slots.get("status", ""),
        previous_version=slots.get("previous_version", ""),
    )


@transaction.atomic
def delete_document(dmp: PatientDmp, unique_id: str) -> int:
    """Logical deletion (TD3.3c, or a T04 from the PFI): every metadata version of the document."""
    lids = dmp.documents.filter(unique_id=unique_id).values_list("lid", flat=True)
    return dmp.documents.filter(lid__in=list(lids)).update(status=DELETED)


@transaction.atomic
def update_visibility(
    current: DmpDocument, *, entry_uuid: str, visibility: Visibility, submission: Submission
) -> DmpDocument:
    """A new metadata version (same lid, next version) with other visibility codes; the current one is deprecated."""
    locked = DmpDocument.objects.select_for_update().get(pk=current.pk)
    DmpDocument.objects.filter(pk=locked.pk).update(status=DEPRECATED)
    package = _submission_set(locked.dmp, submission)
    locked.pk = None
    locked.entry_uuid = entry_uuid
    locked.version = current.version + 1
    locked.status = APPROVED
    locked.submission_set = package
    locked.masked_to_professionals = visibility.masked_to_professionals
    locked.invisible_to_patient = visibility.invisible_to_patient
    locked.invisible_to_legal_representatives = visibility.invisible_to_legal_representatives
    locked.save(force_insert=True)
    _link(
        locked.dmp,
        DmpAssociation.HAS_MEMBER,
        package.entry_uuid,
        entry_uuid,
        status="Original",
        previous_version=str(current.version),
    )
    return locked

"""CDA R2 documents written by professionals outside the hospital, for a DMP's patient.

The CI-SIS header comes from the project's own writer (:func:`documents.cda.build_cda`), fed with
another establishment's author, custodian and IPP domain, the DMP's identity traits and a one-page PDF
of :mod:`sandbox.dmp.pdf`. An imaging report also names its DICOM study (``serviceEvent/id``), which
the DRIMbox pages and the entry's ``referenceIdList`` share.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from lxml import etree

from documents.cda import build_cda
from documents.content import Author, DocumentContent, DocumentType, Organization, PatientIdentity, Section
from dpi.validators import luhn_check_digit
from dpi.xmlsafe import parse_xml
from sandbox.dmp.codes import DocumentKind
from sandbox.dmp.pdf import text_pdf
from sandbox.models import PatientDmp

_HL7 = "urn:hl7-org:v3"


def new_oid() -> str:
    """A unique OID for a document id or a set id (the UUID arc 2.25)."""
    return f"2.25.{uuid.uuid4().int}"


@dataclass(frozen=True)
class Establishment:
    """An organisation outside the hospital; ``arc`` numbers its IPP domain under the sandbox's OID."""

    name: str
    finess: str
    arc: int
    practice_setting: str = "ETABLISSEMENT"
    facility_type: str = "SA01"

    @property
    def organization(self) -> Organization:
        return Organization(name=self.name, finess_eg=self.finess, practice_setting=self.practice_setting)


def rpps_national_id(rpps_base: str) -> str:
    """``8`` + the RPPS made of ``rpps_base`` (10 digits) and its Luhn key."""
    return "8" + rpps_base + luhn_check_digit(rpps_base)


@dataclass(frozen=True)
class Professional:
    national_id: str  # 8 + RPPS, or 0 + ADELI
    family_name: str
    given_name: str
    profession: str
    specialty: str
    establishment: Establishment

    def author(self) -> Author:
        return Author(
            national_id=self.national_id,
            family_name=self.family_name,
            given_name=self.given_name,
            profession_code=self.profession,
            specialty_code=self.specialty,
            organization=self.establishment.organization,
        )


@dataclass(frozen=True)
class Version:
    """Where a document stands in its version chain: its set, its number, the id it replaces."""

    set_id: str
    number: int = 1
    replaces: str = ""


def patient_identity(dmp: PatientDmp, establishment: Establishment) -> PatientIdentity:
    return PatientIdentity(
        ipp=f"{dmp.pk:06d}",
        ipp_root=f"1.2.250.1.999.7.{establishment.arc}.3",
        birth_name=dmp.birth_name,
        first_names=dmp.first_names,
        birth_date=dmp.birth_date,
        sex=dmp.sex,
        birth_place_insee=dmp.birth_place_insee,
        ins=dmp.ins,
        ins_oid=dmp.ins_oid,
    )


def build_document(
    dmp: PatientDmp,
    kind: DocumentKind,
    author: Professional,
    created: datetime,
    *,
    version: Version | None = None,
    study_uid: str = "",
    lines: tuple[str, ...] = (),
) -> tuple[str, bytes]:
    """The document's id and its CDA bytes (N1 or N3 as the kind says)."""
    version = version or Version(set_id=new_oid())
    document_id = new_oid()
    establishment = author.establishment
    text = lines or (f"Document rédigé par {author.given_name} {author.family_name.upper()}, {establishment.name}.",)
    content = DocumentContent(
        id_root=document_id,
        set_id=version.set_id,
        version_number=version.number,
        type=DocumentType(kind.code, kind.label),
        title=kind.label,
        created_at=created,
        act_start=created - timedelta(hours=2),
        act_end=None,
        patient=patient_identity(dmp, establishment),
        author=author.author(),
        custodian=establishment.organization,
        sections=tuple(Section(code=code, title=title, paragraphs=text) for code, title in kind.sections),
        replaces_id=version.replaces,
    )
    pdf = text_pdf(kind.label, [f"{dmp.birth_name} {dmp.first_names}, né(e) le {dmp.birth_date:%d/%m/%Y}", *text])
    cda = build_cda(content, pdf=pdf, level="N1" if kind.level == "N1" else "N3")
    return document_id, _with_study(cda, study_uid) if study_uid else cda


def _with_study(cda: bytes, study_uid: str) -> bytes:
    """``documentationOf/serviceEvent/id`` = the DICOM study instance UID of an imaging report."""
    root = parse_xml(cda)
    event = root.find(f"{{{_HL7}}}documentationOf/{{{_HL7}}}serviceEvent")
    event.insert(0, etree.Element(f"{{{_HL7}}}id", root=study_uid))
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8", pretty_print=True)

"""The plain data the DMP clients take and return: no XML, no Django models, frozen.

Services build an :class:`Actor` (who triggers the transaction: always the signed-in professional,
never a generic account) and a :class:`PatientRef` (the qualified INS), call a client, and get
these dataclasses back. Errors are :class:`dmp.clients.errors.DmpError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# --- who asks, about whom ----------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """The professional a transaction is made for; every field goes into the VIHF."""

    national_id: str  # IDNPS: "8" + RPPS, or "0" + ADELI; the VIHF's Subject/NameID
    display_name: str  # "NOM Prénom", the VIHF's subject-id
    profession: str  # TRE_G15 code ("10" médecin, "60" infirmier...), first VIHF role
    specialty: str  # TRE_R38 code ("SM26"...), second VIHF role (physicians); may be empty otherwise
    structure_id: str  # national structure id: "1" + FINESS (géographique) of the user's site
    authn_instant: datetime  # when the user signed in to the DPI
    authn_class: str  # SAML AuthnContextClassRef of that sign-in (two factors: TOTP, or PSC)
    purpose: str = "normal"  # purpose of use: "normal", or "BRIS_DE_GLACE" under an emergency access


@dataclass(frozen=True)
class PatientRef:
    """The patient's INS (qualified identity only): 15-character matricule and its OID."""

    ins: str
    oid: str

    @property
    def xds_patient_id(self) -> str:
        """HL7 v2 CX form used by XDS and the VIHF resource-id (without the ^NH type)."""
        return f"{self.ins}^^^&{self.oid}&ISO"


# --- TD0.2 / TD0.3 -----------------------------------------------------------------------------


class DmpStatus(StrEnum):
    OPEN = "ACTIF"
    CLOSED = "FERME"
    NONE = "INEXISTANT"


class Authorisation(StrEnum):
    """The actor's individual access authorisation on this DMP (EF_DMP04_01)."""

    VALID = "VALIDE"
    EXPIRED = "EXPIRE"
    FORBIDDEN = "INTERDIT"  # e.g. the professional is blocked by the patient
    NONE = "NON_EXISTE"


@dataclass(frozen=True)
class DmpExistence:
    """Answer of TD0.2. The DMP's identity traits are never kept nor shown (RG_0320)."""

    status: DmpStatus
    authorisation: Authorisation
    authorisation_until: datetime | None = None
    refusal_reason: str = ""  # why the access is forbidden, in the DMP's words
    attending_physician: bool = False  # "médecin traitant DMP"
    linked_to_mes: bool = False  # attached to Mon espace santé
    closed_at: datetime | None = None
    closure_reason: str = ""


# --- XDS metadata (TD3.1) ----------------------------------------------------------------------

APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
ARCHIVED = "urn:asip:ci-sis:2010:StatusType:Archived"
DELETED = "urn:asip:ci-sis:2010:StatusType:Deleted"

VISIBILITY_SYSTEM = "1.2.250.1.213.1.1.4.13"  # TRE_A07-StatutVisibiliteDocument
MASKED_TO_PROFESSIONALS = "MASQUE_PS"
INVISIBLE_TO_PATIENT = "INVISIBLE_PATIENT"
INVISIBLE_TO_LEGAL_REPRESENTATIVES = "INVISIBLE_REPRESENTANTS_LEGAUX"


@dataclass(frozen=True)
class Code:
    """A coded value of the metadata: code, coding scheme (OID) and the label the DMP sent."""

    code: str
    scheme: str
    display: str = ""


@dataclass(frozen=True)
class Author:
    person: str = ""  # XCN as sent (id^family^given^^^^^^&OID&ISO)
    person_id: str = ""  # the id part (national id for a professional)
    person_name: str = ""  # "Prénom NOM" read from the XCN
    institution: str = ""  # XON name
    institution_id: str = ""  # the id part of the XON (e.g. "1" + FINESS, "3" + SIRET)
    role: str = ""
    specialty: Code | None = None


@dataclass(frozen=True)
class DocumentEntry:
    """One DocumentEntry of the registry (XDS metadata of a DMP document)."""

    entry_uuid: str  # changes at every metadata update (visibility...) and replacement
    logical_id: str  # stable across metadata updates; a replacement is a new one
    unique_id: str  # = the CDA's ClinicalDocument/id (root or root^extension)
    repository_unique_id: str
    status: str  # APPROVED, DEPRECATED, ARCHIVED, DELETED
    version: str = "1"  # the registry's metadata version of the entry
    patient_id: str = ""
    title: str = ""
    type_code: Code | None = None
    class_code: Code | None = None
    format_code: Code | None = None
    practice_setting: Code | None = None
    facility_type: Code | None = None
    confidentiality: tuple[Code, ...] = ()
    event_codes: tuple[Code, ...] = ()
    creation_time: datetime | None = None
    service_start: datetime | None = None
    service_stop: datetime | None = None
    authors: tuple[Author, ...] = ()
    mime_type: str = ""
    hash: str = ""
    size: int | None = None
    language: str = ""
    reference_ids: tuple[str, ...] = ()  # referenceIdList (order, accession, study instance UID)
    comments: str = ""

    def _has_visibility(self, code: str) -> bool:
        return any(c.code == code and c.scheme == VISIBILITY_SYSTEM for c in self.confidentiality)

    @property
    def invisible_to_patient(self) -> bool:
        return self._has_visibility(INVISIBLE_TO_PATIENT)

    @property
    def invisible_to_legal_representatives(self) -> bool:
        return self._has_visibility(INVISIBLE_TO_LEGAL_REPRESENTATIVES)

    @property
    def masked_to_professionals(self) -> bool:
        return self._has_visibility(MASKED_TO_PROFESSIONALS)


@dataclass(frozen=True)
class SubmissionSet:
    entry_uuid: str
    unique_id: str
    submission_time: datetime | None
    source_id: str = ""
    authors: tuple[Author, ...] = ()
    content_type: Code | None = None
    status: str = APPROVED


@dataclass(frozen=True)
class Association:
    entry_uuid: str
    type: str  # full URN: ...AssociationType:HasMember, urn:ihe:iti:2007:AssociationType:RPLC...
    source: str  # entryUUID
    target: str  # entryUUID
    status: str = APPROVED


@dataclass(frozen=True)
class QueryResult:
    """What a stored query returned (LeafClass): entries, submission sets, associations."""

    documents: tuple[DocumentEntry, ...] = ()
    submission_sets: tuple[SubmissionSet, ...] = ()
    associations: tuple[Association, ...] = ()


@dataclass(frozen=True)
class DocumentQuery:
    """FindDocuments criteria (TD3.1); empty fields are not sent. Times are aware datetimes."""

    statuses: tuple[str, ...] = (APPROVED,)
    type_codes: tuple[Code, ...] = ()
    class_codes: tuple[Code, ...] = ()
    practice_settings: tuple[Code, ...] = ()
    facility_types: tuple[Code, ...] = ()
    format_codes: tuple[Code, ...] = ()
    event_codes: tuple[Code, ...] = ()
    confidentiality_codes: tuple[Code, ...] = ()
    author_person: str = ""  # XDS LIKE pattern: % and _ wildcards
    creation_from: datetime | None = None
    creation_to: datetime | None = None
    service_start_from: datetime | None = None
    service_start_to: datetime | None = None
    service_stop_from: datetime | None = None
    service_stop_to: datetime | None = None


# --- TD3.2 -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetrievedDocument:
    repository_unique_id: str
    unique_id: str
    mime_type: str
    content: bytes


@dataclass(frozen=True)
class RetrieveResult:
    """TD3.2 may succeed for some documents and fail for others (PartialSuccess)."""

    documents: tuple[RetrievedDocument, ...] = ()
    errors: tuple[RegistryError, ...] = ()


@dataclass(frozen=True)
class RegistryError:
    code: str  # errorCode, e.g. XDSDocumentUniqueIdError
    message: str  # codeContext
    severity: str = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
    location: str = ""


# --- TD3.3 -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisibilityChange:
    """TD3.3a/b: what to change on one entry; None leaves a flag as it is."""

    invisible_to_patient: bool | None = None
    invisible_to_legal_representatives: bool | None = None
    masked_to_professionals: bool | None = None


# --- TD0.10 and DRIMbox: pages opened in the user's browser ---------------------------------------


@dataclass(frozen=True)
class BrowserForm:
    """An auto-submitted form the DPI renders: the browser posts it to the national service."""

    action: str
    fields: dict[str, str] = field(default_factory=dict)

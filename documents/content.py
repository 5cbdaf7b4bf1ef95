"""The one source of a document's content, rendered both as PDF and as CDA R2 (SC.CDA/DD.02).

Plain data, no database: the documents app builds a :class:`DocumentContent` from its models,
then :mod:`documents.pdf` and :mod:`documents.cda` render the same object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils import timezone

from documents.codes import Concept
from patients.ins import INS_AUTHORITIES

RPPS_PREFIX = "8"  # national identifier of a professional = "8" + 11-digit RPPS
INS_OIDS = {oid: authority.label for oid, authority in INS_AUTHORITIES.items()}

# The preset notice of a version that replaces another (MSS/va1.13): printed on the PDF, prefixed to the mails.
REPLACEMENT_NOTICE_TITLE = "ANNULE ET REMPLACE"
REPLACEMENT_NOTICE = "Ce document annule et remplace la version transmise précédemment, qui ne doit plus être utilisée."


@dataclass(frozen=True)
class PatientIdentity:
    """The patient as the document names them. ``ins`` is set only for a qualified identity."""

    ipp: str
    ipp_root: str  # OID of the hospital's IPP domain
    birth_name: str
    first_names: str  # every birth first name, space-separated
    birth_date: date | None
    sex: str  # "M", "F", "U"
    birth_place_insee: str = ""
    used_name: str = ""
    used_first_name: str = ""
    ins: str = ""  # 15-character matricule (with key), only when the identity is qualified
    ins_oid: str = ""

    @property
    def first_name(self) -> str:
        return self.first_names.split(" ")[0] if self.first_names else ""

    @property
    def qualified(self) -> bool:
        return bool(self.ins and self.ins_oid)


@dataclass(frozen=True)
class PrintSettings:
    """What the hospital chose to print (REM INS/va1.10, DOC/va1.03), from its site and legal entity.

    The identity traits every paper output carries (birth name, first birth first name, birth date, sex, and
    for a qualified identity the INS with its nature) are not settings; these add to them.
    """

    all_first_names: bool = True  # every birth first name, not only the first one
    used_names: bool = True  # used name and used first name
    birth_place: bool = True  # INSEE code of the birth place
    patient_notice: str = ""  # patient information (RGPD), in the footer of every page


@dataclass(frozen=True)
class Organization:
    """A structure: name and geographic FINESS (FINESS EG); the legal entity's FINESS EJ."""

    name: str
    finess_eg: str
    finess_ej: str = ""
    practice_setting: str = "ETABLISSEMENT"  # practiceSettingCode (JDV_J04), carried by the CDA serviceEvent


@dataclass(frozen=True)
class Author:
    """A professional: national identifier (``8`` + RPPS), names, profession and specialty codes."""

    national_id: str
    family_name: str
    given_name: str
    profession_code: str  # TRE_G15, e.g. "10"
    specialty_code: str = ""  # TRE_R38, e.g. "SM26"
    organization: Organization | None = None

    @property
    def role_code(self) -> str:
        """authorSpecialty code (JDV_J01): ``G15_10/SM26``, or ``G15_60`` without specialty."""
        base = f"G15_{self.profession_code}"
        return f"{base}/{self.specialty_code}" if self.specialty_code else base


@dataclass(frozen=True)
class Recipient:
    """A planned recipient the document names (HOP/va1.05, DOC/va1.06): CDA ``informationRecipient``, PDF list.

    ``role`` is the patient's naming (``traitant``, ``adresseur``, ``autre``) or ``patient`` for the patient's
    own Mon espace santé mailbox (listed in the PDF only: the CDA's recipients are professionals).
    """

    role: str
    name: str  # as printed, e.g. "Dr Claire MOREAU" or an organisation's name
    family_name: str = ""
    given_name: str = ""
    civility: str = ""  # JDV_J245-Civilite-CISIS: M, MME
    title: str = ""  # JDV_J246-Titre-CISIS: DR, PR
    rpps: str = ""  # 11 digits; the CDA id is "8" + RPPS
    organization: str = ""
    organization_id: str = ""  # national structure id: "1" + FINESS, "3" + SIRET
    city: str = ""
    mss_address: str = ""

    @property
    def is_patient(self) -> bool:
        return self.role == "patient"


@dataclass(frozen=True)
class Section:
    """A titled part of the document: paragraphs, or a table (header row + rows), or both."""

    code: str  # LOINC code of the section
    title: str
    paragraphs: tuple[str, ...] = ()
    table_header: tuple[str, ...] = ()
    table_rows: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class DocumentType:
    code: str  # LOINC code, e.g. "11490-0"
    label: str  # e.g. "Lettre de liaison à la sortie d'un établissement de soins"
    code_system: str = "2.16.840.1.113883.6.1"


@dataclass(frozen=True)
class Encounter:
    """The visit the document belongs to (componentOf/encompassingEncounter)."""

    visit_number: str
    kind_code: str  # JDV EncompassingEncounterCode: IMP, AMB, EMER, EXTERNE...
    start: datetime | None
    end: datetime | None
    care_unit: str
    facility_type_code: str = "SA01"  # healthcareFacilityTypeCode (JDV_J02), SA01 = centre hospitalier


@dataclass(frozen=True)
class DischargeFacts:
    """What a discharge letter states about the stay, that the LDL-SES volet codes as entries.

    :meth:`rows` is how these facts read (label, text): the PDF prints them in the stay's section and the
    CDA N3 writes the same words in its narrative, each entry pointing at its row (SC.CDA/DD.02).
    """

    entry_mode: Concept
    exit_mode: Concept
    synthesis: tuple[str, ...]  # paragraphs
    mdro_search: bool  # search for multi-resistant or emerging micro-organisms done
    transfusion: bool
    blood_derivatives: bool
    entry_time: datetime | None = None
    exit_time: datetime | None = None
    adverse_events: str = ""
    mdro: str = ""  # micro-organisms identified
    transfusion_incidents: str = ""
    derivative_incidents: str = ""

    def rows(self) -> tuple[tuple[str, str, str], ...]:
        """``(key, label, text)`` for each fact stated, in the order printed (the synthesis is the section's text)."""
        rows = [
            ("entry_mode", "Modalité et date d'entrée", _dated(self.entry_mode.label, self.entry_time)),
            ("exit_mode", "Modalité et date de sortie", _dated(self.exit_mode.label, self.exit_time)),
            ("adverse_events", "Événements indésirables pendant l'hospitalisation", self.adverse_events),
            ("mdro_search", "Recherche de micro-organismes multirésistants ou émergents", _yes_no(self.mdro_search)),
            ("mdro", "Micro-organismes multirésistants identifiés", self.mdro),
            ("transfusion", "Transfusion de produits sanguins", _yes_no(self.transfusion)),
            ("transfusion_incidents", "Accidents transfusionnels", self.transfusion_incidents),
            ("blood_derivatives", "Administration de dérivés du sang", _yes_no(self.blood_derivatives)),
            ("derivative_incidents", "Événements indésirables des dérivés du sang", self.derivative_incidents),
        ]
        return tuple(row for row in rows if row[2])


def _dated(label: str, moment: datetime | None) -> str:
    return f"{timezone.localtime(moment):%d/%m/%Y}, {label}" if moment else label


def _yes_no(value: bool) -> str:
    return "Oui" if value else "Non"


@dataclass(frozen=True)
class DocumentContent:
    """Everything a rendering needs. ``id_root``/``set_id`` are OIDs (root-only ids: the DMP prefers them)."""

    id_root: str
    set_id: str
    version_number: int
    type: DocumentType
    title: str
    created_at: datetime
    act_start: datetime
    act_end: datetime | None
    patient: PatientIdentity
    author: Author
    custodian: Organization
    sections: tuple[Section, ...]
    encounter: Encounter | None = None
    confidentiality: str = "N"  # N, R, V (HL7); DMP visibility goes in the HL7v2 metadata, not here
    replaces_id: str = ""  # relatedDocument RPLC parentDocument id
    legal_authenticator: Author | None = None
    discharge: DischargeFacts | None = None  # a discharge letter's coded facts (LDL-SES N3)
    printing: PrintSettings = field(default_factory=PrintSettings)  # the PDF only; the CDA does not depend on it
    recipients: tuple[Recipient, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

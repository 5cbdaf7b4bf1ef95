"""What building, reading and placing a CDA share: namespaces, template and OID constants, the error,
document identifiers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from documents import codes
from documents.cdaxml import NS, H

Level = Literal["N1", "N3"]

_H = H
_NSMAP = {"h": NS}

LOINC = "2.16.840.1.113883.6.1"
TEMPLATE_HL7_FRANCE = "2.16.840.1.113883.2.8.2.1"
TEMPLATE_CISIS = "1.2.250.1.213.1.1.1.1"
TEMPLATE_XDS_SD = "1.3.6.1.4.1.19376.1.2.20"
TEMPLATE_PDF_COPY_SECTION = "1.2.250.1.213.1.1.2.243"
TEMPLATE_ATTACHED_DOCUMENT = "1.2.250.1.213.1.1.3.18"
TEMPLATES_ATTACHED_DOCUMENT_TYPE = (
    "1.3.6.1.4.1.19376.1.5.3.1.4.13",
    "1.2.250.1.213.1.1.3.48",
    "1.2.250.1.213.1.1.3.48.18",
)
PROFESSIONAL_ID_ROOT = "1.2.250.1.71.4.2.1"  # national id of a professional (8 + RPPS...)
STRUCTURE_ID_ROOT = "1.2.250.1.71.4.2.2"  # national id of a structure: "1" + FINESS
AUTHOR_SPECIALTY_SYSTEM = codes.AUTHOR_SPECIALTY_SYSTEM
PRACTICE_SETTING_SYSTEM = codes.PRACTICE_SETTING_SYSTEM
FACILITY_TYPE_SYSTEM = codes.FACILITY_TYPE_SYSTEM
ACT_CODE_SYSTEM = codes.ACT_CODE_SYSTEM
CISIS_ENCOUNTER_SYSTEM = codes.CISIS_ENCOUNTER_SYSTEM

_SEX_OF_GENDER = {gender: sex for sex, gender in codes.GENDER_CODES.items()}  # UN (HL7) is the DPI's U
MAX_PDF_BYTES = 7_000_000  # base64 text stays under libxml2's 10 MB text node limit (huge_tree stays off)
PDF_COPY_MEDIA_ID = "doc-1"
_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

_N3_TEMPLATES = (TEMPLATE_HL7_FRANCE, TEMPLATE_CISIS)
_N1_TEMPLATES = (*_N3_TEMPLATES, TEMPLATE_XDS_SD)
_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")
_TS = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$")


class InvalidCda(ValueError):
    """An incoming document that cannot be read as a CDA R2 document; the message is for the user."""


@dataclass(frozen=True)
class InstanceId:
    """An HL7 II: ``root`` OID (or UUID) and optional ``extension``."""

    root: str
    extension: str = ""

    @property
    def key(self) -> str:
        """One string for storage and comparison: ``root`` or ``root^extension``."""
        return f"{self.root}^{self.extension}" if self.extension else self.root


@dataclass(frozen=True)
class KnownVersion:
    """A document version already stored for the patient. ``set_id`` is an :attr:`InstanceId.key`."""

    id_root: str
    id_extension: str = ""
    set_id: str = ""
    version_number: int | None = None

    @property
    def id_key(self) -> str:
        return InstanceId(self.id_root, self.id_extension).key

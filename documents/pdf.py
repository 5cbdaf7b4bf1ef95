"""PDF/A rendering of a document from the same :class:`DocumentContent` as its CDA (SC.CDA/DD.02).

The first page bears the INS datamatrix and the marking "INS à scanner" only when the identity is qualified
(SC.CDA/VISU.04). Library choices, PDF/A variant and checks: see ``docs/pdf.md``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from django.db import models
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from documents.content import INS_OIDS, Author, DocumentContent, PatientIdentity
from documents.datamatrix import ins_datamatrix_svg
from dpi.codes import Profession, Specialty
from patients.models import Sex

PDF_VARIANT = "pdf/a-1b"
TEMPLATE = "documents/pdf/document.html"
STYLESHEET = Path(__file__).parent / "templates" / "documents" / "pdf" / "document.css"
RPPS_PREFIX = "8"  # national identifier of a professional = "8" + 11-digit RPPS
DOCUMENT_LANGUAGE = "fr"


@dataclass(frozen=True)
class _Professional:
    """How a professional is printed: name, profession and specialty labels, identifier."""

    name: str
    profession: str
    specialty: str
    rpps: str  # empty when the national identifier is not an RPPS one
    national_id: str


def render_pdf(content: DocumentContent) -> bytes:
    """The document as an A4 PDF/A-1b, in French, with every font embedded."""
    with translation.override(DOCUMENT_LANGUAGE):
        html = render_to_string(TEMPLATE, _context(content))
    font_config = FontConfiguration()
    fetcher = URLFetcher(allowed_protocols={"data", "file"})  # no network: hospitals are often offline
    stylesheet = CSS(filename=STYLESHEET, font_config=font_config, url_fetcher=fetcher)
    document = HTML(string=html, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[stylesheet], font_config=font_config, pdf_variant=PDF_VARIANT)


def _professional(author: Author) -> _Professional:
    rpps = author.national_id.removeprefix(RPPS_PREFIX) if _is_rpps(author.national_id) else ""
    return _Professional(
        name=f"{author.given_name} {author.family_name}".strip(),
        profession=_label(Profession, author.profession_code),
        specialty=_label(Specialty, author.specialty_code),
        rpps=rpps,
        national_id=author.national_id,
    )


def _datamatrix_data_uri(patient: PatientIdentity) -> str:
    """The INS datamatrix as an ``<img>`` source, or "" when the identity is not qualified."""
    if not patient.qualified:
        return ""
    svg = base64.b64encode(ins_datamatrix_svg(patient).encode("ascii")).decode("ascii")
    return f"data:image/svg+xml;base64,{svg}"


def _context(content: DocumentContent) -> dict[str, object]:
    patient = content.patient
    return {
        "content": content,
        "patient": patient,
        "sex": _label(Sex, patient.sex),
        "ins_authority": INS_OIDS.get(patient.ins_oid, ""),
        "datamatrix": _datamatrix_data_uri(patient),
        "author": _professional(content.author),
        "legal_authenticator": _professional(content.legal_authenticator) if content.legal_authenticator else None,
    }


def _label(choices: type[models.TextChoices], code: str) -> str:
    """The French label of a code, or the code itself when the nomenclature subset does not know it."""
    return str(choices(code).label) if code in choices.values else code


def _is_rpps(national_id: str) -> bool:
    return len(national_id) == 12 and national_id.startswith(RPPS_PREFIX) and national_id.isdigit()

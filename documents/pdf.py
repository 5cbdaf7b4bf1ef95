"""PDF/A rendering of a document from the same :class:`DocumentContent` as its CDA (SC.CDA/DD.02).

The first page bears the INS datamatrix and the marking "INS à scanner" only when the identity is qualified
(SC.CDA/VISU.04); the identity block prints the traits every paper output carries plus those the site chose
(:func:`print_settings`, INS/va1.10 and va1.15), the footer the hospital's patient information (DOC/va1.03), and
a version that replaces another says so first ("annule et remplace", MSS/va1.13). Library choices, PDF/A variant
and checks: see ``docs/pdf.md``.
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

from documents.content import (
    INS_OIDS,
    REPLACEMENT_NOTICE,
    REPLACEMENT_NOTICE_TITLE,
    RPPS_PREFIX,
    Author,
    DocumentContent,
    PatientIdentity,
    PrintSettings,
)
from documents.datamatrix import ins_datamatrix_svg
from dpi.codes import Profession, Specialty
from dpi.models import Site
from patients.ins import INS_AUTHORITIES
from patients.models import Sex

PDF_VARIANT = "pdf/a-1b"
TEMPLATE = "documents/pdf/document.html"
STYLESHEET = Path(__file__).parent / "templates" / "documents" / "pdf" / "document.css"
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


def print_settings(site: Site | None) -> PrintSettings:
    """What ``site`` prints on its documents: its extra identity traits, its patient information or else its
    legal entity's. Without a site (a document outside any care unit), the defaults: every trait, no notice."""
    if site is None:
        return PrintSettings()
    return PrintSettings(
        all_first_names=site.print_all_first_names,
        used_names=site.print_used_names,
        birth_place=site.print_birth_place,
        patient_notice=(site.patient_notice or site.legal_entity.patient_notice).strip(),
    )


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
        "ins_label": authority.short_label if (authority := INS_AUTHORITIES.get(patient.ins_oid)) else "INS",
        "printing": content.printing,
        "replacement": _replacement(content),
        "datamatrix": _datamatrix_data_uri(patient),
        "author": _professional(content.author),
        "legal_authenticator": _professional(content.legal_authenticator) if content.legal_authenticator else None,
    }


def _replacement(content: DocumentContent) -> dict[str, str] | None:
    """The "annule et remplace" notice of a version that replaces another, ``None`` for a first version."""
    if not content.replaces_id:
        return None
    return {
        "title": REPLACEMENT_NOTICE_TITLE,
        "text": REPLACEMENT_NOTICE,
        "version": str(content.version_number - 1),
        "id": content.replaces_id,
    }


def _label(choices: type[models.TextChoices], code: str) -> str:
    """The French label of a code, or the code itself when the nomenclature subset does not know it."""
    return str(choices(code).label) if code in choices.values else code


def _is_rpps(national_id: str) -> bool:
    return len(national_id) == 12 and national_id.startswith(RPPS_PREFIX) and national_id.isdigit()

"""File names of a document's PDF and CDA, in the form of the MSSanté client referential (REM DOC/va1.01).

``<act date YYYYMMDD>_<document type label>_<BIRTH NAME>_<first birth first name>.<extension>``, every part in
ASCII letters, digits and underscores, as the ANS writes the PDF attached to an MSSanté mail
(``20220531_CR_d_imagerie_medicale_CORSE_FIGATELLIX.pdf``). Why this form, and what is not confirmed:
``docs/pdf.md``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from django.utils import timezone

from documents.models import Document

_LIGATURES = str.maketrans({"Œ": "OE", "œ": "oe", "Æ": "AE", "æ": "ae", "ß": "ss"})
_NOT_PORTABLE = re.compile(r"[^A-Za-z0-9]+")
MAX_PART_LENGTH = 60  # a type label or a name; the whole name stays well under the 255 bytes of every file system


def document_file_name(*, act_date: datetime, type_label: str, birth_name: str, first_name: str, extension: str) -> str:
    """``20250310_Lettre_de_liaison_..._LEGER_MARIE_HELENE.pdf``: the parts left empty are left out."""
    parts = [timezone.localtime(act_date).strftime("%Y%m%d"), *map(_portable, (type_label, birth_name, first_name))]
    return "_".join(part for part in parts if part) + f".{extension}"


def file_name_of(document: Document, extension: str) -> str:
    """The file name of ``document``'s PDF (``pdf``) or CDA (``xml``)."""
    patient = document.patient
    return document_file_name(
        act_date=document.act_date,
        type_label=document.type_label,
        birth_name=patient.birth_name,
        first_name=patient.first_names.split(" ")[0] if patient.first_names else "",
        extension=extension,
    )


def _portable(text: str) -> str:
    """ASCII letters and digits, accents removed, any other run of characters made one underscore."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii")
    return _NOT_PORTABLE.sub("_", ascii_text).strip("_")[:MAX_PART_LENGTH].rstrip("_")

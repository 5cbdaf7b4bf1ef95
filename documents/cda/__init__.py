"""CDA R2 documents of the CI-SIS (SC.CDA): build, read the header, place in a version chain.

* :func:`build_cda` renders a :class:`~documents.content.DocumentContent` as an N1 document (the PDF in a
  ``nonXMLBody``) or an N3 document (one narrative section per content section, then the
  "FR-Document-PDF-copie" section carrying the same PDF). The header follows the CI-SIS
  "structuration minimale". The output is deterministic: the same content gives the same bytes.
* :func:`parse_cda_header` reads any CDA R2 document (ours, DMP, MSSanté) with the hardened parser.
* :func:`detect_version` classifies an incoming document against the versions already stored.

No database here: plain data in, plain data out. See ``docs/cda.md``. One module per use: ``building``,
``header`` (reading), ``versions``; ``common`` holds what they share. Callers import from ``documents.cda``.
"""

from documents.cda.building import build_cda
from documents.cda.common import NS, InstanceId, InvalidCda, KnownVersion, Level
from documents.cda.header import CdaHeader, CdaPatient, parse_cda_header
from documents.cda.versions import VersionStatus, VersionVerdict, detect_version

__all__ = [
    "NS",
    "CdaHeader",
    "CdaPatient",
    "InstanceId",
    "InvalidCda",
    "KnownVersion",
    "Level",
    "VersionStatus",
    "VersionVerdict",
    "build_cda",
    "detect_version",
    "parse_cda_header",
]

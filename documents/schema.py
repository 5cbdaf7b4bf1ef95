"""XSD validation of CDA R2 documents against the French extended schema (``CDA_extended.xsd``).

The schema is not shipped with the project: ``settings.CDA_SCHEMA_PATH`` points at the agency's
``CDA_extended.xsd`` (its ``general/``, ``sdtc/``... folders alongside). It is loaded once per path.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from lxml import etree

from dpi.xmlsafe import parse_xml

_validation_lock = threading.Lock()


def cda_schema_path() -> Path:
    return Path(settings.CDA_SCHEMA_PATH)


def cda_schema_errors(data: bytes) -> list[str]:
    """The XSD errors of a CDA document, ``"ligne N : message"`` each; an empty list means valid.

    The document is read with the hardened parser (:class:`dpi.xmlsafe.InvalidXML` if it is not XML).
    Raises ``ImproperlyConfigured`` when the schema file is missing.
    """
    root = parse_xml(data)
    schema = _load_schema(str(cda_schema_path()))
    # An XMLSchema keeps the error log of its last run on the instance: one validation at a time.
    with _validation_lock:
        valid = schema.validate(root)
        errors = [] if valid else [f"ligne {error.line} : {error.message}" for error in schema.error_log]
    return errors


@lru_cache(maxsize=2)
def _load_schema(path: str) -> etree.XMLSchema:
    if not Path(path).is_file():
        raise ImproperlyConfigured(_("Schéma CDA introuvable : %(path)s (réglage CDA_SCHEMA_PATH).") % {"path": path})
    # The schema is a trusted local file; its includes are resolved relative to it, never over the network.
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(path, parser))

"""The one way the project reads XML from outside (CDA, XDM metadata, SOAP): a hardened lxml parser.

* no network access and no external DTD loading, ever;
* entities are never expanded, and any document type declaration (DOCTYPE) is refused: none of the
  formats the DPI reads uses one, and they are the vehicle of XXE and "billion laughs" attacks;
* ``huge_tree`` stays off, so libxml2 keeps its limits (nesting depth, a text node of at most 10 MB);
* the input size is checked before parsing.

Errors are :class:`InvalidXML` (not well-formed, empty, wrong encoding) or its subclass :class:`UnsafeXML`
(refused by a protection); both are ``ValueError`` with a French message that can be shown to a user.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from lxml import etree

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

_ENCODING_ERRORS = {etree.ErrorTypes.ERR_INVALID_ENCODING, etree.ErrorTypes.ERR_UNSUPPORTED_ENCODING}


class InvalidXML(ValueError):
    """The input is not a well-formed XML document."""


class UnsafeXML(InvalidXML):
    """The input was refused by a protection: DOCTYPE or entities, size or resource limit."""


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse ``data`` and return the root element (the processing instructions before it stay reachable).

    Raises :class:`UnsafeXML` for an oversized input, a DOCTYPE or a libxml2 resource limit,
    :class:`InvalidXML` for anything that is not a well-formed XML document.
    """
    if not isinstance(data, bytes):
        raise TypeError("parse_xml expects bytes, the encoding is read from the XML declaration")
    if len(data) > max_bytes:
        raise UnsafeXML(
            _("Le fichier XML dépasse la taille autorisée (%(size)d octets pour %(max)d au plus).")
            % {"size": len(data), "max": max_bytes}
        )
    if not data.strip():
        raise InvalidXML(_("Le fichier XML est vide."))
    try:
        _refuse_doctype(data)
        return etree.fromstring(data, _hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from exc


class _PrologEnd(Exception):
    """Raised by :class:`_PrologWatcher` when the root element starts: the prolog is over."""


class _PrologWatcher:
    """Parser target that stops at the first DOCTYPE or at the root element, whichever comes first.

    It runs before the real parse so that a DOCTYPE is refused before its entities are even declared
    (libxml2 would otherwise stop on an amplification limit or an entity error, with a less clear message).
    """

    def doctype(self, name: str, public_id: str | None, system_url: str | None) -> None:
        raise UnsafeXML(
            _("Le fichier XML contient une déclaration DOCTYPE (DTD, entités) : refusée pour raison de sécurité.")
        )

    def start(self, tag: str, attributes: dict, nsmap: dict | None = None) -> None:
        raise _PrologEnd

    def close(self) -> None:
        return None


def _refuse_doctype(data: bytes) -> None:
    parser = _hardened_parser(target=_PrologWatcher())
    try:
        parser.feed(data)
        parser.close()
    except _PrologEnd:
        return


def _hardened_parser(target: _PrologWatcher | None = None) -> etree.XMLParser:
    """A new parser per call: lxml parsers keep state and must not be shared between threads."""
    return etree.XMLParser(
        target=target,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=False,
    )


def _syntax_error(exc: etree.XMLSyntaxError) -> InvalidXML:
    detail = exc.msg
    if exc.code == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
        return UnsafeXML(_("Le fichier XML dépasse une limite de l'analyseur : %(detail)s") % {"detail": detail})
    if exc.code in _ENCODING_ERRORS:
        return InvalidXML(
            _("L'encodage déclaré du fichier XML est inconnu ou ne correspond pas à son contenu : %(detail)s")
            % {"detail": detail}
        )
    if exc.code == etree.ErrorTypes.ERR_DOCUMENT_EMPTY:  # not blank (checked before): e.g. a UTF-16 BOM on UTF-8
        return InvalidXML(
            _(
                "Le fichier XML ne contient aucun élément lisible : son encodage ou sa marque d'ordre des octets (BOM) "
                "ne correspond pas à son contenu."
            )
        )
    return InvalidXML(_("Le fichier XML est mal formé : %(detail)s") % {"detail": detail})

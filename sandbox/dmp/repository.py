"""TD3.2: retrieve 1..n documents (ITI-43), answered in MTOM/XOP, ``docs/dmp-protocol.md`` §7.

A document the professional may not have (another patient's, deleted, masked to them, unknown) is an
``XDSDocumentUniqueIdError`` for that document alone: the others still come (PartialSuccess).
"""

from __future__ import annotations

from lxml import etree

from sandbox.dmp import constants as c
from sandbox.dmp.ebrim import RegistryError, registry_response
from sandbox.dmp.scope import Scope
from sandbox.dmp.soap import Attachment, malformed
from sandbox.dmp.transactions import Answer, Exchange, Rules, Transaction
from sandbox.models import DmpDocument


def _xdsb(parent: etree._Element, local: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, c.qname("xdsb", local))
    if text is not None:
        element.text = text
    return element


def retrieve(exchange: Exchange) -> Answer:
    body = exchange.request.body
    requests = body.findall("xdsb:DocumentRequest", c.NS)
    if body.tag != c.qname("xdsb", "RetrieveDocumentSetRequest") or not requests:
        raise malformed("xdsb:RetrieveDocumentSetRequest avec au moins un xdsb:DocumentRequest attendu.")
    scope = Scope(exchange.dmp, exchange.caller.national_id)
    available = {entry.unique_id: entry for entry in scope.current}
    errors: list[RegistryError] = []
    found: list[DmpDocument] = []
    for request in requests:
        repository = (request.findtext("xdsb:RepositoryUniqueId", namespaces=c.NS) or "").strip()
        unique_id = (request.findtext("xdsb:DocumentUniqueId", namespaces=c.NS) or "").strip()
        if repository != c.REPOSITORY_UNIQUE_ID:
            errors.append(RegistryError("XDSUnknownRepositoryId", f"Entrepôt inconnu : {repository}", unique_id))
        elif unique_id not in available:
            errors.append(
                RegistryError("XDSDocumentUniqueIdError", f"Document non disponible : {unique_id}", unique_id)
            )
        else:
            found.append(available[unique_id])
    return _answer(found, errors)


def _answer(found: list[DmpDocument], errors: list[RegistryError]) -> Answer:
    status = c.SUCCESS if not errors else c.PARTIAL_SUCCESS if found else c.FAILURE
    response = etree.Element(c.qname("xdsb", "RetrieveDocumentSetResponse"), nsmap={"xdsb": c.NS["xdsb"]})
    response.append(registry_response(errors, status=status))
    attachments = []
    contents = dict(DmpDocument.objects.filter(pk__in=[entry.pk for entry in found]).values_list("pk", "content"))
    for number, entry in enumerate(found, start=1):
        document = _xdsb(response, "DocumentResponse")
        _xdsb(document, "RepositoryUniqueId", entry.repository_unique_id)
        _xdsb(document, "DocumentUniqueId", entry.unique_id)
        _xdsb(document, "mimeType", entry.mime_type)
        content_id = f"doc{number}@dmp"
        etree.SubElement(_xdsb(document, "Document"), c.qname("xop", "Include"), href=f"cid:{content_id}")
        attachments.append(Attachment(content_id, entry.mime_type, bytes(contents[entry.pk])))
    outcome = ", ".join(sorted({error.code for error in errors})) or "ok"
    return Answer(
        response,
        attachments=attachments,
        unique_ids=[entry.unique_id for entry in found],
        outcome=outcome,
        outcome_text="; ".join(error.context for error in errors),
    )


TRANSACTIONS = {"ITI-43": Transaction("ITI-43", Rules.ACCESS, lambda body: None, retrieve)}

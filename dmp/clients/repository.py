"""TD3.2 (ITI-43 Retrieve Document Set): the documents' bytes from the DMP repository.

The request goes MTOM-encoded; the answer may be MTOM (documents as parts) or plain SOAP with
inline base64. A ``PartialSuccess`` keeps the documents that came and the errors of the others;
a ``Failure`` is a :class:`~dmp.clients.errors.DmpRefused` (code: the first ``errorCode``).
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from dmp.clients import ebrim, soap
from dmp.clients.config import DmpClientConfig, resolve
from dmp.clients.errors import unreadable
from dmp.clients.namespaces import nsmap, tag
from dmp.clients.types import Actor, PatientRef, RetrievedDocument, RetrieveResult

RETRIEVE = soap.Operation("urn:ihe:iti:2007:RetrieveDocumentSet", tag("xdsb", "RetrieveDocumentSetResponse"))


def retrieve(
    actor: Actor,
    patient: PatientRef,
    documents: Sequence[tuple[str, str]],
    *,
    config: DmpClientConfig | None = None,
) -> RetrieveResult:
    """Retrieve ``documents``, each a (repositoryUniqueId, uniqueId) pair, in one request."""
    if not documents:
        raise ValueError("ITI-43 retrieves at least one document")
    config = resolve(config)
    answer = soap.call(
        config,
        url=config.repository_url,
        operation=RETRIEVE,
        payload=_retrieve_request(documents),
        actor=actor,
        patient=patient,
        mtom_request=True,
    )
    response = answer.body.find(tag("rs", "RegistryResponse"))
    if response is None:
        raise unreadable("RetrieveDocumentSetResponse without its RegistryResponse")
    ebrim.check_status(response)
    return RetrieveResult(
        documents=tuple(_document(answer, item) for item in answer.body.iterfind(tag("xdsb", "DocumentResponse"))),
        errors=ebrim.registry_errors(response),
    )


def _retrieve_request(documents: Sequence[tuple[str, str]]) -> etree._Element:
    request = etree.Element(tag("xdsb", "RetrieveDocumentSetRequest"), nsmap=nsmap("xdsb"))
    for repository_unique_id, unique_id in documents:
        item = etree.SubElement(request, tag("xdsb", "DocumentRequest"))
        etree.SubElement(item, tag("xdsb", "RepositoryUniqueId")).text = repository_unique_id
        etree.SubElement(item, tag("xdsb", "DocumentUniqueId")).text = unique_id
    return request


def _document(answer: soap.SoapAnswer, item: etree._Element) -> RetrievedDocument:
    content = item.find(tag("xdsb", "Document"))
    if content is None:
        raise unreadable("DocumentResponse without its Document")
    return RetrievedDocument(
        repository_unique_id=item.findtext(tag("xdsb", "RepositoryUniqueId"), "").strip(),
        unique_id=item.findtext(tag("xdsb", "DocumentUniqueId"), "").strip(),
        mime_type=item.findtext(tag("xdsb", "mimeType"), "").strip(),
        content=answer.binary(content),
    )

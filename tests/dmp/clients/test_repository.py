"""TD3.2 (ITI-43): the request goes MTOM, documents come back as MTOM parts or inline base64, byte
for byte; a partial success keeps the errors (docs/dmp-protocol.md §7)."""

from __future__ import annotations

import base64

import pytest

from dmp.clients import mtom, repository
from dmp.clients.errors import DmpProtocolError, DmpRefused
from dmp.clients.namespaces import tag
from dmp.clients.types import RegistryError
from tests.dmp.clients.fakes import Answer, soap

ACTION = "urn:ihe:iti:2007:RetrieveDocumentSetResponse"
REPOSITORY = "1.2.250.1.213.1.1.9.2"
CDA = b'<?xml version="1.0"?>\r\n<ClinicalDocument xmlns="urn:hl7-org:v3"/>\r\n'
PDF = b"%PDF-1.4\r\n--not-a-boundary\r\n\x00\xff\xfe binary \r\n\r\n%%EOF"
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
NAMESPACES = (
    'xmlns:xdsb="urn:ihe:iti:xds-b:2007" xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" '
    'xmlns:xop="http://www.w3.org/2004/08/xop/include"'
)
PARTIAL_ERROR = (
    '<rs:RegistryErrorList><rs:RegistryError errorCode="XDSDocumentUniqueIdError" codeContext="Document inconnu" '
    'severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error" location="1.2.250.1.999.1.2.9.1"/>'
    "</rs:RegistryErrorList>"
)


def response(documents: list[tuple[str, str, str]], *, status: str = SUCCESS, errors: str = "") -> bytes:
    """A RetrieveDocumentSetResponse; each document is (uniqueId, mimeType, the Document's content)."""
    items = "".join(
        f"<xdsb:DocumentResponse><xdsb:RepositoryUniqueId>{REPOSITORY}</xdsb:RepositoryUniqueId>"
        f"<xdsb:DocumentUniqueId>{unique_id}</xdsb:DocumentUniqueId><xdsb:mimeType>{mime}</xdsb:mimeType>"
        f"<xdsb:Document>{content}</xdsb:Document></xdsb:DocumentResponse>"
        for unique_id, mime, content in documents
    )
    return soap(
        ACTION,
        f'<xdsb:RetrieveDocumentSetResponse {NAMESPACES}><rs:RegistryResponse status="{status}">{errors}'
        f"</rs:RegistryResponse>{items}</xdsb:RetrieveDocumentSetResponse>",
    )


def multipart(root: bytes, attachments: dict[str, bytes], *, boundary: str = "uuid:b0undary", base64_parts=False):
    """An MTOM answer as a DMP would send it (root first, the ``start`` parameter naming it)."""
    chunks = [f"--{boundary}\r\nContent-Type: {mtom.ROOT_CONTENT_TYPE}\r\nContent-ID: <root@dmp>\r\n\r\n".encode()]
    chunks.append(root)
    for content_id, content in attachments.items():
        encoding = "base64" if base64_parts else "binary"
        body = base64.encodebytes(content) if base64_parts else content
        chunks.append(
            f"\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Transfer-Encoding: {encoding}\r\nContent-ID: <{content_id}>\r\n\r\n".encode()
        )
        chunks.append(body)
    chunks.append(f"\r\n--{boundary}--\r\n".encode())
    content_type = (
        f'multipart/related; type="application/xop+xml"; start="<root@dmp>"; '
        f'start-info="application/soap+xml"; boundary="{boundary}"'
    )
    return Answer(content_type=content_type, body=b"".join(chunks))


def include(content_id: str) -> str:
    return f'<xop:Include href="cid:{content_id}"/>'


def retrieve(config, actor, patient, *unique_ids: str):
    return repository.retrieve(actor, patient, [(REPOSITORY, uid) for uid in unique_ids], config=config)


def test_request_is_mtom_with_one_document_request_per_document(fake_dmp, config, actor, patient):
    fake_dmp.answer(Answer(body=response([])))

    retrieve(config, actor, patient, "1.2.3", "4.5.6")

    (request,) = fake_dmp.received
    assert request.content_type.startswith('multipart/related; type="application/xop+xml"; start="<root.')
    assert 'start-info="application/soap+xml"' in request.content_type
    assert f"Content-Type: {mtom.ROOT_CONTENT_TYPE}".encode() in request.body
    body = request.envelope.find(tag("env", "Body"))[0]
    assert body.tag == tag("xdsb", "RetrieveDocumentSetRequest")
    assert [
        (item.findtext(tag("xdsb", "RepositoryUniqueId")), item.findtext(tag("xdsb", "DocumentUniqueId")))
        for item in body
    ] == [(REPOSITORY, "1.2.3"), (REPOSITORY, "4.5.6")]
    assert request.envelope.findtext(f".//{tag('wsa', 'Action')}") == "urn:ihe:iti:2007:RetrieveDocumentSet"


@pytest.mark.parametrize("base64_parts", [False, True])
def test_two_documents_as_mtom_parts_come_back_byte_for_byte(fake_dmp, config, actor, patient, base64_parts):
    root = response([("1.2.3", "text/xml", include("doc1@dmp")), ("4.5.6", "application/pdf", include("doc%402"))])
    fake_dmp.answer(multipart(root, {"doc1@dmp": CDA, "doc@2": PDF}, base64_parts=base64_parts))

    result = retrieve(config, actor, patient, "1.2.3", "4.5.6")

    assert [(d.repository_unique_id, d.unique_id, d.mime_type, d.content) for d in result.documents] == [
        (REPOSITORY, "1.2.3", "text/xml", CDA),
        (REPOSITORY, "4.5.6", "application/pdf", PDF),
    ]
    assert result.errors == ()


def test_inline_base64_without_mtom(fake_dmp, config, actor, patient):
    encoded = base64.encodebytes(CDA).decode()
    fake_dmp.answer(Answer(body=response([("1.2.3", "text/xml", encoded)])))

    (document,) = retrieve(config, actor, patient, "1.2.3").documents

    assert document.content == CDA


def test_partial_success_keeps_the_documents_and_the_errors(fake_dmp, config, actor, patient):
    status = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"
    root = response([("1.2.3", "text/xml", include("doc1@dmp"))], status=status, errors=PARTIAL_ERROR)
    fake_dmp.answer(multipart(root, {"doc1@dmp": CDA}))

    result = retrieve(config, actor, patient, "1.2.3", "1.2.250.1.999.1.2.9.1")

    assert [d.unique_id for d in result.documents] == ["1.2.3"]
    assert result.errors == (
        RegistryError(
            code="XDSDocumentUniqueIdError",
            message="Document inconnu",
            severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error",
            location="1.2.250.1.999.1.2.9.1",
        ),
    )


def test_failure_is_a_refusal(fake_dmp, config, actor, patient):
    status = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
    fake_dmp.answer(Answer(body=response([], status=status, errors=PARTIAL_ERROR)))

    with pytest.raises(DmpRefused) as raised:
        retrieve(config, actor, patient, "1.2.250.1.999.1.2.9.1")

    assert raised.value.code == "XDSDocumentUniqueIdError"
    assert str(raised.value) == "Ce document n'est pas ou plus accessible dans le DMP (supprimé, masqué ou inconnu)."


def test_truncated_multipart_is_unreadable(fake_dmp, config, actor, patient):
    answer = multipart(response([("1.2.3", "text/xml", include("doc1@dmp"))]), {"doc1@dmp": CDA})
    answer.body = answer.body[: -len("\r\n--uuid:b0undary--\r\n") - 10]
    fake_dmp.answer(answer)

    with pytest.raises(DmpProtocolError) as raised:
        retrieve(config, actor, patient, "1.2.3")

    assert "truncated" in raised.value.detail


def test_an_include_of_a_missing_part_is_unreadable(fake_dmp, config, actor, patient):
    fake_dmp.answer(multipart(response([("1.2.3", "text/xml", include("elsewhere@dmp"))]), {"doc1@dmp": CDA}))

    with pytest.raises(DmpProtocolError):
        retrieve(config, actor, patient, "1.2.3")


def test_bad_inline_base64_is_unreadable(fake_dmp, config, actor, patient):
    fake_dmp.answer(Answer(body=response([("1.2.3", "text/xml", "not base64!")])))

    with pytest.raises(DmpProtocolError):
        retrieve(config, actor, patient, "1.2.3")


def test_multipart_without_boundary_is_unreadable():
    with pytest.raises(DmpProtocolError):
        mtom.decode(b"--x\r\n\r\n<a/>\r\n--x--", "multipart/related")


def test_mtom_round_trip():
    body, content_type = mtom.encode(b"<env:Envelope/>")

    assert mtom.decode(body, content_type).root == b"<env:Envelope/>"


def test_nothing_to_retrieve_is_a_programming_error(config, actor, patient):
    with pytest.raises(ValueError):
        repository.retrieve(actor, patient, [], config=config)

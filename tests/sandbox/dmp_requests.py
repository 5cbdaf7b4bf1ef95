"""An independent little DMP client for the sandbox DMP's tests, written from ``docs/dmp-protocol.md`` only.

It builds the VIHF (lxml + signxml), the SOAP envelopes and bodies, and talks over mutual TLS with
httpx; MTOM answers are read with the standard ``email`` parser. Every part can be changed, so that a
test breaks one rule at a time. It shares no code with ``sandbox.dmp`` (nor with ``dmp.clients``).
"""

from __future__ import annotations

import base64
import copy
import email.parser
import email.policy
import ssl
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from cryptography import x509
from lxml import etree
from signxml import XMLSigner

from dpi.validators import luhn_check_digit

ENV = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
QUERY = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
XDSB = "urn:ihe:iti:xds-b:2007"
XOP = "http://www.w3.org/2004/08/xop/include"
DMP = "urn:dpi-segur:dmp:patients:1"
NS = {
    "env": ENV,
    "wsa": WSA,
    "saml": SAML,
    "query": QUERY,
    "rim": RIM,
    "rs": RS,
    "xdsb": XDSB,
    "xop": XOP,
    "dmp": DMP,
    "lcm": LCM,
    "ds": DS,
}

TD02 = "urn:dpi-segur:dmp:TD0.2"
TD03 = "urn:dpi-segur:dmp:TD0.3"
ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
ITI43 = "urn:ihe:iti:2007:RetrieveDocumentSet"
ITI57 = "urn:ihe:iti:2010:UpdateDocumentSet"
FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
FIND_SUBMISSION_SETS = "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9"
GET_ASSOCIATIONS = "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155"
GET_DOCUMENTS_AND_ASSOCIATIONS = "urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a"
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
REPOSITORY = "1.2.250.1.213.1.1.9.2"
CONFIDENTIALITY_SCHEME = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
VISIBILITY_SYSTEM = "1.2.250.1.213.1.1.4.13"
SUBMISSION_SET_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
INS = "279035121518989"
INS_OID = "1.2.250.1.213.1.4.10"
TIME_SYNC = "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken"


def national_id(rpps_base: str = "1000000001") -> str:
    return "8" + rpps_base + luhn_check_digit(rpps_base)


def q(prefix: str, local: str) -> str:
    return f"{{{NS[prefix]}}}{local}"


@dataclass(frozen=True)
class Vihf:
    """Every value of the assertion; ``omit`` drops attributes (by Name) to break step 5."""

    name_id: str = field(default_factory=national_id)
    subject_name: str = "MARTIN Claire"
    roles: tuple[tuple[str, str], ...] = (("10", "1.2.250.1.71.1.2.7"), ("SM26", "1.2.250.1.71.1.2.5"))
    structure: str = "1000897406"
    secteur: str = "SA01^1.2.250.1.71.4.2.4"
    mode: str = "AIR"
    authn_class: str = TIME_SYNC
    purpose: str = "normal"
    ins: str = INS
    ins_oid: str = INS_OID
    vihf_version: str = "3.0"
    ressource_urn: str = "urn:dmp"
    issued: datetime | None = None
    lifetime: timedelta = timedelta(minutes=5)
    version: str = "2.0"
    omit: frozenset[str] = frozenset()

    def but(self, **changes: object) -> Vihf:
        return replace(self, **changes)


@dataclass(frozen=True)
class Credentials:
    """A certificate and its key in the test PKI (``structure``, ``other-structure``, ``rogue``)."""

    folder: Path
    stem: str = "structure"

    @property
    def cert(self) -> Path:
        return self.folder / f"{self.stem}.crt"

    @property
    def key(self) -> Path:
        return self.folder / f"{self.stem}.key"

    def subject(self) -> str:
        return x509.load_pem_x509_certificate(self.cert.read_bytes()).subject.rfc4514_string()


def assertion(vihf: Vihf, signer: Credentials | None) -> etree._Element:
    """The VIHF of §3, signed by ``signer`` (unsigned when None), the signature right after the Issuer."""
    issued = vihf.issued or datetime.now(UTC)
    stamp = issued.strftime("%Y-%m-%dT%H:%M:%SZ")
    assertion_id = f"_{uuid.uuid4()}"
    root = etree.Element(
        q("saml", "Assertion"),
        {"ID": assertion_id, "IssueInstant": stamp, "Version": vihf.version},
        nsmap={"saml": SAML, "hl7": HL7, "xsi": XSI},
    )
    issuer = etree.SubElement(
        root, q("saml", "Issuer"), Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
    )
    issuer.text = signer.subject() if signer else "CN=inconnu"
    if signer:
        etree.SubElement(root, f"{{{DS}}}Signature", Id="placeholder", nsmap={"ds": DS})
    subject = etree.SubElement(root, q("saml", "Subject"))
    etree.SubElement(
        subject, q("saml", "NameID"), Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
    ).text = vihf.name_id
    etree.SubElement(
        root,
        q("saml", "Conditions"),
        NotBefore=stamp,
        NotOnOrAfter=(issued + vihf.lifetime).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    statement = etree.SubElement(root, q("saml", "AuthnStatement"), AuthnInstant=stamp)
    context = etree.SubElement(statement, q("saml", "AuthnContext"))
    etree.SubElement(context, q("saml", "AuthnContextClassRef")).text = vihf.authn_class
    _attributes(etree.SubElement(root, q("saml", "AttributeStatement")), vihf)
    if signer is None:
        return root
    return XMLSigner(c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#").sign(
        root,
        key=signer.key.read_bytes(),
        cert=signer.cert.read_text(),
        reference_uri=f"#{assertion_id}",
        id_attribute="ID",
    )


def _attributes(statement: etree._Element, vihf: Vihf) -> None:
    def attribute(name: str, *values: str | etree._Element) -> None:
        if name in vihf.omit:
            return
        element = etree.SubElement(statement, q("saml", "Attribute"), Name=name)
        for value in values:
            holder = etree.SubElement(element, q("saml", "AttributeValue"))
            if isinstance(value, str):
                holder.text = value
            else:
                holder.append(value)

    def coded(local: str, code: str, system: str) -> etree._Element:
        element = etree.Element(f"{{{HL7}}}{local}", code=code, codeSystem=system)
        element.set(f"{{{XSI}}}type", "CE")
        return element

    attribute("VIHF_Version", vihf.vihf_version)
    attribute("Authentification_Mode", vihf.mode)
    attribute("Identifiant_Structure", vihf.structure)
    attribute("Secteur_Activite", vihf.secteur)
    attribute("urn:oasis:names:tc:xspa:1.0:subject:subject-id", vihf.subject_name)
    attribute(
        "urn:oasis:names:tc:xacml:2.0:subject:role", *(coded("Role", code, system) for code, system in vihf.roles)
    )
    attribute("urn:oasis:names:tc:xacml:2.0:resource:resource-id", f"{vihf.ins}^^^&{vihf.ins_oid}&ISO^NH")
    attribute("Ressource_URN", vihf.ressource_urn)
    attribute(
        "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse",
        coded("PurposeOfUse", vihf.purpose, "1.2.250.1.213.1.1.4.248"),
    )
    attribute("LPS_Nom", "DPI Segur open source")
    attribute("LPS_Version", "0.2.0")
    attribute("LPS_ID_HOMOLOGATION_DMP", "")


def envelope(action: str, body: etree._Element, security: etree._Element | None, *, to: str = "") -> bytes:
    root = etree.Element(q("env", "Envelope"), nsmap={"env": ENV, "wsa": WSA})
    header = etree.SubElement(root, q("env", "Header"))
    must = {f"{{{ENV}}}mustUnderstand": "1"}
    etree.SubElement(header, q("wsa", "Action"), must).text = action
    etree.SubElement(header, q("wsa", "MessageID")).text = f"urn:uuid:{uuid.uuid4()}"
    reply = etree.SubElement(header, q("wsa", "ReplyTo"))
    etree.SubElement(reply, q("wsa", "Address")).text = "http://www.w3.org/2005/08/addressing/anonymous"
    etree.SubElement(header, q("wsa", "To"), must).text = to
    if security is not None:
        etree.SubElement(header, f"{{{WSSE}}}Security", must, nsmap={"wsse": WSSE}).append(copy.deepcopy(security))
    etree.SubElement(root, q("env", "Body")).append(body)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# --- bodies -------------------------------------------------------------------------------------


def _dmp(local: str, parent: etree._Element | None = None, text: str | None = None) -> etree._Element:
    element = (
        etree.Element(f"{{{DMP}}}{local}", nsmap={"dmp": DMP})
        if parent is None
        else etree.SubElement(parent, f"{{{DMP}}}{local}")
    )
    if text is not None:
        element.text = text
    return element


def td02(ins: str = INS, oid: str = INS_OID) -> etree._Element:
    request = _dmp("TestExistenceRequest")
    matricule = _dmp("matriculeINS", request)
    _dmp("valeur", matricule, ins)
    _dmp("identifiantSysteme", matricule, oid)
    return request


def td03(action: str = "AJOUT", ins: str = INS, oid: str = INS_OID) -> etree._Element:
    request = _dmp("AuthorizationRequest")
    matricule = _dmp("matriculeINS", request)
    _dmp("valeur", matricule, ins)
    _dmp("identifiantSysteme", matricule, oid)
    _dmp("action", request, action)
    return request


def stored_query(query_id: str, slots: dict[str, list[str] | list[list[str]]], *, return_type: str = "LeafClass"):
    """``slots``: name -> its values (one slot), or a list of value lists (the same name repeated: AND)."""
    request = etree.Element(q("query", "AdhocQueryRequest"), nsmap={"query": QUERY, "rim": RIM})
    etree.SubElement(request, q("query", "ResponseOption"), returnType=return_type, returnComposedObjects="true")
    query = etree.SubElement(request, q("rim", "AdhocQuery"), id=query_id)
    for name, values in slots.items():
        groups = values if values and isinstance(values[0], list) else [values]
        for group in groups:
            value_list = etree.SubElement(etree.SubElement(query, q("rim", "Slot"), name=name), q("rim", "ValueList"))
            for value in group:
                etree.SubElement(value_list, q("rim", "Value")).text = value
    return request


def patient_id(ins: str = INS, oid: str = INS_OID) -> str:
    return f"'{ins}^^^&{oid}&ISO'"


def find_documents(**slots: list[str]) -> etree._Element:
    base = {"$XDSDocumentEntryPatientId": [patient_id()], "$XDSDocumentEntryStatus": [f"('{APPROVED}')"]}
    return stored_query(FIND_DOCUMENTS, base | {f"$XDSDocumentEntry{name}": values for name, values in slots.items()})


def quoted_list(*values: str) -> str:
    return "(" + ",".join("'" + value.replace("'", "''") + "'" for value in values) + ")"


def retrieve(*unique_ids: str, repository: str = REPOSITORY) -> etree._Element:
    request = etree.Element(q("xdsb", "RetrieveDocumentSetRequest"), nsmap={"xdsb": XDSB})
    for unique_id in unique_ids:
        document = etree.SubElement(request, q("xdsb", "DocumentRequest"))
        etree.SubElement(document, q("xdsb", "RepositoryUniqueId")).text = repository
        etree.SubElement(document, q("xdsb", "DocumentUniqueId")).text = unique_id
    return request


def visibility_update(
    entry: etree._Element, *, codes: tuple[str, ...], previous_version: str | None = None, patient: str = ""
) -> etree._Element:
    """ITI-57 from an ``rim:ExtrinsicObject`` read by GetDocuments: same lid, new id, other visibility codes."""
    new_entry = copy.deepcopy(entry)
    new_id = f"urn:uuid:{uuid.uuid4()}"
    old_id = new_entry.get("id")
    new_entry.set("id", new_id)
    for element in new_entry.iter():
        for attribute in ("classifiedObject", "registryObject"):
            if element.get(attribute) == old_id:
                element.set(attribute, new_id)
    for classification in new_entry.findall("rim:Classification", NS):
        system = classification.findtext("rim:Slot[@name='codingScheme']/rim:ValueList/rim:Value", namespaces=NS)
        if classification.get("classificationScheme") == CONFIDENTIALITY_SCHEME and system == VISIBILITY_SYSTEM:
            new_entry.remove(classification)
    for code in codes:
        classification = etree.SubElement(
            new_entry,
            q("rim", "Classification"),
            classificationScheme=CONFIDENTIALITY_SCHEME,
            classifiedObject=new_id,
            nodeRepresentation=code,
            id=f"urn:uuid:{uuid.uuid4()}",
        )
        _slot(classification, "codingScheme", VISIBILITY_SYSTEM)
    _reorder(new_entry)
    version = previous_version or entry.find("rim:VersionInfo", NS).get("versionName")
    patient = patient or entry.find(
        "rim:ExternalIdentifier[@identificationScheme='urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427']", NS
    ).get("value")
    request = etree.Element(q("lcm", "SubmitObjectsRequest"), nsmap={"lcm": LCM, "rim": RIM})
    objects = etree.SubElement(request, q("rim", "RegistryObjectList"))
    objects.append(_submission_set(patient))
    objects.append(new_entry)
    association = etree.SubElement(
        objects,
        q("rim", "Association"),
        associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember",
        sourceObject="urn:uuid:ss",
        targetObject=new_id,
        id=f"urn:uuid:{uuid.uuid4()}",
    )
    _slot(association, "SubmissionSetStatus", "Original")
    _slot(association, "PreviousVersion", version)
    return request


def _reorder(entry: etree._Element) -> None:
    """ebRIM order: Slot, Name, Description, VersionInfo, Classification, ExternalIdentifier."""
    rank = {"Slot": 0, "Name": 1, "Description": 2, "VersionInfo": 3, "Classification": 4, "ExternalIdentifier": 5}
    children = sorted(entry, key=lambda child: rank.get(etree.QName(child).localname, 6))
    for child in children:
        entry.append(child)


def _slot(parent: etree._Element, name: str, *values: str) -> None:
    value_list = etree.SubElement(etree.SubElement(parent, q("rim", "Slot"), name=name), q("rim", "ValueList"))
    for value in values:
        etree.SubElement(value_list, q("rim", "Value")).text = value


def _submission_set(patient: str) -> etree._Element:
    package = etree.Element(q("rim", "RegistryPackage"), id="urn:uuid:ss")
    _slot(package, "submissionTime", datetime.now(UTC).strftime("%Y%m%d%H%M%S"))
    author = etree.SubElement(
        package,
        q("rim", "Classification"),
        classificationScheme="urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d",
        classifiedObject="urn:uuid:ss",
        nodeRepresentation="",
        id="urn:uuid:ss-author",
    )
    _slot(author, "authorPerson", f"{national_id()}^MARTIN^Claire^^^^^^&1.2.250.1.71.4.2.1&ISO")
    content = etree.SubElement(
        package,
        q("rim", "Classification"),
        classificationScheme="urn:uuid:aa543740-bdda-424e-8c96-df4873be8500",
        classifiedObject="urn:uuid:ss",
        nodeRepresentation="04",
        id="urn:uuid:ss-content",
    )
    _slot(content, "codingScheme", "1.2.250.1.213.2.2")
    etree.SubElement(
        package,
        q("rim", "Classification"),
        classificationNode=SUBMISSION_SET_NODE,
        classifiedObject="urn:uuid:ss",
        id="urn:uuid:ss-node",
    )
    for scheme, value in (
        ("urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8", f"2.25.{uuid.uuid4().int}"),
        ("urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832", "1.2.250.1.999.1"),
        ("urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446", patient),
    ):
        etree.SubElement(
            package,
            q("rim", "ExternalIdentifier"),
            identificationScheme=scheme,
            value=value,
            registryObject="urn:uuid:ss",
            id=f"urn:uuid:{uuid.uuid4()}",
        )
    return package


# --- transport ----------------------------------------------------------------------------------


@dataclass
class Reply:
    """An answer: HTTP status, the envelope, and the MTOM parts by Content-ID."""

    status: int
    envelope: etree._Element
    parts: dict[str, bytes]
    content_type: str

    @property
    def body(self) -> etree._Element:
        return self.envelope.find("env:Body", NS)[0]

    @property
    def fault(self) -> tuple[str, str] | None:
        """(subcode, reason) of a SOAP fault."""
        fault = self.envelope.find("env:Body/env:Fault", NS)
        if fault is None:
            return None
        return (
            fault.findtext("env:Code/env:Subcode/env:Value", namespaces=NS),
            fault.findtext("env:Reason/env:Text", namespaces=NS),
        )

    @property
    def relates_to(self) -> str:
        return self.envelope.findtext("env:Header/wsa:RelatesTo", namespaces=NS)

    def errors(self) -> list[str]:
        return [error.get("errorCode") for error in self.envelope.iter(q("rs", "RegistryError"))]


def read_reply(response: httpx.Response) -> Reply:
    content_type = response.headers.get("content-type", "")
    if content_type.startswith("multipart/related"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + response.content
        )
        parts = {part["Content-ID"].strip("<>"): part.get_payload(decode=True) for part in message.iter_parts()}
        root_id = message.get_param("start").strip("<>")
        return Reply(response.status_code, etree.fromstring(parts.pop(root_id)), parts, content_type)
    return Reply(response.status_code, etree.fromstring(response.content), {}, content_type)


class DmpClient:
    """Mutual-TLS HTTPS to the sandbox; ``certificate`` None sends no client certificate."""

    def __init__(self, pki: Path, certificate: str | None = "structure", *, trust: Path | None = None) -> None:
        context = ssl.create_default_context(cafile=str(trust or pki / "ca.crt"))
        if certificate:
            context.load_cert_chain(str(pki / f"{certificate}.crt"), str(pki / f"{certificate}.key"))
        self.http = httpx.Client(verify=context, timeout=30)

    def post(self, url: str, action: str, data: bytes, *, content_type: str = "") -> Reply:
        headers = {"Content-Type": content_type or f'application/soap+xml; charset=UTF-8; action="{action}"'}
        return read_reply(self.http.post(url, content=data, headers=headers))

    def close(self) -> None:
        self.http.close()


def mtom(envelope_bytes: bytes, boundary: str = "MIMEBoundary_test") -> tuple[str, bytes]:
    """A request as MTOM/XOP: the envelope as the only (root) part."""
    content_type = (
        f'multipart/related; type="application/xop+xml"; start="<root@test>"; '
        f'start-info="application/soap+xml"; boundary="{boundary}"'
    )
    body = (
        (
            f'--{boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n'
            f"Content-Transfer-Encoding: 8bit\r\nContent-ID: <root@test>\r\n\r\n"
        ).encode()
        + envelope_bytes
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return content_type, body


def b64_assertion(element: etree._Element) -> str:
    return base64.b64encode(etree.tostring(element)).decode()

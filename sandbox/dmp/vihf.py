"""The VIHF checks of ``docs/dmp-protocol.md`` §3 (steps 2 to 9), each failure with its fault of §4.

The assertion's content is read from what the signature covers (signxml's ``signed_xml``), never from
the raw request: an attacker could otherwise wrap a valid signature around other attributes.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature as InvalidCertificateSignature
from cryptography.x509.oid import NameOID
from django.utils import timezone
from lxml import etree
from signxml import DigestAlgorithm, SignatureConfiguration, SignatureMethod, XMLVerifier
from signxml.exceptions import InvalidInput, InvalidSignature

from sandbox.dmp.constants import NS, qname
from sandbox.dmp.identifiers import Ins, ins_problem, parse_cx, personal_national_id
from sandbox.dmp.soap import DmpFault

SKEW = timedelta(minutes=5)
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
PROFESSION_SYSTEM = "1.2.250.1.71.1.2.7"  # TRE_G15
SPECIALTY_SYSTEM = "1.2.250.1.71.1.2.5"  # TRE_R38
PURPOSE_SYSTEM = "1.2.250.1.213.1.1.4.248"
PURPOSES = ("normal", "BRIS_DE_GLACE")
PROFESSIONS = ("10", "21", "40", "50", "60", "69", "70", "80", "81", "82", "83", "84", "85", "86", "91", "98")
PHYSICIAN = "10"
VIHF_VERSIONS = ("3.0", "4.0")
TWO_FACTOR_CLASSES = frozenset(
    [
        *(
            f"urn:oasis:names:tc:SAML:2.0:ac:classes:{name}"
            for name in (
                "TimeSyncToken",
                "MobileTwoFactorContract",
                "MobileTwoFactorUnregistered",
                "Smartcard",
                "SmartcardPKI",
            )
        ),
        "eidas1",
        "eidas2",
        "eidas3",
    ]
)
AUTHN_CLASS = "saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef"
SUBJECT_ID = "urn:oasis:names:tc:xspa:1.0:subject:subject-id"
ROLE = "urn:oasis:names:tc:xacml:2.0:subject:role"
RESOURCE_ID = "urn:oasis:names:tc:xacml:2.0:resource:resource-id"
PURPOSE = "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"
REQUIRED_ATTRIBUTES = (
    "VIHF_Version",
    "Authentification_Mode",
    "Identifiant_Structure",
    "Secteur_Activite",
    SUBJECT_ID,
    ROLE,
    RESOURCE_ID,
    "Ressource_URN",
    PURPOSE,
    "LPS_Nom",
    "LPS_Version",
    "LPS_ID_HOMOLOGATION_DMP",
)
_SIGNATURE_CONFIG = SignatureConfiguration(
    location="./",
    expect_references=1,
    signature_methods=frozenset({SignatureMethod.RSA_SHA256}),
    digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
)


@dataclass(frozen=True)
class Role:
    code: str
    system: str

    def __str__(self) -> str:
        return f"{self.code}^{self.system}"


@dataclass(frozen=True)
class Caller:
    """Who the verified VIHF says is asking, about which patient."""

    national_id: str
    subject_name: str
    roles: tuple[Role, ...]
    structure_id: str
    authentication_mode: str
    authentication_class: str
    purpose: str
    patient: Ins


@dataclass(frozen=True)
class Trust:
    """The sandbox CA: the only issuer of TLS client and signing certificates the DMP accepts."""

    ca: x509.Certificate

    @classmethod
    def from_file(cls, path: Path) -> Trust:
        return cls(x509.load_pem_x509_certificate(Path(path).read_bytes()))

    def issued(self, certificate: x509.Certificate, now: datetime) -> bool:
        """Signed by the CA and valid now (the CA issues end certificates directly)."""
        try:
            certificate.verify_directly_issued_by(self.ca)
        except (ValueError, TypeError, InvalidCertificateSignature):
            return False
        return certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc


def find_assertion(envelope: etree._Element) -> etree._Element:
    """Step 2: the one ``saml:Assertion`` in ``wsse:Security`` (``wsse:InvalidSecurity``)."""
    security = envelope.find("env:Header/wsse:Security", NS)
    assertions = security.findall("saml:Assertion", NS) if security is not None else []
    if len(assertions) != 1:
        raise DmpFault("wsse:InvalidSecurity", "En-tête wsse:Security absent ou sans assertion VIHF unique.")
    return assertions[0]


def verify_assertion(
    assertion: etree._Element, *, trust: Trust, tls_certificate: x509.Certificate | None, now: datetime | None = None
) -> Caller:
    """Steps 3 to 9 of §3; ``tls_certificate`` is None for a browser (web PS, DRIMbox)."""
    now = now or timezone.now()
    signed, certificate = verify_signature(assertion, trust=trust, tls_certificate=tls_certificate, now=now)
    _check_times(signed, now)
    attributes = _attributes(signed)
    _check_attributes(signed, attributes)
    _check_issuer(signed, certificate)
    national_id = _text(signed, "saml:Subject/saml:NameID")
    if not personal_national_id(national_id):
        raise DmpFault(
            "dmp:VIHFGenericAccount",
            f"Le NameID « {national_id} » n'est pas l'identifiant national d'un professionnel (8 + RPPS, 0 + ADELI).",
        )
    roles = _roles(attributes[ROLE])
    authn_class = _text(signed, AUTHN_CLASS)
    mode = _value(attributes, "Authentification_Mode")
    if mode != "AIR" or authn_class not in TWO_FACTOR_CLASSES:
        raise DmpFault(
            "dmp:AuthenticationModeRefused",
            f"Authentification « {mode} » / « {authn_class} » refusée : mode AIR avec double authentification exigé.",
        )
    return Caller(
        national_id=national_id,
        subject_name=_value(attributes, SUBJECT_ID),
        roles=roles,
        structure_id=_value(attributes, "Identifiant_Structure"),
        authentication_mode=mode,
        authentication_class=authn_class,
        purpose=_purpose(attributes[PURPOSE])[0],
        patient=_patient(_value(attributes, RESOURCE_ID)),
    )


# --- Step 3: the signature -------------------------------------------------------------------------


def verify_signature(
    assertion: etree._Element, *, trust: Trust, tls_certificate: x509.Certificate | None, now: datetime
) -> tuple[etree._Element, x509.Certificate]:
    """The signed assertion and its certificate, once all three are trusted (``wsse:FailedCheck``)."""
    certificate = _signing_certificate(assertion)
    if not trust.issued(certificate, now):
        raise DmpFault("wsse:FailedCheck", "Certificat de signature du VIHF non émis par une autorité reconnue.")
    _check_transforms(assertion)
    try:
        result = XMLVerifier().verify(assertion, x509_cert=certificate, expect_config=_SIGNATURE_CONFIG)
    except (InvalidSignature, InvalidInput) as exc:
        raise DmpFault("wsse:FailedCheck", f"Signature du VIHF invalide : {exc}") from exc
    signed = result.signed_xml
    if signed is None or signed.tag != qname("saml", "Assertion") or signed.get("ID") != assertion.get("ID"):
        raise DmpFault("wsse:FailedCheck", "La signature ne porte pas sur l'assertion VIHF elle-même.")
    if tls_certificate is not None and not _same_organisation(certificate, tls_certificate):
        raise DmpFault(
            "wsse:FailedCheck", "Le VIHF est signé par une autre structure que celle du certificat TLS du client."
        )
    return signed, certificate


def _signing_certificate(assertion: etree._Element) -> x509.Certificate:
    signature = assertion.find("ds:Signature", NS)
    if signature is None:
        raise DmpFault("wsse:FailedCheck", "Assertion VIHF non signée.")
    previous = signature.getprevious()
    if previous is None or previous.tag != qname("saml", "Issuer"):
        raise DmpFault("wsse:FailedCheck", "La signature du VIHF doit suivre saml:Issuer (ordre du schéma SAML).")
    encoded = _text(signature, "ds:KeyInfo/ds:X509Data/ds:X509Certificate")
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(encoded.split()), validate=True))
    except (ValueError, binascii.Error) as exc:
        raise DmpFault("wsse:FailedCheck", "Certificat de signature du VIHF absent ou illisible.") from exc


def _check_transforms(assertion: etree._Element) -> None:
    info = assertion.find("ds:Signature/ds:SignedInfo", NS)
    c14n = info.find("ds:CanonicalizationMethod", NS) if info is not None else None
    transforms = info.findall("ds:Reference/ds:Transforms/ds:Transform", NS) if info is not None else []
    algorithms = [transform.get("Algorithm") for transform in transforms]
    if c14n is None or c14n.get("Algorithm") != EXC_C14N or algorithms != [ENVELOPED, EXC_C14N]:
        raise DmpFault(
            "wsse:FailedCheck", "Signature du VIHF : transformations enveloped-signature puis C14N exclusive attendues."
        )


def _same_organisation(signer: x509.Certificate, client: x509.Certificate) -> bool:
    """The TLS client's own certificate, or another one of the same organisation (same O and OU)."""
    if signer == client:
        return True

    def organisation(certificate: x509.Certificate) -> tuple[tuple[str, ...], tuple[str, ...]]:
        subject = certificate.subject
        return (
            tuple(str(item.value) for item in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)),
            tuple(str(item.value) for item in subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)),
        )

    return organisation(signer) == organisation(client) and all(organisation(signer))


# --- Steps 4 to 9 ----------------------------------------------------------------------------------


def _check_times(signed: etree._Element, now: datetime) -> None:
    if signed.get("Version") != "2.0":
        raise DmpFault("dmp:VIHFInvalid", "Attribut VIHF invalide : Version (2.0 attendu).")
    issued = _instant(signed.get("IssueInstant"), "IssueInstant")
    not_on_or_after = _instant(_attribute_of(signed, "saml:Conditions", "NotOnOrAfter"), "Conditions/NotOnOrAfter")
    not_before = _attribute_of(signed, "saml:Conditions", "NotBefore")
    if abs(issued - now) > SKEW or not_on_or_after <= now:
        raise DmpFault("dmp:VIHFExpired", "Assertion VIHF périmée ou émise dans le futur.")
    if not_before and _instant(not_before, "Conditions/NotBefore") > now + SKEW:
        raise DmpFault("dmp:VIHFExpired", "Assertion VIHF pas encore valide (NotBefore).")


def _instant(value: str | None, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat((value or "").replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise DmpFault("dmp:VIHFInvalid", f"Attribut VIHF invalide : {name} (date UTC attendue).")
    return moment


def _attributes(signed: etree._Element) -> dict[str, list[etree._Element]]:
    found: dict[str, list[etree._Element]] = {}
    for attribute in signed.findall("saml:AttributeStatement/saml:Attribute", NS):
        found.setdefault(attribute.get("Name") or "", []).extend(attribute.findall("saml:AttributeValue", NS))
    return found


def _check_attributes(signed: etree._Element, attributes: dict[str, list[etree._Element]]) -> None:
    """Step 5 (every attribute there and well-formed) and step 7 (roles): ``dmp:VIHFInvalid`` naming it."""
    for name in REQUIRED_ATTRIBUTES:
        if not attributes.get(name):
            _invalid(name, "absent")
    for path in ("saml:Issuer", "saml:Subject/saml:NameID", AUTHN_CLASS):
        if not _text(signed, path):
            _invalid(path.rsplit(":", 1)[-1], "absent")
    if not _attribute_of(signed, "saml:AuthnStatement", "AuthnInstant"):
        _invalid("AuthnInstant", "absent")
    checks = {
        "VIHF_Version": lambda value: value in VIHF_VERSIONS,
        "Ressource_URN": lambda value: value == "urn:dmp",
        "Secteur_Activite": lambda value: value.startswith("SA") and value.endswith("^1.2.250.1.71.4.2.4"),
        "Identifiant_Structure": lambda value: len(value) == 10 and value.startswith("1"),
        SUBJECT_ID: bool,
        RESOURCE_ID: lambda value: value.endswith("^NH"),
    }
    for name, valid in checks.items():
        if not valid(_value(attributes, name)):
            _invalid(name, f"valeur « {_value(attributes, name)} »")
    code, system = _purpose(attributes[PURPOSE])
    if code not in PURPOSES or system != PURPOSE_SYSTEM:
        _invalid("purposeofuse", f"« {code} »")


def _check_issuer(signed: etree._Element, certificate: x509.Certificate) -> None:
    """``saml:Issuer`` names the signing certificate's subject (RFC 4514), in the X509SubjectName format."""
    issuer = signed.find("saml:Issuer", NS)
    if issuer.get("Format") != "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName":
        _invalid("Issuer", "format X509SubjectName attendu")
    try:
        name = x509.Name.from_rfc4514_string(issuer.text or "")
    except ValueError:
        name = None
    if name != certificate.subject:
        _invalid("Issuer", "le sujet du certificat de signature est attendu")


def _roles(values: list[etree._Element]) -> tuple[Role, ...]:
    """Step 7: a TRE_G15 profession first; a physician's TRE_R38 specialty second."""
    roles = tuple(_coded(value, "Role") for value in values)
    if not roles or roles[0].system != PROFESSION_SYSTEM or roles[0].code not in PROFESSIONS:
        _invalid("role", "la première valeur doit être une profession TRE_G15 (1.2.250.1.71.1.2.7)")
    if roles[0].code == PHYSICIAN and (len(roles) < 2 or roles[1].system != SPECIALTY_SYSTEM):
        _invalid("role", "un médecin doit avoir sa spécialité TRE_R38 (1.2.250.1.71.1.2.5) en seconde valeur")
    return roles


def _purpose(values: list[etree._Element]) -> tuple[str, str]:
    role = _coded(values[0], "PurposeOfUse")
    return role.code, role.system


def _coded(value: etree._Element, local: str) -> Role:
    element = value.find(f"hl7:{local}", NS)
    if element is None:
        _invalid(local, f"élément hl7:{local} attendu")
    return Role(element.get("code") or "", element.get("codeSystem") or "")


def _patient(resource_id: str) -> Ins:
    """Step 9: a well-formed INS with a known OID (``dmp:InvalidINS``)."""
    ins = parse_cx(resource_id)
    problem = "resource-id illisible" if ins is None else ins_problem(ins)
    if problem:
        raise DmpFault("dmp:InvalidINS", f"INS du patient invalide : {problem}.")
    return ins


def _invalid(name: str, detail: str) -> None:
    raise DmpFault("dmp:VIHFInvalid", f"Attribut VIHF invalide : {name} ({detail}).")


def _value(attributes: dict[str, list[etree._Element]], name: str) -> str:
    values = attributes.get(name) or []
    return (values[0].text or "").strip() if values else ""


def _text(element: etree._Element, path: str) -> str:
    found = element.find(path, NS)
    return (found.text or "").strip() if found is not None else ""


def _attribute_of(element: etree._Element, path: str, name: str) -> str | None:
    found = element.find(path, NS)
    return found.get(name) if found is not None else None


def describe(assertion: etree._Element) -> dict[str, object]:
    """What the assertion claims, read as sent, for the call record (even when a check refuses it)."""
    attributes = _attributes(assertion)

    def coded(name: str, local: str) -> list[str]:
        elements = (value.find(f"hl7:{local}", NS) for value in attributes.get(name, []))
        return [f"{e.get('code')}^{e.get('codeSystem')}" for e in elements if e is not None]

    return {
        "name_id": _text(assertion, "saml:Subject/saml:NameID")[:64],
        "subject_name": _value(attributes, SUBJECT_ID)[:255],
        "roles": coded(ROLE, "Role"),
        "structure_id": _value(attributes, "Identifiant_Structure")[:32],
        "authentication_mode": _value(attributes, "Authentification_Mode")[:32],
        "authentication_class": _text(assertion, AUTHN_CLASS)[:128],
        "purpose_of_use": next(iter(coded(PURPOSE, "PurposeOfUse")), "").split("^")[0][:32],
        "patient_ins": _value(attributes, RESOURCE_ID)[:64],
    }

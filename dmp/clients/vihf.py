"""The VIHF: the SAML 2.0 assertion that tells the DMP who asks, about which patient, and how the
user signed in (docs/dmp-protocol.md §3), signed with the structure's certificate.

One assertion per request, always for the signed-in professional (never a generic account) and
always about one patient: the DMP checks that its resource-id is the patient of the request.
"""

from __future__ import annotations

import base64
import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from lxml import etree
from signxml import CanonicalizationMethod, DigestAlgorithm, SignatureConstructionMethod, SignatureMethod, XMLSigner

from dmp.clients.config import DmpClientConfig
from dmp.clients.errors import DmpConfigurationError
from dmp.clients.namespaces import NS, nsmap, tag
from dmp.clients.types import Actor, PatientRef

LIFETIME = timedelta(minutes=5)
X509_SUBJECT_NAME = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
UNSPECIFIED_NAME = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
AUTHENTICATION_MODE = "AIR"  # [assumed]: the AIR value is in the DMP integration guide
RESOURCE_URN = "urn:dmp"
SECTEUR_ACTIVITE_SYSTEM = "1.2.250.1.71.4.2.4"  # JDV_J61 (TRE_R02-SecteurActivite)
PROFESSION_SYSTEM = "1.2.250.1.71.1.2.7"  # TRE_G15-ProfessionSante
SPECIALTY_SYSTEM = "1.2.250.1.71.1.2.5"  # TRE_R38-SpecialiteOrdinale
PURPOSE_SYSTEM = "1.2.250.1.213.1.1.4.248"
PURPOSE_LABELS = {"normal": "Accès normal", "BRIS_DE_GLACE": "Accès en urgence (bris de glace)"}

SUBJECT_ID = "urn:oasis:names:tc:xspa:1.0:subject:subject-id"
SUBJECT_ROLE = "urn:oasis:names:tc:xacml:2.0:subject:role"
RESOURCE_ID = "urn:oasis:names:tc:xacml:2.0:resource:resource-id"
PURPOSE_OF_USE = "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"


@dataclass(frozen=True)
class SigningMaterial:
    key: PrivateKeyTypes
    certificate_pem: str
    issuer: str  # RFC 4514 subject of the certificate: the assertion's Issuer


def build_assertion(
    actor: Actor, patient: PatientRef, config: DmpClientConfig, *, now: datetime | None = None
) -> etree._Element:
    """The signed ``saml:Assertion`` for ``actor`` asking about ``patient``."""
    material = signing_material(config.signing_cert, config.signing_key)
    issued = (now or datetime.now(UTC)).astimezone(UTC)
    assertion_id = f"_{uuid.uuid4()}"
    assertion = etree.Element(
        tag("saml", "Assertion"),
        nsmap=nsmap("saml", "xsi"),
        ID=assertion_id,
        IssueInstant=_instant(issued),
        Version="2.0",
    )
    _text(assertion, "Issuer", material.issuer, Format=X509_SUBJECT_NAME)
    # signxml replaces this placeholder: the signature stands right after Issuer, as the SAML schema wants.
    etree.SubElement(assertion, tag("ds", "Signature"), nsmap=nsmap("ds"), Id="placeholder")
    subject = etree.SubElement(assertion, tag("saml", "Subject"))
    _text(subject, "NameID", actor.national_id, Format=UNSPECIFIED_NAME)
    etree.SubElement(
        assertion,
        tag("saml", "Conditions"),
        NotBefore=_instant(issued),
        NotOnOrAfter=_instant(issued + LIFETIME),
    )
    authn = etree.SubElement(assertion, tag("saml", "AuthnStatement"), AuthnInstant=_instant(actor.authn_instant))
    context = etree.SubElement(authn, tag("saml", "AuthnContext"))
    _text(context, "AuthnContextClassRef", actor.authn_class)
    _attributes(etree.SubElement(assertion, tag("saml", "AttributeStatement")), actor, patient, config)
    return _sign(assertion, assertion_id, material)


def encoded_assertion(actor: Actor, patient: PatientRef, config: DmpClientConfig) -> str:
    """The signed assertion as base64 text, for a form the user's browser posts (§9)."""
    return base64.b64encode(etree.tostring(build_assertion(actor, patient, config))).decode("ascii")


@functools.lru_cache(maxsize=8)
def signing_material(cert_path: Path, key_path: Path) -> SigningMaterial:
    """Read the signing certificate and key once per pair of files: every request is signed."""
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise DmpConfigurationError(
            "Le certificat de signature de l'établissement pour le DMP est introuvable ou illisible : "
            "prévenez l'administrateur.",
            detail=f"{cert_path}, {key_path}: {exc}",
        ) from exc
    return SigningMaterial(
        key=key,
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        issuer=certificate.subject.rfc4514_string(),
    )


def _attributes(statement: etree._Element, actor: Actor, patient: PatientRef, config: DmpClientConfig) -> None:
    roles = [_coded("Role", actor.profession, PROFESSION_SYSTEM)]
    if actor.specialty:
        roles.append(_coded("Role", actor.specialty, SPECIALTY_SYSTEM))
    purpose = _coded("PurposeOfUse", actor.purpose, PURPOSE_SYSTEM, PURPOSE_LABELS.get(actor.purpose, ""))
    for name, values in (
        ("VIHF_Version", [config.vihf_version]),
        ("Authentification_Mode", [AUTHENTICATION_MODE]),
        ("Identifiant_Structure", [actor.structure_id]),
        ("Secteur_Activite", [f"{config.secteur_activite}^{SECTEUR_ACTIVITE_SYSTEM}"]),
        (SUBJECT_ID, [actor.display_name]),
        (SUBJECT_ROLE, roles),
        (RESOURCE_ID, [f"{patient.xds_patient_id}^NH"]),
        ("Ressource_URN", [RESOURCE_URN]),
        (PURPOSE_OF_USE, [purpose]),
        ("LPS_Nom", [config.lps_name]),
        ("LPS_Version", [config.lps_version]),
        ("LPS_ID_HOMOLOGATION_DMP", [config.lps_homologation_id]),
    ):
        attribute = etree.SubElement(statement, tag("saml", "Attribute"), Name=name)
        for value in values:
            holder = etree.SubElement(attribute, tag("saml", "AttributeValue"))
            if isinstance(value, str):
                holder.text = value
            else:
                holder.append(value)


def _coded(name: str, code: str, system: str, label: str = "") -> etree._Element:
    """An HL7 v3 ``CE`` in its own default namespace, so that ``xsi:type="CE"`` resolves to HL7
    wherever the assertion is placed (exclusive canonicalisation keeps that declaration)."""
    element = etree.Element(f"{{{NS['hl7']}}}{name}", nsmap={None: NS["hl7"], "xsi": NS["xsi"]})
    element.set(tag("xsi", "type"), "CE")
    element.set("code", code)
    element.set("codeSystem", system)
    if label:
        element.set("displayName", label)
    return element


def _sign(assertion: etree._Element, assertion_id: str, material: SigningMaterial) -> etree._Element:
    # A signer per call: XMLSigner keeps per-call state (id attributes) and is not thread-safe.
    signer = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    return signer.sign(
        assertion,
        key=material.key,
        cert=material.certificate_pem,
        reference_uri=f"#{assertion_id}",
        id_attribute="ID",
    )


def _text(parent: etree._Element, name: str, text: str, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, tag("saml", name), **attributes)
    element.text = text
    return element


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

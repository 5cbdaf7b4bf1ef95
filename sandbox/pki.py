"""The sandbox's test PKI: a CA, the DMP server's certificate, the hospital's structure certificate.

In production the structure certificate comes from the IGC-Santé (a "cachet serveur" or
organisation certificate bound to the FINESS) and the DMP's server certificate is checked against
the IGC-Santé chain. Here the project makes its own: ``ensure_test_pki(folder)`` writes, once,

* ``ca.crt`` / ``ca.key``: the sandbox's certification authority;
* ``server.crt`` / ``server.key``: the sandbox DMP's TLS certificate (``localhost``, ``127.0.0.1``);
* ``structure.crt`` / ``structure.key``: the demo hospital's certificate (TLS client and VIHF signer);
* ``other-structure.crt`` / ``.key``: another establishment's certificate, from the same CA;
* ``rogue-ca.crt`` and ``rogue.crt`` / ``rogue.key``: a certificate from a CA the DMP does not trust.

The DPI reads them through its ``DMP_*`` settings, which point here by default.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEMO_FINESS = "000897406"  # the demo site "Hôpital Nord" (sandbox.demo)
DEMO_ORGANISATION = "Centre hospitalier de démonstration"
VALIDITY = datetime.timedelta(days=3650)


@dataclass(frozen=True)
class Pki:
    folder: Path

    def path(self, name: str) -> Path:
        return self.folder / name

    @property
    def ca(self) -> Path:
        return self.path("ca.crt")


def ensure_test_pki(folder: Path) -> Pki:
    """Create the test PKI under ``folder`` unless it is already there; return where it is."""
    pki = Pki(Path(folder))
    if pki.path("rogue.key").exists():
        return pki
    pki.folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _authority("DPI Sandbox Test CA")
    _write(pki, "ca", ca_key, ca_cert)
    server = _issue(ca_key, ca_cert, _name("localhost", "Sandbox DMP"), server=True)
    _write(pki, "server", *server)
    _write(pki, "structure", *_issue(ca_key, ca_cert, _structure_name(DEMO_FINESS, DEMO_ORGANISATION)))
    _write(pki, "other-structure", *_issue(ca_key, ca_cert, _structure_name("130000009", "Autre Établissement")))
    rogue_key, rogue_ca = _authority("Untrusted CA")
    _write(pki, "rogue-ca", rogue_key, rogue_ca)
    _write(pki, "rogue", *_issue(rogue_key, rogue_ca, _structure_name(DEMO_FINESS, DEMO_ORGANISATION)))
    return pki


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _structure_name(finess: str, organisation: str) -> x509.Name:
    """As an IGC-Santé organisation certificate: the FINESS in the OU and the common name."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, finess),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{finess} DPI"),
        ]
    )


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _authority(common_name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = _key()
    name = _name(common_name, "DPI Sandbox")
    builder = _builder(name, name, key).add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    builder = builder.add_extension(_usage(cert_sign=True), critical=True)
    return key, builder.sign(key, hashes.SHA256())


def _issue(
    ca_key: rsa.RSAPrivateKey, ca_cert: x509.Certificate, subject: x509.Name, *, server: bool = False
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = _key()
    builder = _builder(subject, ca_cert.subject, key).add_extension(
        x509.BasicConstraints(ca=False, path_length=None), critical=True
    )
    builder = builder.add_extension(_usage(cert_sign=False), critical=True)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if server:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def _builder(subject: x509.Name, issuer: x509.Name, key: rsa.RSAPrivateKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + VALIDITY)
    )


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=not cert_sign,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _write(pki: Pki, stem: str, key: rsa.RSAPrivateKey, cert: x509.Certificate) -> None:
    key_path = pki.path(f"{stem}.key")
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    pki.path(f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))

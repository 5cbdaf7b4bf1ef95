"""Real servers the account tests talk to: Debian's OpenLDAP ``slapd`` with a seeded tree, and an SMTP sink
(aiosmtpd), each on an ephemeral loopback port, started once per test process."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.utils import getaddresses
from pathlib import Path

import ldap3
import pytest
from django.conf import settings

SLAPD = os.environ.get("DPI_SLAPD", "/usr/sbin/slapd")
SUFFIX = "dc=hopital,dc=test"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "annuaire-de-test"  # noqa: S105  (a throw-away test server on loopback)
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"

SLAPD_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile {dir}/slapd.pid
argsfile {dir}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 67108864
suffix "{suffix}"
rootdn "{root_dn}"
rootpw {root_password}
directory {dir}/data
TLSCACertificateFile {dir}/ca.crt
TLSCertificateFile {dir}/server.crt
TLSCertificateKeyFile {dir}/server.key
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30  # a safety net on a loaded machine, not an assertion
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"slapd exited with {process.returncode}: {process.stderr.read().decode()[-2000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("slapd did not listen")


def _unprivileged_args(folder: Path) -> list[str]:
    """Run as Debian's ``openldap`` user when the tests run as root (slapd never needs root on a high port)."""
    if os.geteuid() != 0:
        return []
    shutil.chown(folder, "openldap", "openldap")
    for path in folder.rglob("*"):
        shutil.chown(path, "openldap", "openldap")
    return ["-u", "openldap", "-g", "openldap"]


@dataclass
class Directory:
    """A running slapd: its URL and an admin connection to change the tree as a directory admin would."""

    url: str
    ldaps_url: str
    ca_file: str

    def connection(self) -> ldap3.Connection:
        return ldap3.Connection(self.url, ROOT_DN, ROOT_PASSWORD, auto_bind=True, raise_exceptions=True)

    def reset(self) -> None:
        """Empty the people and groups, keep the two branches."""
        with self.connection() as conn:
            for base in (GROUPS, PEOPLE):
                conn.search(base, "(objectClass=*)", ldap3.LEVEL, attributes=[])
                for entry in list(conn.entries):
                    conn.delete(entry.entry_dn)

    def add_person(self, uid: str, sn: str, given_name: str = "", **attributes: str) -> str:
        dn = f"uid={uid},{PEOPLE}"
        values = {"uid": uid, "sn": sn, "cn": f"{given_name} {sn}".strip(), **attributes}
        if given_name:
            values["givenName"] = given_name
        with self.connection() as conn:
            conn.add(dn, ["inetOrgPerson"], values)
        return dn

    def modify(self, dn: str, **attributes: str | list[str]) -> None:
        changes = {
            name: [(ldap3.MODIFY_REPLACE, value if isinstance(value, list) else [value])]
            for name, value in attributes.items()
        }
        with self.connection() as conn:
            conn.modify(dn, changes)

    def delete(self, dn: str) -> None:
        with self.connection() as conn:
            conn.delete(dn)

    def add_group(self, cn: str, members: list[str]) -> str:
        dn = f"cn={cn},{GROUPS}"
        with self.connection() as conn:
            conn.add(dn, ["groupOfNames"], {"cn": cn, "member": members})
        return dn

    def entry_uuid(self, dn: str) -> str:
        with self.connection() as conn:
            conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["entryUUID"])
            return str(conn.entries[0].entryUUID.value).lower()


@pytest.fixture(scope="session")
def slapd(test_pki) -> Iterator[Directory]:
    """Debian's slapd on free loopback ports (``ldap://`` and ``ldaps://`` with the sandbox PKI's localhost
    certificate), its config and data under the test var directory."""
    if not Path(SLAPD).exists():
        pytest.fail(f"{SLAPD} is missing: `make system-deps` installs Debian's slapd.")
    folder = settings.VAR_DIR / "slapd"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "data").mkdir(parents=True)
    for name in ("ca.crt", "server.crt", "server.key"):
        shutil.copyfile(test_pki.path(name), folder / name)
    conf = folder / "slapd.conf"
    conf.write_text(SLAPD_CONF.format(dir=folder, suffix=SUFFIX, root_dn=ROOT_DN, root_password=ROOT_PASSWORD))
    port, tls_port = free_port(), free_port()
    urls = f"ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{tls_port}/"
    command = [SLAPD, "-f", str(conf), "-h", urls, "-d", "0", *_unprivileged_args(folder)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    try:
        _wait_for_port(port, process)
        _wait_for_port(tls_port, process)
        directory = Directory(
            url=f"ldap://127.0.0.1:{port}", ldaps_url=f"ldaps://127.0.0.1:{tls_port}", ca_file=str(test_pki.ca)
        )
        with directory.connection() as conn:
            conn.add(SUFFIX, ["dcObject", "organization"], {"dc": "hopital", "o": "Hôpital de test"})
            conn.add(PEOPLE, ["organizationalUnit"], {"ou": "people"})
            conn.add(GROUPS, ["organizationalUnit"], {"ou": "groups"})
        yield directory
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def directory(slapd: Directory, settings) -> Directory:
    """The test directory, emptied, and the DPI's settings pointing at it."""
    slapd.reset()
    settings.DIRECTORY_LDAP_URL = slapd.url
    settings.DIRECTORY_BIND_DN = ROOT_DN
    settings.DIRECTORY_BIND_PASSWORD = ROOT_PASSWORD
    settings.DIRECTORY_USER_BASE = PEOPLE
    settings.DIRECTORY_GROUP_BASE = GROUPS
    return slapd


@dataclass
class SmtpSink:
    """Mails received by the local SMTP server."""

    port: int
    messages: list[Message] = field(default_factory=list)

    def to(self, address: str) -> list[Message]:
        """The mails to ``address``, or to an address starting with it (``to("camille@")``)."""
        return [
            message
            for message in self.messages
            if any(recipient.startswith(address) for _name, recipient in getaddresses([message["To"]]))
        ]

    @staticmethod
    def text(message: Message) -> str:
        return message.get_payload(decode=True).decode()


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802 (aiosmtpd)
        self.sink.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpSink]:
    from aiosmtpd.controller import Controller

    sink = SmtpSink(port=free_port())
    controller = Controller(_Handler(sink), hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
def smtp(smtp_server: SmtpSink, settings) -> SmtpSink:
    """Django's SMTP backend pointed at the sink, emptied."""
    smtp_server.messages.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    return smtp_server

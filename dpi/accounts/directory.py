"""Client of the hospital's directory (LDAP v3, OpenLDAP or Active Directory) over ldap3: reads the people
and the groups, read-only, with timeouts. It returns plain data; :mod:`dpi.accounts.sync` decides."""

from __future__ import annotations

import ssl
import uuid
from dataclasses import dataclass, field

import ldap3
from django.conf import settings
from ldap3.core.exceptions import LDAPCommunicationError, LDAPException

from dpi.integrations import TransportError

PAGE_SIZE = 500


class DirectoryError(TransportError):
    """The directory could not be read: nothing is changed. Transient when it could not be reached or dropped
    the connection (the next scheduled run may succeed); permanent when it answered no (bind refused, bad
    base or filter, not configured): an administrator must act."""


@dataclass(frozen=True)
class DirectoryConfig:
    url: str
    bind_dn: str
    bind_password: str
    user_base: str
    user_filter: str
    group_base: str
    group_filter: str
    attr_username: str
    attr_rpps: str
    attr_id: str
    timeout: int
    start_tls: bool = False
    ca_file: str = ""

    @classmethod
    def from_settings(cls) -> DirectoryConfig:
        return cls(
            url=settings.DIRECTORY_LDAP_URL,
            bind_dn=settings.DIRECTORY_BIND_DN,
            bind_password=settings.DIRECTORY_BIND_PASSWORD,
            user_base=settings.DIRECTORY_USER_BASE,
            user_filter=settings.DIRECTORY_USER_FILTER,
            group_base=settings.DIRECTORY_GROUP_BASE,
            group_filter=settings.DIRECTORY_GROUP_FILTER,
            attr_username=settings.DIRECTORY_ATTR_USERNAME,
            attr_rpps=settings.DIRECTORY_ATTR_RPPS,
            attr_id=settings.DIRECTORY_ATTR_ID,
            timeout=settings.DIRECTORY_TIMEOUT_SECONDS,
            start_tls=settings.DIRECTORY_START_TLS,
            ca_file=settings.DIRECTORY_CA_FILE,
        )


@dataclass(frozen=True)
class Person:
    """One person entry as the directory gave it: every attribute may be missing or odd."""

    dn: str
    directory_id: str
    username: str
    first_name: str
    last_name: str
    email: str
    rpps: str
    groups: frozenset[str] = field(default_factory=frozenset)  # DNs, lower case


def _first(attributes: dict[str, list[bytes]], name: str) -> str:
    values = attributes.get(name) or []
    return values[0].decode("utf-8", errors="replace").strip() if values else ""


def _directory_id(attributes: dict[str, list[bytes]], name: str) -> str:
    """The immutable id: entryUUID is text, Active Directory's objectGUID 16 bytes (little-endian UUID)."""
    values = attributes.get(name) or []
    if not values:
        return ""
    raw = values[0]
    if len(raw) == 16 and name.lower() == "objectguid":
        return str(uuid.UUID(bytes_le=raw))
    return raw.decode("utf-8", errors="replace").strip().lower()


def _paged(connection: ldap3.Connection, base: str, search_filter: str, attributes: list[str]) -> list[dict]:
    return [
        entry
        for entry in connection.extend.standard.paged_search(
            base, search_filter, ldap3.SUBTREE, attributes=attributes, paged_size=PAGE_SIZE, generator=True
        )
        if entry.get("type") == "searchResEntry"
    ]


def read_people(config: DirectoryConfig) -> list[Person]:
    """Every person under the user base with the groups (under the group base) they are a member of."""
    if not config.url:
        raise DirectoryError("DIRECTORY_LDAP_URL n'est pas configuré.", permanent=True)
    # ldap3 checks no certificate unless told to: always verify the directory's (ldaps:// and StartTLS).
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=config.ca_file or None)
    server = ldap3.Server(config.url, connect_timeout=config.timeout, get_info=ldap3.NONE, tls=tls)
    attributes = [config.attr_id, config.attr_username, "givenName", "sn", "mail", config.attr_rpps]
    try:
        with ldap3.Connection(
            server,
            user=config.bind_dn or None,
            password=config.bind_password or None,
            read_only=True,
            receive_timeout=config.timeout,
            raise_exceptions=True,
            auto_bind=ldap3.AUTO_BIND_TLS_BEFORE_BIND if config.start_tls else ldap3.AUTO_BIND_NO_TLS,
        ) as connection:
            people = _paged(connection, config.user_base, config.user_filter, attributes)
            groups = _paged(connection, config.group_base, config.group_filter, ["member"]) if config.group_base else []
    except LDAPException as error:
        transient = isinstance(error, LDAPCommunicationError)  # socket open/read/write, session dropped
        raise DirectoryError(f"{error.__class__.__name__}: {error}", permanent=not transient) from error
    membership: dict[str, set[str]] = {}
    for group in groups:
        for member in group["raw_attributes"].get("member") or []:
            membership.setdefault(member.decode("utf-8", errors="replace").lower(), set()).add(group["dn"].lower())
    return [_person(entry, config, membership) for entry in people]


def _person(entry: dict, config: DirectoryConfig, membership: dict[str, set[str]]) -> Person:
    raw = {name.lower(): values for name, values in entry["raw_attributes"].items()}
    return Person(
        dn=entry["dn"],
        directory_id=_directory_id(raw, config.attr_id.lower()),
        username=_first(raw, config.attr_username.lower()),
        first_name=_first(raw, "givenname"),
        last_name=_first(raw, "sn"),
        email=_first(raw, "mail"),
        rpps=_first(raw, config.attr_rpps.lower()),
        groups=frozenset(membership.get(entry["dn"].lower(), set())),
    )

"""Client of the Annuaire Santé FHIR API v2 (ANN/va1.05, SC.MSS/UX.10): professionals, their practice
situations and their MSSanté mailboxes by type.

One ``httpx`` client per search with a deadline shared by all its calls (the page that asked never waits
longer); calls are spaced to stay under the gateway's rate limit in this process, and a 429 is retried
after its ``Retry-After`` while the deadline allows. Errors are :class:`AnnuaireError`: ``permanent``
(refused key, refused search) or not (timeout, server error, connection refused).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings

from dpi.integrations import TransportError

MAILBOX_EXTENSION = "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata"
RPPS_SYSTEM = "https://rpps.esante.gouv.fr"
IDNPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
IDNST_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
MAILBOX_KINDS = {"PER": "personnelle", "ORG": "organisationnelle", "APP": "applicative", "CAB": "de cabinet"}
PAGE_SIZE = 50
MAX_PAGES = 4
MAX_RETRIES = 3
Resource = dict[str, Any]


class AnnuaireError(TransportError):
    """The Annuaire Santé did not answer the search: ``permanent`` (a refused key, an unreadable answer) or
    not (timeout, overload, too many searches at once), as for every external service (dpi.integrations)."""


@dataclass(frozen=True)
class Mailbox:
    address: str
    kind: str  # PER, ORG, APP, CAB
    description: str = ""

    @property
    def kind_label(self) -> str:
        return MAILBOX_KINDS.get(self.kind, self.kind)


@dataclass(frozen=True)
class Situation:
    organization: str
    organization_id: str  # 1 + FINESS or 3 + SIRET (IdNat of the structure)
    address: str
    postal_code: str
    city: str
    role: str
    mailboxes: tuple[Mailbox, ...]  # the person's box in this structure, then the structure's boxes


@dataclass(frozen=True)
class Professional:
    rpps: str
    title: str
    family_name: str
    given_name: str
    profession: str
    specialty: str
    mailboxes: tuple[Mailbox, ...]  # personal boxes tied to the RPPS only
    situations: tuple[Situation, ...]

    def all_mailboxes(self) -> Iterator[tuple[Mailbox, Situation | None]]:
        yield from ((box, None) for box in self.mailboxes)
        for situation in self.situations:
            yield from ((box, situation) for box in situation.mailboxes)


@dataclass(frozen=True)
class Criteria:
    family_name: str = ""
    given_name: str = ""
    rpps: str = ""
    qualification: str = ""  # a TRE_G15 profession or TRE_R38 specialty code
    place: str = ""  # a city or a postal code
    organization: str = ""

    @property
    def about_person(self) -> bool:
        return bool(self.family_name or self.given_name or self.rpps or self.qualification)

    @property
    def empty(self) -> bool:
        return not (self.about_person or self.place or self.organization)


class Throttle:
    """At most ``rate`` - 1 calls of this process in any second, as the gateway counts them: a burst of a
    few calls goes at once, the one past the limit waits for the oldest of the window to be a second old.
    One call of slack, and a margin, because the gateway counts arrivals and we count departures."""

    MARGIN_SECONDS = 0.05

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.recent: deque[float] = deque()

    def wait(self, rate: float, deadline: float) -> None:
        limit = max(int(rate) - 1, 1)
        with self.lock:
            now = time.monotonic()
            while self.recent and self.recent[0] <= now - 1 - self.MARGIN_SECONDS:
                self.recent.popleft()
            start = self.recent[-limit] + 1 + self.MARGIN_SECONDS if len(self.recent) >= limit else now
            if start > deadline:
                raise AnnuaireError("Annuaire Santé : trop de recherches en cours, réessayez.", permanent=False)
            self.recent.append(start)
        time.sleep(max(start - now, 0))


THROTTLE = Throttle()


@dataclass(frozen=True)
class AnnuaireClientConfig:
    base_url: str
    api_key: str
    timeout: float  # one search, every page and retry included
    rate: float  # calls per second the gateway allows

    @classmethod
    def from_settings(cls) -> AnnuaireClientConfig:
        return cls(
            settings.ANNUAIRE_FHIR_URL,
            settings.ANNUAIRE_API_KEY,
            float(settings.ANNUAIRE_TIMEOUT_SECONDS),
            float(settings.ANNUAIRE_RATE_PER_SECOND),
        )


@dataclass
class AnnuaireClient:
    config: AnnuaireClientConfig = field(default_factory=AnnuaireClientConfig.from_settings)
    calls: int = 0
    retries: int = 0

    def search(self, criteria: Criteria, *, limit: int | None = None) -> list[Professional]:
        """Professionals matching every criterion, with their situations and mailboxes."""
        limit = limit or settings.ANNUAIRE_MAX_RESULTS
        with self._session() as session:
            if criteria.about_person:
                return self._by_person(session, criteria, limit)
            return self._by_structure(session, criteria, limit)

    def professional(self, rpps: str) -> Professional | None:
        """The professional with this RPPS, or None."""
        found = self.search(Criteria(rpps=rpps), limit=1)
        return found[0] if found else None

    # --- the two ways of searching --------------------------------------------------------------

    def _by_person(self, session: _Session, criteria: Criteria, limit: int) -> list[Professional]:
        params = {"_revinclude": "PractitionerRole:practitioner", "_count": str(PAGE_SIZE)}
        params |= {key: value for key, value in _person_params(criteria).items() if value}
        found: list[Professional] = []
        for page in session.pages("Practitioner", params):
            practitioners, roles, _ = _split(page)
            organizations = self._organizations(session, roles)
            for practitioner in practitioners:
                professional = _professional(practitioner, roles, organizations)
                if _in_place(professional, criteria):
                    found.append(professional)
            if len(found) >= limit:
                break
        return found[:limit]

    def _by_structure(self, session: _Session, criteria: Criteria, limit: int) -> list[Professional]:
        params = {"_revinclude": "PractitionerRole:organization", "_count": str(PAGE_SIZE)}
        place = criteria.place.strip()
        if place:
            params["address-postalcode" if place[:1].isdigit() else "address-city"] = place
        if criteria.organization:
            params["name:contains"] = criteria.organization
        found: list[Professional] = []
        for page in session.pages("Organization", params):
            _, roles, organizations = _split(page)
            ids = sorted({_ref_id(role["practitioner"]) for role in roles})
            if ids:
                practitioners, _, _ = _split(
                    session.get("Practitioner", {"_id": ",".join(ids), "_count": str(len(ids))})
                )
                found += [_professional(p, roles, organizations) for p in practitioners]
            if len(found) >= limit:
                break
        return found[:limit]

    def _organizations(self, session: _Session, roles: list[Resource]) -> dict[str, Resource]:
        ids = sorted({_ref_id(role["organization"]) for role in roles if "organization" in role})
        if not ids:
            return {}
        _, _, organizations = _split(session.get("Organization", {"_id": ",".join(ids), "_count": str(len(ids))}))
        return organizations

    def _session(self) -> _Session:
        return _Session(self)


class _Session:
    """The calls of one search, sharing a connection and a deadline."""

    def __init__(self, client: AnnuaireClient) -> None:
        self.client = client
        self.deadline = time.monotonic() + client.config.timeout
        self.http = httpx.Client(headers={"ESANTE-API-KEY": client.config.api_key, "Accept": "application/fhir+json"})

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def pages(self, resource_type: str, params: dict[str, str]) -> Iterator[Resource]:
        bundle = self.get(resource_type, params)
        for _number in range(MAX_PAGES):
            yield bundle
            following = next((link["url"] for link in bundle.get("link", []) if link["relation"] == "next"), None)
            if following is None:
                return
            bundle = self.get_url(following)

    def get(self, resource_type: str, params: dict[str, str]) -> Resource:
        return self.get_url(f"{self.client.config.base_url}/{resource_type}", params)

    def get_url(self, url: str, params: dict[str, str] | None = None) -> Resource:
        for _attempt in range(MAX_RETRIES + 1):
            THROTTLE.wait(self.client.config.rate, self.deadline)
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                break
            self.client.calls += 1
            try:
                response = self.http.get(url, params=params, timeout=remaining)
            except httpx.TimeoutException:
                raise AnnuaireError("L'Annuaire Santé n'a pas répondu à temps.", permanent=False) from None
            except httpx.HTTPError as error:
                raise AnnuaireError(f"Annuaire Santé injoignable ({type(error).__name__}).", permanent=False) from None
            if response.status_code != 429:
                return _body(response)
            self.client.retries += 1
            time.sleep(min(_retry_after(response), max(self.deadline - time.monotonic(), 0)))
        raise AnnuaireError(
            "L'Annuaire Santé limite le nombre de requêtes : réessayez dans un instant.", permanent=False
        )


def _body(response: httpx.Response) -> Resource:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 200 and body.get("resourceType") == "Bundle":
        return body
    diagnostics = "; ".join(issue.get("diagnostics", "") for issue in body.get("issue", []))
    if response.status_code in (401, 403):
        raise AnnuaireError("L'Annuaire Santé refuse la clé d'API du DPI (ANNUAIRE_API_KEY).", permanent=True)
    if 400 <= response.status_code < 500:
        raise AnnuaireError(
            f"Recherche refusée par l'Annuaire Santé : {diagnostics or response.status_code}", permanent=True
        )
    raise AnnuaireError(f"Erreur de l'Annuaire Santé (HTTP {response.status_code}).", permanent=False)


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("Retry-After", "1")
    return min(float(value), 10.0) if value.replace(".", "", 1).isdigit() else 1.0


def _person_params(criteria: Criteria) -> dict[str, str]:
    return {
        "family": criteria.family_name.strip(),
        "given": criteria.given_name.strip(),
        "identifier": criteria.rpps.strip(),
        "qualification-code": criteria.qualification.strip(),
    }


def _split(bundle: Resource) -> tuple[list[Resource], list[Resource], dict[str, Resource]]:
    """The bundle's practitioners, roles and organizations (by id)."""
    resources = [entry["resource"] for entry in bundle.get("entry", [])]
    practitioners = [r for r in resources if r.get("resourceType") == "Practitioner"]
    roles = [r for r in resources if r.get("resourceType") == "PractitionerRole"]
    organizations = {r["id"]: r for r in resources if r.get("resourceType") == "Organization"}
    return practitioners, roles, organizations


def _ref_id(reference: Resource) -> str:
    return reference.get("reference", "").rpartition("/")[2]


def _mailboxes(resource: Resource) -> tuple[Mailbox, ...]:
    """The MSSanté boxes of ``telecom`` (those with the mailbox extension; plain e-mails are left out)."""
    found = []
    for telecom in resource.get("telecom", []):
        metadata = next((e for e in telecom.get("extension", []) if e.get("url") == MAILBOX_EXTENSION), None)
        if metadata is None or not telecom.get("value"):
            continue
        parts = {part["url"]: part for part in metadata.get("extension", [])}
        kind = parts.get("type", {}).get("valueCodeableConcept", {}).get("coding", [{}])[0].get("code", "")
        found.append(Mailbox(telecom["value"], kind, parts.get("description", {}).get("valueString", "")))
    return tuple(found)


def _professional(practitioner: Resource, roles: list[Resource], organizations: dict[str, Resource]) -> Professional:
    reference = f"Practitioner/{practitioner['id']}"
    name = (practitioner.get("name") or [{}])[0]
    codes = [coding for q in practitioner.get("qualification", []) for coding in q.get("code", {}).get("coding", [])]
    situations = tuple(
        _situation(role, organizations.get(_ref_id(role.get("organization", {}))))
        for role in roles
        if role.get("practitioner", {}).get("reference") == reference
    )
    return Professional(
        rpps=_identifier(practitioner, RPPS_SYSTEM) or _identifier(practitioner, IDNPS_SYSTEM)[1:],
        title=(name.get("prefix") or [""])[0],
        family_name=name.get("family", ""),
        given_name=" ".join(name.get("given", [])),
        profession=next((c.get("display", c["code"]) for c in codes if "TRE_G15" in c.get("system", "")), ""),
        specialty=next((c.get("display", c["code"]) for c in codes if "TRE_R38" in c.get("system", "")), ""),
        mailboxes=_mailboxes(practitioner),
        situations=situations,
    )


def _situation(role: Resource, organization: Resource | None) -> Situation:
    organization = organization or {}
    address = (organization.get("address") or [{}])[0]
    role_code = (role.get("code") or [{}])[0].get("coding", [{}])[0]
    return Situation(
        organization=organization.get("name", ""),
        organization_id=_identifier(organization, IDNST_SYSTEM),
        address=" ".join(address.get("line", [])),
        postal_code=address.get("postalCode", ""),
        city=address.get("city", ""),
        role=role_code.get("display", ""),
        mailboxes=_mailboxes(role) + _mailboxes(organization),
    )


def _identifier(resource: Resource, system: str) -> str:
    return next((i["value"] for i in resource.get("identifier", []) if i.get("system") == system), "")


def _in_place(professional: Professional, criteria: Criteria) -> bool:
    """Whether one situation is in the wanted city or postal code and structure (when asked)."""
    if not (criteria.place or criteria.organization):
        return True
    place, structure = criteria.place.strip().casefold(), criteria.organization.strip().casefold()
    return any(
        (not place or situation.postal_code.startswith(place) or situation.city.casefold().startswith(place))
        and (not structure or structure in situation.organization.casefold())
        for situation in professional.situations
    )

"""TD0.2 (does the patient have a DMP, may this professional open it) and TD0.3 (set or remove the
professional's authorisation), on ``DMP_PATIENTS_URL``.

The element names and namespace are **[assumed]** (docs/dmp-protocol.md §5): the DMP integration
guide that defines them is not public. They live in this module only, so that the guide's names
replace them in one place. The DMP's identity traits (``dmp:patient``) are never read (RG_0320).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar

from lxml import etree

from dmp.clients import soap
from dmp.clients.config import DmpClientConfig, resolve
from dmp.clients.errors import unreadable
from dmp.clients.namespaces import nsmap, tag
from dmp.clients.types import Actor, Authorisation, DmpExistence, DmpStatus, PatientRef

TEST_EXISTENCE = soap.Operation("urn:dpi-segur:dmp:TD0.2", tag("dmp", "TestExistenceResponse"))
SET_AUTHORISATION = soap.Operation("urn:dpi-segur:dmp:TD0.3", tag("dmp", "AuthorizationResponse"))
GRANT, REVOKE = "AJOUT", "SUPPRESSION"
AnswerEnum = TypeVar("AnswerEnum", DmpStatus, Authorisation)


def test_existence(actor: Actor, patient: PatientRef, *, config: DmpClientConfig | None = None) -> DmpExistence:
    """TD0.2: the DMP's status and ``actor``'s authorisation on it (no DMP is an answer, not an error)."""
    config = resolve(config)
    request = _request("TestExistenceRequest", patient)
    answer = soap.call(
        config, url=config.patients_url, operation=TEST_EXISTENCE, payload=request, actor=actor, patient=patient
    )
    body = answer.body
    return DmpExistence(
        status=_enum(DmpStatus, _text(body, "statutDMP")),
        authorisation=_enum(Authorisation, _text(body, "autorisation")),
        authorisation_until=_datetime(_text(body, "dateFinAutorisation")),
        refusal_reason=_text(body, "raison"),
        attending_physician=_boolean(_text(body, "medecinTraitantDMP")),
        linked_to_mes=_boolean(_text(body, "rattacheMonEspaceSante")),
        closed_at=_datetime(_text(body, "fermeture", "date")),
        closure_reason=_text(body, "fermeture", "motif"),
    )


def set_authorisation(
    actor: Actor, patient: PatientRef, *, grant: bool = True, config: DmpClientConfig | None = None
) -> DmpExistence:
    """TD0.3: give (``grant``) or remove ``actor``'s authorisation; returns the new authorisation.

    TD0.3 only succeeds on an open DMP (a missing or closed one is a fault), hence ``status=OPEN``;
    the other TD0.2 facts are not in this answer and keep their defaults.
    """
    config = resolve(config)
    request = _request("AuthorizationRequest", patient)
    etree.SubElement(request, tag("dmp", "action")).text = GRANT if grant else REVOKE
    answer = soap.call(
        config, url=config.patients_url, operation=SET_AUTHORISATION, payload=request, actor=actor, patient=patient
    )
    return DmpExistence(
        status=DmpStatus.OPEN,
        authorisation=_enum(Authorisation, _text(answer.body, "autorisation")),
        authorisation_until=_datetime(_text(answer.body, "dateFinAutorisation")),
    )


def _request(name: str, patient: PatientRef) -> etree._Element:
    request = etree.Element(tag("dmp", name), nsmap=nsmap("dmp"))
    ins = etree.SubElement(request, tag("dmp", "matriculeINS"))
    etree.SubElement(ins, tag("dmp", "valeur")).text = patient.ins
    etree.SubElement(ins, tag("dmp", "identifiantSysteme")).text = patient.oid
    return request


def _text(element: etree._Element, *path: str) -> str:
    return (element.findtext("/".join(tag("dmp", name) for name in path)) or "").strip()


def _enum(kind: type[AnswerEnum], value: str) -> AnswerEnum:
    try:
        return kind(value)
    except ValueError as exc:
        raise unreadable(f"{kind.__name__} {value!r} unknown") from exc


def _boolean(value: str) -> bool:
    if value not in ("", "true", "false", "1", "0"):
        raise unreadable(f"boolean {value!r}")
    return value in ("true", "1")


def _datetime(value: str) -> datetime | None:
    """An xs:dateTime; one without a zone is read as UTC."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise unreadable(f"date {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

"""TD0.2 (existence and authorisation) and TD0.3 (set the authorisation), ``docs/dmp-protocol.md`` §5.

The element names (namespace ``urn:dpi-segur:dmp:patients:1``) are **assumed**: the DMP integration
guide that defines them is not public. They live here only, so the guide's names replace them in one place.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

from django.db import transaction
from lxml import etree

from sandbox.dmp.constants import NS, qname
from sandbox.dmp.identifiers import Ins
from sandbox.dmp.soap import malformed
from sandbox.dmp.transactions import Answer, Exchange, Rules, Transaction, authorised
from sandbox.models import DmpAuthorisation, PatientDmp

AUTHORISATION_MONTHS = 6


def patient_of(body: etree._Element) -> Ins:
    """The ``dmp:matriculeINS`` of a TD0.2/TD0.3 request."""
    value = body.findtext("dmp:matriculeINS/dmp:valeur", namespaces=NS)
    oid = body.findtext("dmp:matriculeINS/dmp:identifiantSysteme", namespaces=NS)
    if not value or not oid:
        raise malformed("dmp:matriculeINS (valeur, identifiantSysteme) absent de la requête.")
    return Ins(value.strip(), oid.strip())


def _expect(body: etree._Element, local: str) -> None:
    if body.tag != qname("dmp", local):
        raise malformed(f"Élément dmp:{local} attendu dans le corps SOAP.")


def _element(parent: etree._Element, local: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, qname("dmp", local))
    if text is not None:
        element.text = text
    return element


def xsd_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def answer_existence(exchange: Exchange) -> Answer:
    """TD0.2: the DMP's status, the caller's authorisation, and the DMP's identity traits."""
    _expect(exchange.request.body, "TestExistenceRequest")
    response = etree.Element(qname("dmp", "TestExistenceResponse"), nsmap={"dmp": NS["dmp"]})
    dmp = exchange.dmp
    if dmp is None:
        _element(response, "statutDMP", "INEXISTANT")
        _element(response, "autorisation", "NON_EXISTE")
        return Answer(response)
    _element(response, "statutDMP", "ACTIF" if dmp.is_open else "FERME")
    _element(response, "rattacheMonEspaceSante", _boolean(dmp.linked_to_mes))
    _add_authorisation(response, dmp, exchange)
    _element(response, "medecinTraitantDMP", _boolean(dmp.attending_physician_id == exchange.caller.national_id))
    if not dmp.is_open:
        closure = _element(response, "fermeture")
        _element(closure, "date", xsd_datetime(dmp.closed_at))
        _element(closure, "motif", dmp.closure_reason)
    _add_patient(response, dmp)
    return Answer(response)


def _add_authorisation(response: etree._Element, dmp: PatientDmp, exchange: Exchange) -> None:
    national_id = exchange.caller.national_id
    if national_id in dmp.blocked_professionals:
        _element(response, "autorisation", "INTERDIT")
        _element(response, "raison", "Accès bloqué par le patient")
        return
    grant = dmp.authorisations.filter(national_id=national_id).first()
    if grant is None:
        _element(response, "autorisation", "NON_EXISTE")
    elif authorised(dmp, national_id, exchange.now):
        _element(response, "autorisation", "VALIDE")
        _element(response, "dateFinAutorisation", xsd_datetime(grant.until))
    else:
        _element(response, "autorisation", "EXPIRE")


def _add_patient(response: etree._Element, dmp: PatientDmp) -> None:
    """The DMP's identity traits (the DPI never stores nor shows them, RG_0320)."""
    patient = _element(response, "patient")
    _element(patient, "nomNaissance", dmp.birth_name)
    _element(patient, "prenoms", dmp.first_names)
    _element(patient, "dateNaissance", dmp.birth_date.isoformat())
    _element(patient, "sexe", dmp.sex)
    _element(patient, "lieuNaissance", dmp.birth_place_insee)


def _boolean(value: bool) -> str:
    return "true" if value else "false"


def answer_authorisation(exchange: Exchange) -> Answer:
    """TD0.3: AJOUT gives the caller an authorisation for 6 months; SUPPRESSION removes it."""
    body = exchange.request.body
    _expect(body, "AuthorizationRequest")
    action = (body.findtext("dmp:action", namespaces=NS) or "").strip()
    if action not in ("AJOUT", "SUPPRESSION"):
        raise malformed(f"dmp:action « {action} » : AJOUT ou SUPPRESSION attendu.")
    response = etree.Element(qname("dmp", "AuthorizationResponse"), nsmap={"dmp": NS["dmp"]})
    national_id = exchange.caller.national_id
    with transaction.atomic():
        if action == "SUPPRESSION":
            DmpAuthorisation.objects.filter(dmp=exchange.dmp, national_id=national_id).delete()
            _element(response, "autorisation", "NON_EXISTE")
            return Answer(response)
        until = add_months(exchange.now, AUTHORISATION_MONTHS)
        DmpAuthorisation.objects.update_or_create(
            dmp=exchange.dmp, national_id=national_id, defaults={"until": until, "created_at": exchange.now}
        )
    _element(response, "autorisation", "VALIDE")
    _element(response, "dateFinAutorisation", xsd_datetime(until))
    return Answer(response)


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later (the month's last day when it has no such day)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


TRANSACTIONS = {
    "TD0.2": Transaction("TD0.2", Rules.NONE, patient_of, answer_existence),
    "TD0.3": Transaction("TD0.3", Rules.DMP, patient_of, answer_authorisation),
}

"""One SOAP request through the sandbox DMP, transport aside: the checks of ``docs/dmp-protocol.md`` §3 in
their order, the DMP rules, the transaction, and the call record written whatever the outcome.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cryptography import x509
from django.utils import timezone

from sandbox.dmp import patients, registry, repository, update
from sandbox.dmp.constants import ACTIONS, MAX_REQUEST_BYTES
from sandbox.dmp.soap import DmpFault, SoapRequest, SoapResponse, envelope, fault_response, read_request
from sandbox.dmp.transactions import Exchange, Transaction, dmp_for
from sandbox.dmp.vihf import Trust, describe, find_assertion, verify_assertion
from sandbox.models import DmpBehaviour, DmpCall

logger = logging.getLogger(__name__)

TRANSACTIONS: dict[str, Transaction] = {
    **patients.TRANSACTIONS,
    **registry.TRANSACTIONS,
    **repository.TRANSACTIONS,
    **update.TRANSACTIONS,
}
MTOM_TRANSACTIONS = ("ITI-43",)
RAW_REQUEST_CHARS = 1_000_000  # what the call record keeps of a request


@dataclass(frozen=True)
class Inbound:
    """A request as the HTTPS listener received it."""

    endpoint: str
    content_type: str
    body: bytes
    client_certificate: x509.Certificate | None
    too_large: bool = False


def process(inbound: Inbound, *, trust: Trust, mode: str) -> SoapResponse:
    """The answer to one request (a response or a fault), the call being recorded in :class:`DmpCall`."""
    call = DmpCall(
        endpoint=inbound.endpoint,
        client_certificate=inbound.client_certificate.subject.rfc4514_string()[:255]
        if inbound.client_certificate
        else "",
        raw_request=inbound.body[:RAW_REQUEST_CHARS].decode("utf-8", errors="replace").replace("\x00", ""),
    )
    relates_to = ""
    try:
        if inbound.too_large:
            raise DmpFault("dmp:RequestTooLarge", f"Requête de plus de {MAX_REQUEST_BYTES} octets refusée.")
        if mode == DmpBehaviour.Mode.FAULT:
            raise DmpFault("dmp:ServiceUnavailable", "Service DMP momentanément indisponible.", receiver=True)
        request = read_request(inbound.content_type, inbound.body)
        relates_to = request.message_id
        response = _answer(request, inbound, trust, call)
    except DmpFault as fault:
        call.outcome, call.outcome_text = fault.subcode, fault.text
        response = fault_response(fault, relates_to=relates_to)
    except Exception:  # the simulator answers every request; an internal error is a transient fault
        logger.exception("Sandbox DMP: failure on a request to %s", inbound.endpoint)
        fault = DmpFault("dmp:ServiceUnavailable", "Erreur interne du DMP simulé.", receiver=True)
        call.outcome, call.outcome_text = fault.subcode, fault.text
        response = fault_response(fault, relates_to=relates_to)
    call.save()
    return response


def _answer(request: SoapRequest, inbound: Inbound, trust: Trust, call: DmpCall) -> SoapResponse:
    call.action = request.action[:128]
    known = ACTIONS.get(inbound.endpoint, {})
    if request.action not in known:
        raise DmpFault("wsa:ActionNotSupported", f"Action {request.action} non prise en charge par ce service.")
    name, response_action = known[request.action]
    call.transaction = name
    assertion = find_assertion(request.envelope)
    for field, value in describe(assertion).items():
        setattr(call, field, value)
    caller = verify_assertion(assertion, trust=trust, tls_certificate=inbound.client_certificate)
    transaction = TRANSACTIONS[name]
    requested = transaction.patient_of(request.body)
    if requested is not None and requested != caller.patient:
        raise DmpFault(
            "dmp:PatientMismatch",
            f"Le patient de la requête ({requested.value}) n'est pas celui du VIHF ({caller.patient.value}).",
        )
    now = timezone.now()
    dmp = dmp_for(caller, transaction.rules, now)
    answer = transaction.handle(Exchange(request=request, caller=caller, dmp=dmp, now=now))
    call.query_id, call.query_parameters = answer.query_id, answer.parameters
    call.unique_ids, call.outcome, call.outcome_text = answer.unique_ids, answer.outcome, answer.outcome_text
    data = envelope(action=response_action, relates_to=request.message_id, body=answer.body)
    return SoapResponse(envelope=data, attachments=answer.attachments, mtom=name in MTOM_TRANSACTIONS)

"""TD0.2 and TD0.3 with the [assumed] element names of docs/dmp-protocol.md §5.

(``patients.test_existence`` is called through its module: imported bare, pytest would collect it.)
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dmp.clients import patients
from dmp.clients.errors import DmpProtocolError, DmpRefused
from dmp.clients.namespaces import tag
from dmp.clients.types import Authorisation, DmpExistence, DmpStatus
from tests.dmp.clients.fakes import Answer, soap

DMP = 'xmlns:dmp="urn:dpi-segur:dmp:patients:1"'
IDENTITY = "<dmp:patient><dmp:nomNaissance>PAT-TROIS</dmp:nomNaissance></dmp:patient>"


def existence(content: str) -> Answer:
    return Answer(
        body=soap(
            "urn:dpi-segur:dmp:TD0.2Response", f"<dmp:TestExistenceResponse {DMP}>{content}</dmp:TestExistenceResponse>"
        )
    )


def authorisation(content: str) -> Answer:
    return Answer(
        body=soap(
            "urn:dpi-segur:dmp:TD0.3Response", f"<dmp:AuthorizationResponse {DMP}>{content}</dmp:AuthorizationResponse>"
        )
    )


def sent(fake_dmp):
    (request,) = fake_dmp.received
    return request.envelope.find(tag("env", "Body"))[0]


def test_open_dmp_with_a_valid_authorisation(fake_dmp, config, actor, patient):
    fake_dmp.answer(
        existence(
            "<dmp:statutDMP>ACTIF</dmp:statutDMP><dmp:rattacheMonEspaceSante>true</dmp:rattacheMonEspaceSante>"
            "<dmp:autorisation>VALIDE</dmp:autorisation>"
            "<dmp:dateFinAutorisation>2027-06-01T10:00:00Z</dmp:dateFinAutorisation>"
            f"<dmp:medecinTraitantDMP>true</dmp:medecinTraitantDMP>{IDENTITY}"
        )
    )

    result = patients.test_existence(actor, patient, config=config)

    assert result == DmpExistence(
        status=DmpStatus.OPEN,
        authorisation=Authorisation.VALID,
        authorisation_until=datetime(2027, 6, 1, 10, tzinfo=UTC),
        attending_physician=True,
        linked_to_mes=True,
    )
    request = sent(fake_dmp)
    assert request.tag == tag("dmp", "TestExistenceRequest")
    ins = request.find(tag("dmp", "matriculeINS"))
    assert (ins.findtext(tag("dmp", "valeur")), ins.findtext(tag("dmp", "identifiantSysteme"))) == (
        "279035121518989",
        "1.2.250.1.213.1.4.10",
    )
    assert fake_dmp.received[0].envelope.findtext(f".//{tag('wsa', 'Action')}") == "urn:dpi-segur:dmp:TD0.2"
    assert fake_dmp.received[0].envelope.findtext(f".//{tag('wsa', 'To')}") == config.patients_url


def test_no_dmp_is_an_answer(fake_dmp, config, actor, patient):
    fake_dmp.answer(
        existence("<dmp:statutDMP>INEXISTANT</dmp:statutDMP><dmp:autorisation>NON_EXISTE</dmp:autorisation>")
    )

    result = patients.test_existence(actor, patient, config=config)

    assert (result.status, result.authorisation) == (DmpStatus.NONE, Authorisation.NONE)


def test_blocked_professional_is_forbidden_with_the_reason(fake_dmp, config, actor, patient):
    fake_dmp.answer(
        existence(
            "<dmp:statutDMP>ACTIF</dmp:statutDMP><dmp:autorisation>INTERDIT</dmp:autorisation>"
            "<dmp:raison>Accès bloqué par le patient</dmp:raison>"
        )
    )

    result = patients.test_existence(actor, patient, config=config)

    assert (result.authorisation, result.refusal_reason) == (Authorisation.FORBIDDEN, "Accès bloqué par le patient")


def test_closed_dmp_with_its_closure(fake_dmp, config, actor, patient):
    fake_dmp.answer(
        existence(
            "<dmp:statutDMP>FERME</dmp:statutDMP><dmp:autorisation>EXPIRE</dmp:autorisation>"
            "<dmp:fermeture><dmp:date>2026-10-01T00:00:00</dmp:date>"
            "<dmp:motif>Demande du patient</dmp:motif></dmp:fermeture>"
        )
    )

    result = patients.test_existence(actor, patient, config=config)

    assert result.status == DmpStatus.CLOSED
    assert result.authorisation == Authorisation.EXPIRED
    assert result.closed_at == datetime(2026, 10, 1, tzinfo=UTC)
    assert result.closure_reason == "Demande du patient"


@pytest.mark.parametrize(
    "content",
    [
        "<dmp:statutDMP>OUVERT</dmp:statutDMP><dmp:autorisation>VALIDE</dmp:autorisation>",
        "<dmp:statutDMP>ACTIF</dmp:statutDMP>",
        "<dmp:statutDMP>ACTIF</dmp:statutDMP><dmp:autorisation>VALIDE</dmp:autorisation>"
        "<dmp:dateFinAutorisation>demain</dmp:dateFinAutorisation>",
        "<dmp:statutDMP>ACTIF</dmp:statutDMP><dmp:autorisation>VALIDE</dmp:autorisation>"
        "<dmp:medecinTraitantDMP>oui</dmp:medecinTraitantDMP>",
    ],
)
def test_unknown_values_are_unreadable(fake_dmp, config, actor, patient, content):
    fake_dmp.answer(existence(content))

    with pytest.raises(DmpProtocolError):
        patients.test_existence(actor, patient, config=config)


@pytest.mark.parametrize(("grant", "action"), [(True, "AJOUT"), (False, "SUPPRESSION")])
def test_set_authorisation(fake_dmp, config, actor, patient, grant, action):
    fake_dmp.answer(
        authorisation(
            "<dmp:autorisation>VALIDE</dmp:autorisation>"
            "<dmp:dateFinAutorisation>2027-06-01T10:00:00+02:00</dmp:dateFinAutorisation>"
            if grant
            else "<dmp:autorisation>NON_EXISTE</dmp:autorisation>"
        )
    )

    result = patients.set_authorisation(actor, patient, grant=grant, config=config)

    assert result.status == DmpStatus.OPEN
    assert result.authorisation == (Authorisation.VALID if grant else Authorisation.NONE)
    assert result.authorisation_until == (datetime(2027, 6, 1, 8, tzinfo=UTC) if grant else None)
    request = sent(fake_dmp)
    assert request.tag == tag("dmp", "AuthorizationRequest")
    assert request.findtext(tag("dmp", "action")) == action
    assert request.findtext(f"{tag('dmp', 'matriculeINS')}/{tag('dmp', 'valeur')}") == "279035121518989"


def test_set_authorisation_for_a_blocked_professional_is_refused(fake_dmp, config, actor, patient):
    fault = (
        f"<env:Fault {DMP}><env:Code><env:Value>env:Sender</env:Value><env:Subcode>"
        "<env:Value>dmp:ProfessionalBlocked</env:Value></env:Subcode></env:Code>"
        '<env:Reason><env:Text xml:lang="fr">Professionnel bloqué</env:Text></env:Reason></env:Fault>'
    )
    fake_dmp.answer(Answer(status=400, body=soap("http://www.w3.org/2005/08/addressing/soap/fault", fault)))

    with pytest.raises(DmpRefused) as raised:
        patients.set_authorisation(actor, patient, config=config)

    assert raised.value.code == "dmp:ProfessionalBlocked"

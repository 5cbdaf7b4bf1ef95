"""The Annuaire Santé FHIR API (ANN/va1.05, SC.MSS/UX.10): the sandbox server is as strict as the gateway
(key, rate limit, parameters, OperationOutcome), and the DPI's client, over real HTTP, finds professionals
by each criterion with their MSSanté mailboxes by type, follows pages and rides out a 429."""

from __future__ import annotations

import time
from collections import deque

import httpx
import pytest

from directory.clients.annuaire import AnnuaireClient, AnnuaireClientConfig, AnnuaireError, Criteria
from sandbox.annuaire.people import person
from sandbox.annuaire.server import AnnuaireServer
from tests.directory.data import KEY, PEOPLE

SOMEONE = person(7)


@pytest.fixture
def client(sandbox):
    return AnnuaireClient(AnnuaireClientConfig(sandbox.base_url, KEY, 5, 1000))


def get(server: AnnuaireServer, path: str, key: str = KEY, **params: str) -> httpx.Response:
    return httpx.get(f"{server.base_url}/{path}", params=params, headers={"ESANTE-API-KEY": key} if key else {})


def test_a_call_without_the_api_key_is_refused_with_401(sandbox):
    response = get(sandbox, "Practitioner", key="")

    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"


def test_an_unknown_parameter_or_modifier_is_refused_with_an_operation_outcome(sandbox):
    unknown = get(sandbox, "Practitioner", **{"address-city": "LYON"})
    modifier = get(sandbox, "Practitioner", **{"identifier:contains": "1"})

    assert (unknown.status_code, modifier.status_code) == (400, 400)
    assert "address-city" in unknown.json()["issue"][0]["diagnostics"]


def test_name_parameters_match_the_start_anywhere_with_contains_and_as_is_with_exact(sandbox):
    someone = person(3)
    start = get(sandbox, "Practitioner", family=someone.family_name[:3].lower()).json()
    contains = get(sandbox, "Practitioner", **{"family:contains": someone.family_name[2:5]}).json()
    exact = get(sandbox, "Practitioner", **{"family:exact": someone.family_name.lower()}).json()

    assert f"pra-{someone.rpps}" in {e["resource"]["id"] for e in start["entry"]} | _all_ids(sandbox, start)
    assert contains["total"] >= 1 and exact["total"] == 0


def test_paging_follows_link_next_to_every_match(sandbox):
    first = get(sandbox, "Practitioner", _count="40").json()

    assert first["total"] == PEOPLE
    assert len(_all_ids(sandbox, first)) == PEOPLE


def test_revinclude_and_include_bring_the_roles_and_their_organizations(sandbox):
    someone = person(0)
    practitioner = get(sandbox, "Practitioner", identifier=someone.rpps, _revinclude="PractitionerRole:practitioner")
    roles = get(
        sandbox, "PractitionerRole", practitioner=f"pra-{someone.rpps}", _include="PractitionerRole:organization"
    )

    kinds = [entry["resource"]["resourceType"] for entry in practitioner.json()["entry"]]
    assert kinds == ["Practitioner"] + ["PractitionerRole"] * len(someone.activities)
    assert {e["search"]["mode"] for e in roles.json()["entry"] if e["resource"]["resourceType"] == "Organization"} == {
        "include"
    }


def test_the_client_finds_a_professional_by_rpps_with_mailboxes_by_type(client):
    someone = person(0)

    found = client.professional(someone.rpps)

    assert (found.family_name, found.given_name, found.rpps) == (someone.family_name, someone.given_name, someone.rpps)
    kinds = {box.kind for box, _situation in found.all_mailboxes()}
    assert {"PER", "ORG"} <= kinds
    assert all(box.address.endswith(".mssante.fr") for box, _situation in found.all_mailboxes())
    assert found.situations[0].city == someone.activities[0].structure.town[2]


@pytest.mark.parametrize(
    "criteria, check",
    [
        (Criteria(family_name="MOR"), lambda p: p.family_name.startswith("MOR")),
        (
            Criteria(family_name=SOMEONE.family_name, given_name=SOMEONE.given_name),
            lambda p: (p.family_name, p.given_name) == (SOMEONE.family_name, SOMEONE.given_name),
        ),
        (Criteria(qualification="SM04"), lambda p: p.specialty == "Cardiologie et maladies vasculaires"),
        (Criteria(family_name="M", place="LYON"), lambda p: any(s.city == "LYON" for s in p.situations)),
        (Criteria(place="69003"), lambda p: any(s.postal_code == "69003" for s in p.situations)),
        (
            Criteria(place="Dijon", organization="hospitalier"),
            lambda p: any("HOSPITALIER DE DIJON" in s.organization for s in p.situations),
        ),
    ],
    ids=["name", "name-and-first-name", "specialty", "name-and-city", "postal-code", "city-and-structure"],
)
def test_the_client_searches_by_each_criterion(client, criteria, check):
    found = client.search(criteria, limit=10)

    assert found
    assert all(check(professional) for professional in found)


def test_plain_contact_emails_of_a_structure_are_not_offered_as_mssante_addresses(client):
    found = client.search(Criteria(place="LYON"), limit=5)

    addresses = [box.address for professional in found for box, _situation in professional.all_mailboxes()]
    assert addresses and not any(address.startswith("contact@") for address in addresses)


def test_a_429_is_retried_after_its_retry_after_and_the_search_succeeds(client, sandbox):
    sandbox.calls[KEY] = deque([time.monotonic()] * 17)  # the gateway counted 17 calls of ours this second

    found = client.professional(person(1).rpps)

    assert found.rpps == person(1).rpps
    assert client.retries == 1


def test_a_client_at_the_gateways_rate_queues_its_calls_and_is_never_answered_429(sandbox):
    client = AnnuaireClient(AnnuaireClientConfig(sandbox.base_url, KEY, 10, 17))

    found = [client.professional(person(2).rpps) for _ in range(15)]  # 30 calls, queued at 17 per second

    assert all(professional.rpps == person(2).rpps for professional in found)
    assert (client.calls, client.retries) == (30, 0)


def test_a_server_error_is_a_transient_error(client, sandbox):
    sandbox.mode = "error"

    with pytest.raises(AnnuaireError) as error:
        client.search(Criteria(family_name="MARTIN"))

    assert not error.value.permanent and "HTTP 500" in str(error.value)


def test_a_server_slower_than_the_timeout_is_a_transient_error(sandbox):
    sandbox.mode, sandbox.slow_seconds = "slow", 2
    client = AnnuaireClient(AnnuaireClientConfig(sandbox.base_url, KEY, 0.5, 1000))

    with pytest.raises(AnnuaireError, match="pas répondu à temps") as error:
        client.search(Criteria(family_name="MARTIN"))

    assert not error.value.permanent


def test_a_refused_key_is_a_permanent_error(sandbox):
    client = AnnuaireClient(AnnuaireClientConfig(sandbox.base_url, "mauvaise", 5, 1000))

    with pytest.raises(AnnuaireError, match="ANNUAIRE_API_KEY") as error:
        client.search(Criteria(family_name="MARTIN"))

    assert error.value.permanent


def _all_ids(server: AnnuaireServer, bundle: dict) -> set[str]:
    ids = {entry["resource"]["id"] for entry in bundle.get("entry", [])}
    following = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
    while following:
        page = httpx.get(following, headers={"ESANTE-API-KEY": KEY}).json()
        ids |= {entry["resource"]["id"] for entry in page.get("entry", [])}
        following = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
    return ids

"""API fuzzing: requests generated from the DPI's own OpenAPI schema, sent over HTTP to a live server.

Schemathesis reads ``/api/schema/`` from the running server and generates, for every operation, requests
that fit the schema (positive) and requests that do not (negative: wrong types, missing fields, odd
characters). They are sent as a user of a care unit (session cookie, second factor done) and as a peer of
the hospital information system (``Authorization: Token``, scopes ``patients:read``, ``consent:write``
and ``stats:read``); the user is also staff with the usage indicators' permission. Every answer must be
no 5xx, a status code the schema documents for the operation, the documented content type and a body
that fits the documented schema; a request outside the schema must be refused with a 4xx. Half of the
positive requests aim at a patient or visit that exists, so that the 200/201 answers are checked too,
not only the 404s of random identifiers.

A real server (pytest-django's ``live_server``) rather than the WSGI app: the requests go through an
HTTP client and Django's HTTP server, so header encoding, query-string quoting and cookies are the ones a
peer meets. Generation is deterministic (``derandomize``) and bounded (``MAX_EXAMPLES`` per operation and
mode, no shrinking), so a failure is reproduced by running the test again.

Schemathesis's own pytest integration (``from_fixture``) does not work with the pinned pytest, so the
operations' Hypothesis strategies are driven here directly.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from dpi.models import CareUnit, Peer, User
from dpi.services import create_peer
from patients.models import Episode
from tests.factories import EpisodeFactory

MAX_EXAMPLES = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# The caller's credentials are sent as they are, never generated (nor left out as "negative" data).
CONFIG = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
CSRF_TOKEN = "fuzz" * 8  # 32 characters: an unmasked CSRF secret, sent as cookie and header
# Values that random generation seldom draws and that broke the API before the fuzz test (NUL to
# PostgreSQL, integers beyond its bigint, "²" that str.isdigit takes for a digit): each is sent once per
# parameter, with the checks above.
EDGE_TEXTS = ["\x00", "²", "x" * 1000, "' OR '1'='1"]
EDGE_NUMBERS = [2**63, -(2**63) - 1, "²", "1.5", ""]
EDGE_IDS = ["²", "1.5", str(2**63), "0", "-1", "%00"]
EDGE_BODIES = [
    {"subject": "dmp_feeding", "state": "informed_opposed", "collected_at": "0001-01-01T00:00:00+14:00"},
    {"subject": "dmp_feeding", "state": "informed_opposed", "collected_at": "9999-12-31T23:59:59-14:00"},
    {"subject": "dmp_feeding\x00", "state": "informed_opposed"},
    [{"subject": "dmp_feeding", "state": "informed_opposed"}],
    "informed_opposed",
]
OPERATIONS = [
    "GET /api/patients/",
    "GET /api/patients/{id}/",
    "GET /api/episodes/",
    "GET /api/episodes/{id}/",
    "POST /api/episodes/{id}/consent/",
    "GET /api/indicateurs/",
]


def _user_headers(user: object) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    cookies = f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={CSRF_TOKEN}"
    return {"Cookie": cookies, "X-CSRFToken": CSRF_TOKEN}


def _peer_headers() -> dict[str, str]:
    scopes = [Peer.Scope.PATIENTS_READ, Peer.Scope.CONSENT_WRITE, Peer.Scope.STATS_READ]
    _peer, token = create_peer(name="fuzz", scopes=scopes)
    return {"Authorization": f"Token {token}"}


def _indicators_reader(user: User) -> User:
    """The doctor also reads the usage indicators (staff, with the permission), so that endpoint answers too."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(Permission.objects.get(codename="view_indicators", content_type__app_label="stats"))
    return user


@pytest.fixture(params=["user", "peer"])
def caller_headers(request: pytest.FixtureRequest, transactional_db: None) -> dict[str, str]:
    if request.param == "peer":
        return _peer_headers()
    return _user_headers(_indicators_reader(request.getfixturevalue("doctor")))


def _existing_id(operation: APIOperation, episode: Episode) -> int:
    return episode.patient_id if operation.path.startswith("/api/patients/") else episode.pk


def _strategy(operation: APIOperation, mode: GenerationMode, episode: Episode) -> st.SearchStrategy[Case]:
    generated = operation.as_strategy(generation_mode=mode)
    if mode is GenerationMode.NEGATIVE or "{id}" not in operation.path:
        return generated
    aimed = operation.as_strategy(generation_mode=mode, path_parameters={"id": _existing_id(operation, episode)})
    return st.one_of(generated, aimed)


def _fuzz(operation: APIOperation, mode: GenerationMode, episode: Episode, headers: dict[str, str]) -> set[int]:
    """Sends the generated requests and returns their status codes."""
    statuses: set[int] = set()

    @given(case=_strategy(operation, mode, episode))
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def send(case: Case) -> None:
        statuses.add(case.call_and_validate(headers=headers, checks=CHECKS).status_code)

    send()
    return statuses


def _edge_cases(operation: APIOperation, episode: Episode) -> list[Case]:
    cases = [
        operation.Case(query={parameter.name: value})
        for parameter in operation.query
        for value in (EDGE_NUMBERS if parameter.definition["schema"]["type"] == "integer" else EDGE_TEXTS)
    ]
    if "{id}" in operation.path:
        cases += [operation.Case(path_parameters={"id": value}) for value in EDGE_IDS]
    if operation.method.upper() == "POST":
        visit = {"id": _existing_id(operation, episode)}
        json_body = "application/json"
        cases += [operation.Case(path_parameters=visit, body=body, media_type=json_body) for body in EDGE_BODIES]
    return cases


def test_the_fuzzed_operations_are_every_operation_of_the_schema(client, doctor):
    client.force_login(doctor)
    served = schemathesis.openapi.from_dict(client.get("/api/schema/", {"format": "json"}).json())
    assert sorted(result.ok().label for result in served.get_all_operations()) == sorted(OPERATIONS)


@pytest.mark.parametrize("mode", list(GenerationMode))
def test_every_generated_request_gets_a_documented_answer_and_never_a_server_error(
    live_server, caller_headers: dict[str, str], care_unit: CareUnit, mode: GenerationMode
):
    episode = EpisodeFactory(care_unit=care_unit)
    url = f"{live_server.url}/api/schema/?format=json"
    schema = schemathesis.openapi.from_url(url, headers=caller_headers, config=CONFIG)
    failures = []
    for label in OPERATIONS:
        method, path = label.split(" ")
        operation = schema[path][method]
        try:
            if mode is GenerationMode.POSITIVE:
                for case in _edge_cases(operation, episode):
                    case.call_and_validate(headers=caller_headers, checks=CHECKS)
            statuses = _fuzz(operation, mode, episode, caller_headers)
            # The session, CSRF token and scopes work: the schema's success answer was checked too.
            assert mode is GenerationMode.NEGATIVE or statuses & {200, 201}, f"no success among {statuses}"
        except (AssertionError, BaseExceptionGroup) as failure:  # every operation is fuzzed, all failures told
            failures.append(f"{label}:\n{failure}")
    assert not failures, "\n\n".join(failures)

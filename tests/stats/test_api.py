"""The indicators' REST endpoint for the SIH's decision-support system: the CSV's figures, its own scope."""

from __future__ import annotations

import pytest
from django.test import Client

from dpi.models import AuditEvent, Peer
from dpi.services import create_peer
from stats.indicators.common import LETTER
from tests.stats.test_csv import download, reader
from tests.stats.test_dashboard import LYON_SITE, PARIS_SITE, two_sites  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
URL = "/api/indicateurs/"
MARCH = {"periode": "mois", "mois": "2026-03"}


def peer(*scopes: str) -> Client:
    _peer, token = create_peer(name="sid", scopes=list(scopes))
    return Client(headers={"Authorization": f"Token {token}"})


def test_the_decision_support_system_reads_the_figures_of_the_csv(two_sites):  # noqa: F811
    answer = peer(Peer.Scope.STATS_READ).get(URL, MARCH)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["du"], body["au"]) == ("2026-03-01", "2026-03-31")
    served = {(r["indicateur"], r["finess_geographique"], r["type_document"], r["profession"], r["mois"]):
              (str(r["numerateur"]), "" if r["denominateur"] is None else str(r["denominateur"]))
              for r in body["indicateurs"]}  # fmt: skip
    csv_rows = download(reader(), **MARCH)[1:]
    assert served == {(r[0], r[2], r[3], r[5], r[6]): (r[7], r[8]) for r in csv_rows}
    fed = [r for r in body["indicateurs"] if r["indicateur"] == "DMP_OK" and r["finess_geographique"] == LYON_SITE]
    assert fed == [{
        "indicateur": "DMP_OK", "libelle": "Documents transmis au DMP en flux – réussi",
        "finess_geographique": LYON_SITE, "type_document": LETTER, "profession": "", "mois": "2026-03",
        "numerateur": 1, "denominateur": None, "valeur": "1.0000",
    }]  # fmt: skip
    event = AuditEvent.objects.filter(action=AuditEvent.Action.TRACE_EXPORT, peer="sid").get()
    assert event.detail["view"] == "stats:api"


def test_a_site_and_a_type_narrow_the_answer(two_sites):  # noqa: F811
    body = peer(Peer.Scope.STATS_READ).get(URL, MARCH | {"finess": PARIS_SITE, "type": LETTER}).json()
    assert {(r["finess_geographique"], r["type_document"]) for r in body["indicateurs"]} == {(PARIS_SITE, LETTER)}


def test_a_peer_without_the_scope_and_a_user_without_the_right_are_refused(two_sites):  # noqa: F811
    assert peer(Peer.Scope.PATIENTS_READ, Peer.Scope.DOCUMENTS_READ).get(URL).status_code == 403
    assert reader(permission=False).get(URL).status_code == 403
    assert Client().get(URL).status_code in (401, 403)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.TRACE_EXPORT).exists()
    assert reader().get(URL, MARCH).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        {"periode": "semaine"},
        {"periode": "mois"},  # no month
        {"periode": "annee", "mois": "2026-13"},  # malformed, even where ignored
        {"periode": "intervalle", "du": "2026-02-01", "au": "2026-01-01"},
        {"periode": "intervalle", "du": "2000-01-01", "au": "2026-01-01"},  # over five years
        {"finess": "999999999"},  # not a site of ours
        {"type": "=1+1"},
        {"finess": "75000\x0011"},
        {"periode": ""},  # empty: refused, not the default
        {"periode": "annee", "mois": ""},
    ],
)
def test_bad_parameters_are_refused_with_their_reason(two_sites, query):  # noqa: F811
    answer = peer(Peer.Scope.STATS_READ).get(URL, query)
    assert answer.status_code == 400 and answer.json()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.TRACE_EXPORT).exists()

"""The indicators' dashboard (TBB/va1.01, SC.STAT/ES.01): filters at once, figures loaded after the page,
the same figures as the CSV by site, type and month, and a CSV link of what is shown."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from stats.indicators.common import LETTER, PRESCRIPTION
from tests.factories import CareUnitFactory, EpisodeFactory, SiteFactory
from tests.stats import facts
from tests.stats.facts import dmp
from tests.stats.test_csv import download, reader

pytestmark = pytest.mark.django_db
PARIS_SITE, LYON_SITE = "750000011", "690000022"


@pytest.fixture
def two_sites() -> None:
    """In March 2026: Paris feeds a letter (success) and a prescription (DMP refusal); Lyon a letter (success)."""
    message = facts.shared_message()
    at = datetime(2026, 3, 10, 9, tzinfo=UTC)
    for finess, types in ((PARIS_SITE, ((LETTER, True), (PRESCRIPTION, False))), (LYON_SITE, ((LETTER, True),))):
        unit = CareUnitFactory(site=SiteFactory(finess_eg=finess, name=f"Site {finess}"))
        episode = EpisodeFactory(care_unit=unit, admitted_at=at - timedelta(days=2), discharged_at=at)
        for type_code, fed in types:
            facts.send(facts.document(episode, type_code, finess=finess), [dmp("sent", at, fed)], message)


def figures(client, **query: str) -> str:
    response = client.get(reverse("stats:figures"), query, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode()


def line(html: str, code: str, type_label: str = "") -> list[str]:
    """The cells of the table line of ``code`` (and type) for the months shown."""
    for row in re.findall(rf'<tr data-code="{code}">(.*?)</tr>', html, re.S):
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        if type_label in cells[0]:
            return cells[1:]
    raise AssertionError(f"no line {code} {type_label}")


def chart(html: str, title_start: str) -> dict:
    for data in re.findall(r'<script id="chart-\d+" type="application/json">(.*?)</script>', html, re.S):
        drawn = json.loads(data)
        if drawn["title"].startswith(title_start):
            return drawn
    raise AssertionError(title_start)


def test_the_page_shows_the_filters_at_once_and_loads_the_figures_after(two_sites):
    html = reader().get(reverse("stats:index"), {"periode": "mois", "mois": "2026-03"}).content.decode()
    assert 'hx-get="/statistiques/chiffres/?periode=mois&amp;mois=2026-03"' in html
    assert "Calcul des indicateurs en cours" in html
    assert 'href="/statistiques/indicateurs.csv?periode=mois&amp;mois=2026-03"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert "Site 690000022" in html  # the site filter offers the sites
    assert 'data-testid="indicators-link"' in html  # the menu leads there


def test_all_sites_add_up_counts_and_recompute_rates_from_their_parts(two_sites):
    html = figures(reader(), periode="mois", mois="2026-03")
    assert line(html, "DMP_OK", "Lettre de liaison") == ["2"]
    assert line(html, "DMP_KO", "Prescription") == ["1"]
    assert line(html, "DMP_SEJOURS_TAUX", "Lettre de liaison") == ["100,0 %"]
    fed = chart(html, "Alimentation du DMP")
    assert fed["labels"] == ["03/2026"]
    expected = {"réussis": [2], "en échec": [1], "historiques réussis": [0]}
    assert {dataset["label"]: dataset["data"] for dataset in fed["datasets"]} == expected


def test_a_site_and_a_type_narrow_the_figures_and_the_csv_link(two_sites):
    client = reader()
    query = {"periode": "mois", "mois": "2026-03", "finess": PARIS_SITE, "type": LETTER}
    html = figures(client, **query)
    assert line(html, "DMP_OK") == ["1"]
    assert line(html, "DMP_KO") == ["0"]  # the prescription's refusal is another type
    assert "finess=750000011&amp;type=11490-0" in html
    rows = download(client, **query)
    assert {(row[0], row[2], row[3]) for row in rows[1:] if row[0] == "DMP_OK"} == {("DMP_OK", PARIS_SITE, LETTER)}
    assert {row[2] for row in rows[1:]} == {PARIS_SITE}


def test_a_year_shows_every_month_even_without_facts(two_sites):
    html = figures(reader(), periode="intervalle", du="2026-01-01", au="2026-12-31")
    assert line(html, "DMP_OK", "Lettre de liaison") == ["0", "0", "2"] + ["0"] * 9
    assert line(html, "DMP_SEJOURS_TAUX", "Lettre de liaison")[:3] == ["–", "–", "100,0 %"]


def test_wrong_filters_are_refused_with_their_reason(two_sites):
    client = reader()
    assert client.get(reverse("stats:index"), {"periode": "mois", "mois": "mars"}).status_code == 400
    html = figures(client, periode="annee", finess="999999999")
    assert "indicators-errors" in html and "Sélectionnez un choix valide" in html


@pytest.mark.parametrize(("permission", "staff"), [(False, True), (True, False)])
def test_only_staff_with_the_indicators_permission_see_the_figures(permission, staff):
    assert reader(permission=permission, staff=staff).get(reverse("stats:figures")).status_code == 403


def test_the_figures_cost_a_fixed_number_of_queries_three_more_per_month(two_sites, django_assert_max_num_queries):
    """34 for the page, the refresh and the families (the correspondents' rate: its denominator and its
    receipts), plus three per month (the DMP consultation's selectors are asked month by month); never a
    query per fact."""
    client = reader()
    figures(client, periode="annee_precedente")  # the outcomes refreshed once, the session warm
    with django_assert_max_num_queries(34 + 3):
        figures(client, periode="mois", mois="2026-03")
    with django_assert_max_num_queries(34 + 3 * 12):
        figures(client, periode="intervalle", du="2026-01-01", au="2026-12-31")

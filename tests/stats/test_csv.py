"""The indicators' CSV: its columns, formula-safety, who may download it, and the audit row of each download."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from dpi.models import AuditEvent
from mss.models import Trace
from stats.export import HEADER
from stats.indicators.common import LETTER
from tests.factories import CareUnitFactory, EpisodeFactory, SiteFactory, UserFactory
from tests.stats import facts
from tests.stats.facts import dmp

pytestmark = pytest.mark.django_db
URL = "/statistiques/indicateurs.csv"


def reader(permission: bool = True, staff: bool = True) -> Client:
    user = UserFactory(is_staff=staff)
    if permission:
        user.user_permissions.add(Permission.objects.get(codename="view_indicators", content_type__app_label="stats"))
    client = Client()
    client.force_login(user)
    return client


def download(client: Client, **query: str) -> list[list[str]]:
    response = client.get(URL, query)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads UTF-8 only with its byte order mark
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


@pytest.fixture
def august_letter() -> None:
    """A letter fed to the DMP at 23:30 UTC on 31 July 2026 (August in Paris), of a stay closed then."""
    unit = CareUnitFactory(site=SiteFactory(finess_eg="750000011"))
    at = datetime(2026, 7, 31, 23, 30, tzinfo=UTC)
    episode = EpisodeFactory(care_unit=unit, admitted_at=at - timedelta(days=2), discharged_at=at)
    facts.send(facts.document(episode, LETTER, finess="750000011"), [dmp("sent", at, True)], facts.shared_message())


def test_the_csv_has_one_line_per_indicator_finess_type_and_month_with_french_numbers(august_letter):
    rows = download(reader(), periode="mois", mois="2026-08")
    assert tuple(rows[0]) == HEADER
    lines = {(row[0], row[3], row[6]): row for row in rows[1:]}
    sent = lines["DMP_OK", LETTER, "2026-08"]
    assert sent[2] == "750000011" and sent[4].startswith("Lettre de liaison")
    assert sent[7:] == ["1", "", "1"]
    rate = lines["DMP_SEJOURS_TAUX", LETTER, "2026-08"]
    assert rate[7:] == ["1", "1", "1,0000"]
    assert lines["INFO_ALIM_SEJOURS_NON_OPPOSE", "", "2026-08"][7:] == ["0", "1", "0,0000"]


def test_a_previous_year_download_leaves_out_this_month(august_letter):
    rows = download(reader(), periode="intervalle", du="2026-07-01", au="2026-07-31")
    assert rows == [list(HEADER)]


def test_a_cell_that_starts_like_a_formula_is_quoted():
    unit = CareUnitFactory(site=SiteFactory(finess_eg="750000011"))
    episode = EpisodeFactory(care_unit=unit, admitted_at=datetime(2026, 3, 1, tzinfo=UTC))
    received = facts.document(episode, "=HYPERLINK(1)", finess="750000011", provenance="mss")
    Trace.objects.create(event=Trace.Event.INTEGRATED, document=received, care_unit=unit)
    Trace.objects.update(at=datetime(2026, 3, 2, tzinfo=UTC))
    rows = download(reader(), periode="mois", mois="2026-03")
    assert [row[3] for row in rows if row[0] == "MSS_RECU_AUTO_OK"] == ["'=HYPERLINK(1)"]


@pytest.mark.parametrize(("permission", "staff"), [(False, True), (True, False)])
def test_only_staff_with_the_indicators_permission_may_download(permission, staff):
    client = reader(permission=permission, staff=staff)
    assert client.get(URL, {"periode": "annee"}).status_code == 403
    assert client.get(reverse("stats:index")).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.TRACE_EXPORT).exists()


def test_an_anonymous_visitor_is_sent_to_the_login_page():
    response = Client().get(URL, {"periode": "annee"})
    assert response.status_code == 302 and "login" in response["Location"]


def test_each_download_is_audited_with_its_period_and_row_count(august_letter):
    rows = download(reader(), periode="mois", mois="2026-08")
    event = AuditEvent.objects.get(action=AuditEvent.Action.TRACE_EXPORT)
    assert event.detail["rows"] == len(rows) - 1 > 0
    assert event.detail["since"] == "2026-08-01T00:00:00+02:00" and event.detail["until"] == "2026-09-01T00:00:00+02:00"
    assert event.detail["file"] == "indicateurs-20260801-20260831.csv" and event.actor is not None


def test_previous_year_and_a_wrong_range_are_understood():
    client = reader()
    assert download(client, periode="annee_precedente") == [list(HEADER)]
    assert client.get(URL, {"periode": "intervalle", "du": "2026-02-01", "au": "2026-01-01"}).status_code == 400
    assert client.get(URL, {"periode": "mois", "mois": "août"}).status_code == 400
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TRACE_EXPORT).count() == 1
    assert client.get(reverse("stats:index")).status_code == 200

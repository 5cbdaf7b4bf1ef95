"""The rate of correspondents with an MSSanté address who were sent a document of a type (DSR 3.2.7)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from dmp.models import OrderState
from stats.indicators import Period, compute
from stats.indicators.common import LETTER, OPERATIVE_REPORT
from stats.indicators.correspondents import CODE
from tests.factories import CorrespondentFactory, EpisodeFactory
from tests.stats import facts
from tests.stats.facts import PRO_ADDRESS, mss

pytestmark = pytest.mark.django_db
FINESS = "750000001"


def _rates() -> list[tuple]:
    today = timezone.localdate()
    rows = compute(Period.from_dates(today.replace(day=1), today))
    return [(row.finess, row.type_code, row.numerator, row.denominator) for row in rows if row.code == CODE]


def test_each_correspondent_with_an_address_reached_counts_once_per_type_and_month():
    CorrespondentFactory(mss_address=PRO_ADDRESS.upper())  # addresses compare without case
    CorrespondentFactory()  # an address, never sent: in the denominator only
    CorrespondentFactory(mss_address="")  # no address: in neither
    CorrespondentFactory(active=False)  # deactivated: in neither
    episode, message, now = EpisodeFactory(), facts.shared_message(), timezone.now()
    for type_code, delivered in ((LETTER, True), (LETTER, True), (OPERATIVE_REPORT, False)):
        document = facts.document(episode, type_code, finess=FINESS)
        facts.send(document, [mss(OrderState.SENT, now, pro=(delivered,))], message)

    assert _rates() == [(FINESS, LETTER, 1, 2)]  # two letters, one correspondent; the undelivered report: none


def test_no_correspondent_with_an_address_gives_no_rate():
    CorrespondentFactory(mss_address="")
    episode = EpisodeFactory()
    facts.send(facts.document(episode, LETTER, finess=FINESS), [mss(OrderState.SENT, timezone.now(), pro=(True,))],
               facts.shared_message())  # fmt: skip

    assert _rates() == []

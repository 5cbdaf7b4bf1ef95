"""The stays with surgery (the operative report's denominator, DSR 3.2.7 NB 3) are the stays for which an
operative report was validated in the DPI."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from documents.services import create_draft, validate_document
from patients.models import Episode
from stats.indicators import Period, compute
from stats.indicators.common import OPERATIVE_REPORT
from tests.factories import EpisodeFactory
from tests.stats import facts
from tests.support.feeding import LETTER_FIELDS

pytestmark = pytest.mark.django_db
REPORT_FIELDS = {"indication": "Appendicite", "intervention": "Appendicectomie", "description": "Cœlioscopie."}


def write(episode: Episode, doctor, type_code: str, fields: dict, *, validate: bool = True) -> None:
    document = create_draft(patient=episode.patient, episode=episode, type_code=type_code, title="Document",
                            fields=fields, act_date=timezone.now(), acting_user=doctor)  # fmt: skip
    if validate:
        validate_document(document=document, acting_user=doctor)


def surgical(episode: Episode) -> bool:
    episode.refresh_from_db()
    return episode.surgical


def test_a_validated_operative_report_marks_its_stay_surgical(doctor, care_unit):
    operated, drafted, discharged = (EpisodeFactory(care_unit=care_unit) for _ in range(3))
    write(operated, doctor, OPERATIVE_REPORT, REPORT_FIELDS)
    write(drafted, doctor, OPERATIVE_REPORT, REPORT_FIELDS, validate=False)
    write(discharged, doctor, "11490-0", LETTER_FIELDS)
    assert [surgical(e) for e in (operated, drafted, discharged)] == [True, False, False]


def test_a_received_operative_report_does_not(care_unit):
    episode = EpisodeFactory(care_unit=care_unit)
    facts.document(episode, OPERATIVE_REPORT, finess=care_unit.site.finess_eg, provenance="mss")
    assert not surgical(episode)


def test_the_operative_report_rate_counts_the_stays_with_surgery(doctor, care_unit):
    closed = datetime(2026, 3, 10, tzinfo=UTC)
    operated = EpisodeFactory(care_unit=care_unit, admitted_at=closed.replace(day=1), discharged_at=closed)
    EpisodeFactory(care_unit=care_unit, admitted_at=closed.replace(day=2), discharged_at=closed)  # no surgery
    write(operated, doctor, OPERATIVE_REPORT, REPORT_FIELDS)
    rows = compute(Period.month(2026, 3))
    wanted = ("DMP_SEJOURS_TAUX", OPERATIVE_REPORT)
    rate = [(row.numerator, row.denominator) for row in rows if (row.code, row.type_code) == wanted]
    assert rate == [(0, 1)]  # one stay with surgery, its report not yet in the DMP

"""The consent panel and API in a clinician's terms: Paris times, the current choice marked, an opposition
confirmed before it is recorded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from lxml import html

from consent.models import Source, State, Subject
from consent.services import record_consent
from dpi.models import Peer
from dpi.services import create_peer

pytestmark = pytest.mark.django_db

WINTER_NOON_UTC = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # 13:00 in Paris


def _record(episode, user, state: str) -> None:
    record_consent(
        episode=episode,
        subject=Subject.FEEDING,
        state=state,
        source=Source.UI,
        collected_at=WINTER_NOON_UTC,
        acting_user=user,
    )


def test_the_api_source_of_a_choice_gives_the_paris_time(client, doctor, qualified_episode):
    _record(qualified_episode, doctor, State.INFORMED_OPPOSED)
    _peer, token = create_peer(name="gam", scopes=[Peer.Scope.PATIENTS_READ])
    response = client.get(f"/api/episodes/{qualified_episode.pk}/", HTTP_AUTHORIZATION=f"Token {token}")
    source = response.json()["dmp_feeding"]["source"]
    assert source.endswith("le 15/01/2026 13:00"), source


def _panel(client, patient) -> html.HtmlElement:
    page = html.fromstring(client.get(reverse("patients:file", args=[patient.pk])).content)
    return page.xpath("//*[@data-testid='consent-panel']")[0]


def test_the_current_choice_of_each_subject_is_marked_as_pressed(client, doctor, qualified_episode):
    _record(qualified_episode, doctor, State.INFORMED_OPPOSED)
    client.force_login(doctor)
    panel = _panel(client, qualified_episode.patient)
    feeding = panel.xpath(".//*[@data-testid='consent-dmp_feeding']")[0]
    pressed = [" ".join(b.text_content().split()) for b in feeding.xpath(".//button[@aria-pressed='true']")]
    assert pressed == ["S'oppose à l'alimentation"]
    assert "current" in feeding.xpath(".//button[@aria-pressed='true']")[0].get("class")
    released = [" ".join(b.text_content().split()) for b in feeding.xpath(".//button[@aria-pressed='false']")]
    assert released == ["Informé, ne s'oppose pas"]


def test_recording_an_opposition_asks_for_confirmation_first(client, doctor, qualified_episode):
    client.force_login(doctor)
    panel = _panel(client, qualified_episode.patient)
    for subject in (Subject.FEEDING, Subject.CONSULTATION):
        button = panel.xpath(f".//button[@data-testid='oppose-{subject}']")[0]
        form = button.getparent()
        assert form.get("hx-confirm", "").startswith("Enregistrer l'opposition du patient")

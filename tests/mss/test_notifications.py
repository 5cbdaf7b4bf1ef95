"""The header badge and the "documents intégrés non vus" list (REM SC.MSS/UX.40): what they count (the user's
units' documents received by MSSanté and integrated from the DMP by someone else), over MSS_UNSEEN_DAYS, and the
badge's colours readable (WCAG AA computed from app.css)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from dmp.models import IntegratedDmpDocument
from documents.models import Document, Provenance
from documents.services import integrate_cda
from dpi.models import AuditEvent
from mss import selectors, services
from mss.models import Trace
from sandbox.mss_push import patient_document, patient_identity
from tests.factories import CareUnitFactory, MembershipFactory, RoleFactory
from tests.support.engine import send

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(unit):
    return MembershipFactory(care_unit=unit, role=RoleFactory()).user


@pytest.fixture
def colleague(unit):
    return MembershipFactory(care_unit=unit, role=RoleFactory()).user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def integrate_from_dmp(patient, unit, by, title: str = "CR du DMP") -> Document:
    """What the DMP section does (dmp.services.consultation): integrate_cda by a user, then the DMP link."""
    _root, cda = patient_document(patient_identity(patient), title=title)
    result = integrate_cda(patient=patient, data=cda, provenance=Provenance.DMP, acting_user=by, care_unit=unit)
    IntegratedDmpDocument.objects.create(
        document=result.document, unique_id=f"2.25.{uuid.uuid4().int}", entry_uuid=f"urn:uuid:{uuid.uuid4()}",
        repository_unique_id="1.2.250.1.213.1.1.1.1",
    )  # fmt: skip
    return result.document


def test_the_badge_counts_mss_documents_and_dmp_integrations_by_others_in_the_users_units(
    route, patient, document_for, member, colleague, unit
):
    send(document_for(patient, title="CR reçu par MSSanté"))
    integrate_from_dmp(patient, unit, by=colleague, title="Intégré par un collègue")
    integrate_from_dmp(patient, unit, by=member, title="Intégré par moi")
    assert selectors.unseen_count(member) == 2
    assert {line.document.title for line in selectors.unseen_documents(member)} == {
        "CR reçu par MSSanté", "Intégré par un collègue"
    }  # fmt: skip
    assert {line.document.title for line in selectors.unseen_documents(colleague)} == {
        "CR reçu par MSSanté", "Intégré par moi"
    }  # fmt: skip


def test_documents_of_other_units_are_not_counted(route, patient, document_for, unit):
    send(document_for(patient))
    elsewhere = MembershipFactory(care_unit=CareUnitFactory(site=unit.site), role=RoleFactory()).user
    assert selectors.unseen_count(elsewhere) == 0
    assert selectors.unseen_documents(elsewhere) == []


def test_opening_a_document_takes_it_off_the_badge(route, patient, document_for, member, colleague, unit):
    send(document_for(patient, title="CR reçu par MSSanté"))
    from_dmp = integrate_from_dmp(patient, unit, by=colleague)
    client = client_for(member)
    assert (
        client.post(reverse("mss:open", args=[Document.objects.get(provenance=Provenance.MSS).pk])).status_code == 302
    )
    assert selectors.unseen_count(member) == 1
    assert client.get(reverse("documents:detail", args=[from_dmp.pk])).status_code == 200  # the audited reading
    assert selectors.unseen_count(member) == 0
    assert selectors.unseen_count(colleague) == 1  # per user


def test_a_reading_before_a_new_dmp_integration_does_not_count_as_seen(patient, member, colleague, unit):
    document = integrate_from_dmp(patient, unit, by=colleague)
    client_for(member).get(reverse("documents:detail", args=[document.pk]))
    assert selectors.unseen_count(member) == 0
    IntegratedDmpDocument.objects.filter(document=document).update(integrated_at=timezone.now() + timedelta(seconds=5))
    assert selectors.unseen_count(member) == 1


@override_settings(MSS_UNSEEN_DAYS=7)
def test_only_the_configured_period_counts(route, patient, document_for, member, colleague, unit):
    send(document_for(patient, title="Récent"))
    send(document_for(patient, title="Ancien"))
    old = timezone.now() - timedelta(days=8)
    Trace.objects.filter(document__title="Ancien").update(at=old)
    from_dmp = integrate_from_dmp(patient, unit, by=colleague)
    IntegratedDmpDocument.objects.filter(document=from_dmp).update(integrated_at=old)
    assert [line.document.title for line in selectors.unseen_documents(member)] == ["Récent"]
    assert selectors.unseen_count(member) == 1
    page = client_for(member).get(reverse("mss:unseen")).text
    assert "Récent" in page and "Ancien" not in page and "7 derniers jours" in page


def test_the_badge_links_to_the_unseen_list_which_audits_each_patient_listed(route, patient, document_for, member):
    send(document_for(patient, title="CR de cardiologie"))
    client = client_for(member)
    badge = client.get(reverse("mss:badge")).text
    assert f'href="{reverse("mss:unseen")}"' in badge and ">1<" in badge and "has-unseen" in badge
    page = client.get(reverse("mss:unseen")).text
    assert "CR de cardiologie" in page and 'data-testid="unseen-document"' in page
    row = AuditEvent.objects.get(action=AuditEvent.Action.PATIENT_OPEN, patient_id=patient.pk)
    assert row.actor == member and row.detail["list"] == "mss_unseen"
    services.mark_unit_read(user=member, care_unit=route.care_unit)
    assert "has-unseen" not in client.get(reverse("mss:badge")).text


# --- Contrast of the badge (WCAG 2.x, AA for normal text: 4.5:1) -------------------------------------------


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _rule(selector: str) -> dict[str, str]:
    css = (settings.BASE_DIR / "static" / "css" / "app.css").read_text()
    body = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", css)
    assert body, f"{selector} not in app.css"
    return dict(re.findall(r"([\w-]+)\s*:\s*(#[0-9a-fA-F]{6})", body.group(1)))


def test_the_contrast_formula_matches_known_pairs():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic just-failing grey


@pytest.mark.parametrize("selector", [".site-header .badge-unseen", ".site-header .badge-unseen.has-unseen"])
def test_the_badge_colours_meet_wcag_aa(selector):
    colours = _rule(selector)
    assert contrast(colours["color"], colours["background"]) >= 4.5

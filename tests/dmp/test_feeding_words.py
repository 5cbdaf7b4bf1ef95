"""A document line says, in words, why a sending was refused or failed and what to do; the page offers
"Supprimer du DMP" only for a document the DMP holds, and never calls a rejection a receipt."""

from __future__ import annotations

import pytest
from django.urls import reverse
from lxml import html

from dmp.models import FeedingOrder, OrderState
from dpi.hl7.engine import process_inbound
from patients.models import IdentityStatus
from tests.dmp.test_zam import zam

pytestmark = pytest.mark.django_db

DMP_REFUSAL = "Document refusé par le DMP : INS inconnu"


def _sent(document) -> FeedingOrder:
    """The document's DMP order as the PFI accepted it (MSH-10 015 of the ZAM helper)."""
    FeedingOrder.objects.filter(document=document, channel="dmp").update(
        control_id="015", state=OrderState.SENT, trigger="T02"
    )
    return FeedingOrder.objects.get(document=document, channel="dmp")


def _text(element) -> str:
    return " ".join(element.text_content().split())


def _detail(client, document) -> html.HtmlElement:
    return html.fromstring(client.get(reverse("documents:detail", args=[document.pk])).content)


def _line(client, document) -> html.HtmlElement:
    return html.fromstring(client.get(reverse("dmp:feeding_line", args=[document.pk])).content.decode())


def test_a_dmp_rejection_shows_its_reason_and_what_to_do_on_the_document_line(
    client, doctor, qualified_episode, letter
):
    document = letter(qualified_episode)
    _sent(document)
    process_inbound(zam("Z01", "015", ok=False, error=DMP_REFUSAL).encode(), peer="pfi")
    client.force_login(doctor)
    line = _line(client, document)
    export = _text(line.xpath("//*[@data-testid='export-dmp']")[0])
    assert DMP_REFUSAL in export
    advice = _text(line.xpath("//*[@data-testid='next-step-dmp']")[0])
    assert "corrigez le document" in advice and "Envoyer maintenant" in advice


def test_a_document_the_dmp_rejected_is_not_offered_for_deletion_and_the_rejection_is_not_a_receipt(
    client, doctor, qualified_episode, letter
):
    document = letter(qualified_episode)
    _sent(document)
    process_inbound(zam("Z01", "015", ok=False, error=DMP_REFUSAL).encode(), peer="pfi")
    client.force_login(doctor)
    page = _detail(client, document)
    assert page.xpath("//*[@data-testid='withdraw']") == []
    history = _text(page.xpath("//*[@data-testid='feeding-history']")[0])
    assert "accusé de réception" not in history.lower()
    assert "refusé par le DMP" in history and DMP_REFUSAL in history


def test_a_document_the_dmp_acknowledged_is_offered_for_deletion(client, doctor, qualified_episode, letter):
    document = letter(qualified_episode)
    _sent(document)
    process_inbound(zam("Z01", "015").encode(), peer="pfi")
    client.force_login(doctor)
    page = _detail(client, document)
    assert page.xpath("//*[@data-testid='withdraw']")
    assert page.xpath("//*[@data-testid='withdraw-form']/@data-confirm")[0].startswith("Supprimer ce document du DMP ?")
    assert page.xpath("//script[contains(@src, 'js/confirm.js')]")
    assert "Accusé de réception" in _text(page.xpath("//*[@data-testid='export-dmp']")[0])


def test_a_sending_refused_by_the_checks_says_why_and_to_retry_once_the_cause_is_gone(
    client, doctor, qualified_episode, letter
):
    document = letter(qualified_episode)
    FeedingOrder.objects.filter(document=document, channel="dmp").update(
        state=OrderState.REFUSED, reason="INS non qualifié : le DMP exige une identité qualifiée."
    )
    qualified_episode.patient.identity_status = IdentityStatus.VALIDEE
    qualified_episode.patient.save()
    client.force_login(doctor)
    order = _line(client, document).xpath("//*[@data-testid='order-dmp']")[0]
    assert "INS non qualifié" in _text(order)
    advice = _text(order.xpath(".//*[@data-testid='next-step-dmp']")[0])
    assert "Réessayer" in advice


def test_cancelling_a_sending_asks_for_confirmation(client, doctor, qualified_episode, letter):
    document = letter(qualified_episode)
    client.force_login(doctor)
    button = _line(client, document).xpath("//*[@data-testid='cancel-dmp']")[0]
    assert button.getparent().get("hx-confirm", "").startswith("Annuler l'envoi")

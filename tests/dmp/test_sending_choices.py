"""Sendings a user asks for after validation (issue 13 §3): a document sent later, by hand, to chosen
recipients (MSS/va1.23), and the deletion of a mailed document told to its recipients (SC.MSS/UX.38).
The PFI is the sandbox simulator over real MLLP sockets."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from dmp.models import FeedingOrder, OrderKind, OrderState, Purpose
from dmp.services.feeding import run_order
from dmp.services.sending import send_to_recipients
from documents.models import Provenance
from documents.services import Recipients
from sandbox.models import PfiMessage
from tests.factories import CorrespondentFactory, EpisodeFactory
from tests.support.feeding import PRO_ADDRESS

pytestmark = pytest.mark.django_db(transaction=True)


def _run_latest(document, **filters) -> FeedingOrder:
    order = FeedingOrder.objects.filter(document=document, channel="mss", **filters).latest("pk")
    run_order(order.pk)
    order.refresh_from_db()
    return order


def test_a_validated_document_is_sent_later_to_newly_chosen_recipients(
    qualified_episode, letter, doctor, no_delay, pfi
):
    document = letter(qualified_episode, recipients=Recipients((PRO_ADDRESS,)))
    assert _run_latest(document).state == OrderState.SENT
    cardiologist = CorrespondentFactory(family_name="ROUX", mss_address="p.roux@cardio.mssante.fr")

    order = send_to_recipients(
        document=document, recipients=Recipients(("autre@hopital.mssante.fr",), correspondents=(cardiologist,)),
        acting_user=doctor,
    )  # fmt: skip

    assert (order.kind, order.purpose) == (OrderKind.ADDITIONAL, Purpose.PUBLISH)
    assert _run_latest(document, kind=OrderKind.ADDITIONAL).state == OrderState.SENT
    later = PfiMessage.objects.filter(ack_code="AA").latest("pk")
    assert later.trigger == "T02" and later.mss_recipients == ["autre@hopital.mssante.fr", "p.roux@cardio.mssante.fr"]
    line = document.exports.get(channel="mss_pro", recipient="p.roux@cardio.mssante.fr")
    assert line.state in ("sent", "acknowledged")


def test_a_sending_by_hand_needs_a_recipient_and_a_produced_validated_document(qualified_episode, letter, doctor):
    document = letter(qualified_episode)
    with pytest.raises(ValidationError, match="au moins un destinataire"):
        send_to_recipients(document=document, recipients=Recipients(), acting_user=doctor)
    document.provenance = Provenance.MANUAL
    document.save()
    with pytest.raises(ValidationError, match="produit dans le DPI"):
        send_to_recipients(document=document, recipients=Recipients((PRO_ADDRESS,)), acting_user=doctor)
    assert not FeedingOrder.objects.filter(kind=OrderKind.ADDITIONAL).exists()


def test_the_send_page_sends_to_the_checked_recipients(client, qualified_episode, letter, doctor, no_delay, pfi):
    document = letter(qualified_episode)
    gp = CorrespondentFactory(mss_address="gp@medecin.mssante.fr")
    client.force_login(doctor)
    url = reverse("dmp:send_mss", args=[document.pk])

    assert 'data-testid="recipients"' in client.get(url).content.decode()
    refused = client.post(url, {"mss_recipients": "pas-une-adresse"})
    assert refused.status_code == 200 and "Adresse invalide" in refused.content.decode()
    client.post(url, {"correspondents": [gp.pk]})

    order = FeedingOrder.objects.get(kind=OrderKind.ADDITIONAL)
    assert order.mss_recipients == ["gp@medecin.mssante.fr"] and order.created_by == doctor


def test_deleting_a_mailed_document_tells_its_recipients_when_asked(
    client, qualified_episode, letter, doctor, no_delay, pfi
):
    document = letter(qualified_episode, recipients=Recipients((PRO_ADDRESS,), patient=True))
    assert _run_latest(document).state == OrderState.SENT
    client.force_login(doctor)
    page = client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    assert 'data-testid="notify-mss"' in page and "ses 2 destinataires" in page

    client.post(reverse("documents:delete", args=[document.pk]), {"notify_mss": "1"})

    notice = _run_latest(document, purpose=Purpose.DELETE)
    assert notice.state == OrderState.SENT
    received = PfiMessage.objects.filter(ack_code="AA").latest("pk")
    assert received.trigger == "T04" and received.mss_recipients == [PRO_ADDRESS, "279035121518989@patient.mssante.fr"]


def test_a_document_never_mailed_offers_no_notice(client, qualified_episode, letter, doctor):
    document = letter(qualified_episode)
    client.force_login(doctor)

    page = client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    client.post(reverse("documents:delete", args=[document.pk]), {"notify_mss": "1"})

    assert 'data-testid="notify-mss"' not in page
    assert not FeedingOrder.objects.filter(document=document, channel="mss").exists()


def test_each_sending_records_whether_it_carried_a_qualified_ins(qualified_episode, care_unit, letter, no_delay, pfi):
    """The statistics' fact (issue 13 §3): decided at the first send from the version sent, kept after."""
    qualified = letter(qualified_episode, recipients=Recipients((PRO_ADDRESS,)))
    provisional = letter(EpisodeFactory(care_unit=care_unit), recipients=Recipients((PRO_ADDRESS,)))

    assert (_run_latest(qualified).ins_qualified, _run_latest(provisional).ins_qualified) == (True, False)
    assert FeedingOrder.objects.filter(document=provisional, channel="dmp").get().ins_qualified is None  # not sent

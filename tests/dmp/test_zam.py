"""ZAM business acknowledgements from the PFI, through the HL7 engine: national samples and our own messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from dmp.models import BusinessAck, FeedingOrder, OrderState
from documents.models import ExportState
from documents.services import Recipients
from dpi.hl7.ack import parse_ack
from dpi.hl7.engine import process_inbound
from tests.support.feeding import PRO_ADDRESS

pytestmark = pytest.mark.django_db

SAMPLES = Path(settings.SAMPLES_DIR) / "hl7v2"
STATUS = {"Z01": "ACK_RECEPTION_DMP^Accusé de réception DMP", "Z02": "ACK_RECEPTION_MSS^Accusé de réception MSSanté",
          "Z03": "ACK_LECTURE_MSS^Accusé de lecture"}  # fmt: skip


def zam(event: str, control_id: str, *, ok: bool = True, recipient: str = "", error: str = "", msh10="Z1") -> str:
    segments = [
        f"MSH|^~\\&|PFI|CHU|DPI|CHU|20261122101010||ZAM^{event}^ZAM_Z01|{msh10}|P|2.6|||||FRA|UNICODE UTF-8|||"
        "2.1^CISIS_CDA_HL7_V2",
        "EVN||20261122101000",
        f"OBX|1|CWE|{STATUS[event]}^AckMetierZAM|{control_id}|{'Y' if ok else 'N'}^^expandedYes-NoIndicator||||||F|",
    ]
    if recipient:
        kind = "LECTEUR_MSS^Lecteur du courriel MSSanté" if event == "Z03" else "DESTINATAIRE_MSS^Destinataire MSSanté"
        segments.append(f"OBX|2|XTN|{kind}^AckMetierZAM|801234567897|^^X.400^{recipient}||||||F|")
    if error:
        segments.append(f"ERR|||207^Application error^messageErrorCondition|E|{error}")
    return "\r".join(segments) + "\r"


@pytest.fixture
def sent_order(qualified_episode, letter):
    """A DMP order and an MSSanté order the PFI accepted, with the MSH-10 of the national samples (015)."""

    def make(channel: str = "dmp", control_id: str = "015") -> FeedingOrder:
        document = letter(qualified_episode, recipients=Recipients((PRO_ADDRESS,)))
        order = FeedingOrder.objects.get(document=document, channel=channel)
        FeedingOrder.objects.filter(pk=order.pk).update(control_id=control_id, state=OrderState.SENT, trigger="T02")
        return FeedingOrder.objects.get(pk=order.pk)

    return make


def _receive(text: str | bytes):
    raw = text if isinstance(text, bytes) else text.encode()
    return parse_ack(process_inbound(raw, peer="pfi"))


def _line(order: FeedingOrder, channel: str, recipient: str = ""):
    return order.document.exports.get(channel=channel, recipient=recipient)


def test_dmp_receipt_acknowledges_the_dmp_line(sent_order):
    order = sent_order()
    ack = _receive(zam("Z01", "015"))
    assert ack.code == "AA"
    assert BusinessAck.objects.get(order=order).success is True
    assert _line(order, "dmp").state == ExportState.ACKNOWLEDGED


def test_dmp_refusal_fails_the_dmp_line_with_the_dmp_error(sent_order):
    order = sent_order()
    assert _receive(zam("Z01", "015", ok=False, error="DMPClosed^DMP fermé^DMP_ERROR_CODE")).code == "AA"
    line = _line(order, "dmp")
    assert line.state == ExportState.FAILED and line.reason == "DMP fermé (DMPClosed)"


def test_delivery_then_read_receipts_move_the_recipient_line(sent_order):
    order = sent_order("mss", control_id="MSS1")
    _receive(zam("Z02", "MSS1", recipient=PRO_ADDRESS.upper(), msh10="Z2"))
    assert _line(order, "mss_pro", PRO_ADDRESS).state == ExportState.ACKNOWLEDGED
    _receive(zam("Z03", "MSS1", recipient=PRO_ADDRESS, msh10="Z3"))
    assert _line(order, "mss_pro", PRO_ADDRESS).state == ExportState.READ
    assert list(order.acks.values_list("event", flat=True)) == ["Z02", "Z03"]


def test_failed_delivery_gives_the_smtp_reason(sent_order):
    order = sent_order("mss", control_id="MSS2")
    _receive(zam("Z02", "MSS2", ok=False, recipient=PRO_ADDRESS, error="550^Mailbox unavailable^SMTPERRORCODE"))
    line = _line(order, "mss_pro", PRO_ADDRESS)
    assert line.state == ExportState.FAILED and "550" in line.reason


def test_zam_for_a_message_we_never_sent_is_refused_and_kept(db):
    ack = _receive(zam("Z01", "NEVER-SENT"))
    assert ack.code == "AE" and ack.errors[0].code == "207" and "NEVER-SENT" in ack.errors[0].text
    assert not BusinessAck.objects.exists()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (zam("Z01", "015").replace("|Y^^expandedYes", "|MAYBE^^expandedYes"), "103"),
        (zam("Z01", "015").replace("ACK_RECEPTION_DMP", "SOMETHING_ELSE"), "101"),
    ],
)
def test_malformed_zam_is_refused_with_its_error_and_changes_nothing(sent_order, text, code):
    order = sent_order()
    ack = _receive(text)
    assert ack.code == "AE" and ack.errors[0].code == code
    assert not order.acks.exists() and _line(order, "dmp").state == ExportState.PENDING


def test_same_zam_twice_counts_once(sent_order):
    order = sent_order()
    _receive(zam("Z01", "015"))
    _receive(zam("Z01", "015"))
    assert order.acks.count() == 1


@pytest.mark.parametrize(
    ("sample", "channel", "recipient", "state"),
    [
        ("transcda_ZAM_Z01_dmp-receipt_error.er7", "dmp", "", ExportState.FAILED),
        ("transcda_ZAM_Z02_mss-receipt_ok.er7", "mss_pro", PRO_ADDRESS, ExportState.ACKNOWLEDGED),
        ("transcda_ZAM_Z03_mss-read_ok.er7", "mss_pro", PRO_ADDRESS, ExportState.READ),
    ],
)
def test_national_zam_samples_update_the_export_lines(sent_order, sample, channel, recipient, state):
    path = SAMPLES / sample
    if not path.exists():
        pytest.skip(f"national sample {path} not found (set DPI_SAMPLES_DIR)")
    order = sent_order("dmp" if channel == "dmp" else "mss")
    assert _receive(path.read_bytes()).code == "AA"
    assert _line(order, channel, recipient).state == state

"""Every published sample goes through ``hl7_ingest`` and through the listener and gets its ACK."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from dpi.hl7.ack import parse_ack
from dpi.hl7.errors import HL7ProcessingError
from dpi.hl7.models import Message
from dpi.hl7.parsing import read_envelope
from dpi.hl7.registry import get_handler


def expected_rejection(message_type: str) -> str | None:
    """The 200/201 code expected for a type without handler (the apps register theirs over time)."""
    try:
        get_handler(message_type)
    except HL7ProcessingError as exc:
        return exc.detail.code
    return None


def test_every_sample_goes_through_hl7_ingest_and_gets_an_ack(db, sample_files):
    out = StringIO()

    call_command("hl7_ingest", *sample_files, stdout=out)

    assert out.getvalue().count("-- message 1, acquittement :") == len(sample_files)
    for path in sample_files:
        header = read_envelope(path.read_bytes()).header
        message = Message.objects.get(peer=f"file:{path.name}")
        ack = parse_ack(bytes(message.ack))
        assert ack.control_id == header.control_id, path.name
        rejection = expected_rejection(header.message_type)
        if rejection:
            assert (ack.code, ack.errors[0].code) == ("AR", rejection), path.name


def test_every_sample_goes_through_the_listener_and_gets_an_ack(peer, sample_files):
    for path in sample_files:
        header = read_envelope(path.read_bytes()).header

        ack = peer.exchange(path.read_bytes())

        assert ack.control_id == header.control_id, path.name
        rejection = expected_rejection(header.message_type)
        if rejection:
            assert (ack.code, ack.errors[0].code) == ("AR", rejection), path.name
    assert Message.objects.count() == len(sample_files)
    assert not Message.objects.filter(status=Message.Status.RECEIVED).exists()

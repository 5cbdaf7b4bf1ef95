"""``manage.py hl7_ingest``: files split on MSH lines, each message through the engine, ACKs shown."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dpi.hl7.models import Message

pytestmark = pytest.mark.django_db


def test_each_message_of_a_file_is_processed_and_its_ack_printed_one_segment_per_line(tmp_path, adt, adt_handler):
    batch = tmp_path / "batch.hl7"
    batch.write_bytes((adt("1") + adt("2", separator="\n") + adt("3", separator="\r\n")).encode())
    out = StringIO()

    call_command("hl7_ingest", str(batch), stdout=out)

    printed = out.getvalue()
    assert "batch.hl7 : 3 message(s)" in printed
    assert "\r" not in printed
    assert [line for line in printed.splitlines() if line.startswith("MSA|")] == [
        "MSA|AA|1",
        "MSA|AA|2",
        "MSA|AA|3",
    ]
    assert Message.objects.filter(status=Message.Status.PROCESSED, peer="file:batch.hl7").count() == 3


def test_text_before_the_first_msh_is_rejected_as_its_own_message(tmp_path, adt, adt_handler):
    batch = tmp_path / "batch.hl7"
    batch.write_bytes(b"not hl7\n" + adt("1").encode())

    call_command("hl7_ingest", str(batch), stdout=StringIO())

    assert list(Message.objects.order_by("pk").values_list("ack_code", flat=True)) == ["AR", "AA"]


def test_unreadable_file_fails_the_command_after_the_readable_ones(tmp_path, adt, adt_handler):
    batch = tmp_path / "batch.hl7"
    batch.write_text(adt("1"))
    err = StringIO()

    with pytest.raises(CommandError, match="missing.hl7"):
        call_command("hl7_ingest", str(tmp_path / "missing.hl7"), str(batch), stdout=StringIO(), stderr=err)

    assert "missing.hl7" in err.getvalue()
    assert Message.objects.get().status == Message.Status.PROCESSED

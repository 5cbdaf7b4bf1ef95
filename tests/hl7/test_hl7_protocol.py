"""Framing, envelope reading, ACK building and reading, and the handler registry (no database)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from dpi.hl7 import registry
from dpi.hl7.ack import MalformedAck, build_ack, encode_ack, parse_ack
from dpi.hl7.errors import ApplicationError, ErrorCode, ErrorDetail, HL7ProcessingError
from dpi.hl7.mllp import FrameReader, frame
from dpi.hl7.parsing import escape, parse_hl7, read_envelope, split_batch, unescape


def test_frame_reader_yields_frames_whatever_the_chunking():
    stream = b"noise" + frame(b"first") + b"\r\n" + frame(b"se\x1ccond") + frame(b"")
    for size in (1, 2, 3, len(stream)):
        reader = FrameReader(max_bytes=100)
        payloads = [f.payload for i in range(0, len(stream), size) for f in reader.feed(stream[i : i + size])]
        assert payloads == [b"first", b"se\x1ccond", b""]


def test_frame_reader_keeps_the_beginning_of_an_oversized_frame_and_its_size():
    reader = FrameReader(max_bytes=4)

    [received] = reader.feed(frame(b"0123456789"))

    assert (received.payload, received.size, received.truncated) == (b"0123", 10, True)


def test_envelope_reads_header_patient_ids_and_normalises_separators():
    envelope = read_envelope(
        b"\r\nMSH|^~\\&|GAM|CHU-X|DPI|CHU-X|20240101||ADT^A01^ADT_A01|12|P|2.5^FRA^2.11|||||FRA|8859/1\n"
        b"PID|1||000003^^^CHU-X^PI~2790\\S\\35^^^ASIP^INS\r\n\n"
    )

    assert envelope.problem is None
    assert envelope.segments == [
        "MSH|^~\\&|GAM|CHU-X|DPI|CHU-X|20240101||ADT^A01^ADT_A01|12|P|2.5^FRA^2.11|||||FRA|8859/1",
        "PID|1||000003^^^CHU-X^PI~2790\\S\\35^^^ASIP^INS",
    ]
    header = envelope.header
    assert (header.message_type, header.control_id, header.version, header.charset) == (
        "ADT^A01",
        "12",
        "2.5",
        "8859/1",
    )
    assert envelope.patient_ids == "000003 2790^35"


def test_escape_and_unescape_are_inverse():
    value = "a|b^c&d~e\\f"

    assert escape(value) == "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f"
    assert unescape(escape(value)) == value


def test_split_batch_cuts_on_lines_starting_with_msh():
    data = b"junk\nMSH|^~\\&|A\rPID|1\rMSH|^~\\&|B\nPID|MSH|not a start\n\nMSH|^~\\&|C"

    assert split_batch(data) == [
        b"junk\n",
        b"MSH|^~\\&|A\rPID|1\r",
        b"MSH|^~\\&|B\nPID|MSH|not a start\n\n",
        b"MSH|^~\\&|C",
    ]


def test_prt_segment_pre_adopted_from_v2_9_is_parsed_in_v2_6():
    envelope = read_envelope(
        b"MSH|^~\\&|RIS|ORG|PFI|ORG|20240101||MDM^T02^MDM_T02|1|P|2.6\r"
        b"PRT||UC||SB^^participation|801234564895^Eric^Thomas"
    )

    message = parse_hl7(envelope.text)

    assert message.prt.prt_5.xcn_2.to_er7() == "Eric"


def test_ack_answers_with_swapped_applications_and_an_err_per_error():
    header = read_envelope(
        b"MSH|^~\\&|PFI|CHU_X|DPI|CHU_Y|20231003||MDM^T02^MDM_T02|12345|P|2.6|||AL|AL|FRA|8859/15"
    ).header
    error = ErrorDetail(
        code="207",
        text="Patient inconnu | introuvable",
        location="PID^1^3",
        application_error=ApplicationError("902", "Identifiant de patient inconnu"),
    )

    segments = build_ack(header, code="AE", errors=[error]).split("\r")

    msh = segments[0].split("|")
    assert msh[2:6] == ["DPI", "CHU_Y", "PFI", "CHU_X"]
    assert (msh[8], msh[10], msh[11], msh[16], msh[17]) == ("ACK^T02^ACK", "P", "2.6", "FRA", "8859/15")
    assert segments[1] == "MSA|AE|12345"
    assert segments[2] == (
        "ERR||PID^1^3|207^Application internal error^HL70357|E|902^Identifiant de patient inconnu"
        "^applicationErrorCode|||Patient inconnu \\F\\ introuvable"
    )
    assert segments[3] == ""  # every segment ends with CR


def test_ack_of_an_unreadable_message_has_an_empty_msa_2_and_default_version():
    header = read_envelope(b"\x00\xff garbage").header

    ack = parse_ack(encode_ack(build_ack(header, code="AR"), header))

    assert (ack.code, ack.control_id) == ("AR", "")
    assert build_ack(header, code="AR").split("\r")[0].split("|")[11] == "2.5"


def test_ack_is_encoded_in_the_request_charset():
    header = read_envelope(b"MSH|^~\\&|GAM|CHU-X|DPI|CHU-X|20240101||ADT^A01|1|P|2.5|||||FRA|8859/1").header
    error = ErrorDetail(code="207", text="Échec")

    assert "Échec".encode("latin-1") in encode_ack(build_ack(header, code="AE", errors=[error]), header)


def test_parse_ack_reads_code_control_id_and_errors():
    ack = parse_ack(
        b"MSH|^~\\&|PFI|CHU_X|SIL|CHU_X|202310030831||ACK^R01^ACK|12347|P|2.5|||||FRA|8859/15\r"
        b"MSA|AE|12345\r"
        b"ERR||MSH^1^12|203^Unsupported version^messageErrorCondition|E\r"
    )

    assert (ack.code, ack.control_id, ack.accepted) == ("AE", "12345", False)
    assert ack.errors == (ErrorDetail(code="203", text="Unsupported version", location="MSH^1^12", severity="E"),)


def test_parse_ack_reads_the_sample_acks(sample_files):
    for path in [p for p in sample_files if "_ACK_" in p.name]:
        ack = parse_ack(path.read_bytes())
        assert (ack.code, ack.control_id, ack.accepted) == ("AA", "015", True)


@pytest.mark.parametrize("data", [b"", b"MSA|AA|1", b"MSH|^~\\&|A|B|C|D|1||ACK|2|P|2.5\rERR|||207", b"\xff\x00"])
def test_parse_ack_refuses_what_is_not_an_ack(data):
    with pytest.raises(MalformedAck):
        parse_ack(data)


def test_processing_error_checks_its_ack_code_and_severity():
    with pytest.raises(ValueError, match="ack_code"):
        HL7ProcessingError(ErrorCode.DATA_TYPE, "x", ack_code="AA")
    with pytest.raises(ValueError, match="severity"):
        HL7ProcessingError(ErrorCode.DATA_TYPE, "x", severity="X")


def test_a_message_type_cannot_get_two_handlers():
    def first(msg):
        return None

    def second(msg):
        return None

    with registry.registered(first, "ZZT^Z01"), pytest.raises(ImproperlyConfigured):
        registry.register("ZZT^Z01")(second)


def test_temporary_registration_restores_the_previous_handler():
    def permanent(msg):
        return None

    def temporary(msg):
        return None

    with registry.registered(permanent, "ZZT^Z02"):
        with registry.registered(temporary, "ZZT^Z02"):
            assert registry.get_handler("ZZT^Z02") is temporary
        assert registry.get_handler("ZZT^Z02") is permanent
    with pytest.raises(HL7ProcessingError) as raised:
        registry.get_handler("ZZT^Z02")
    assert (raised.value.detail.code, raised.value.ack_code) == ("200", "AR")

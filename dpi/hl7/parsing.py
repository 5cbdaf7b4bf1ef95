"""Reading HL7 v2 (ER7) bytes: charset, segments, the MSH header, and the hl7apy message.

The envelope (charset, segments, header) is read by hand so that any input, however broken,
gives enough to journal it and to answer an acknowledgement; only then is the message parsed
with hl7apy, tolerantly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import hl7apy
from django.conf import settings
from django.utils.translation import gettext as _
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message as HL7Message
from hl7apy.exceptions import InvalidName
from hl7apy.parser import parse_message

from dpi.hl7.errors import ErrorCode, ErrorDetail, HL7ProcessingError

# HL7 table 0211 (MSH-18) -> Python codec. An empty MSH-18 means HL7_DEFAULT_CHARSET.
CHARSETS = {
    "UNICODE UTF-8": "utf-8",
    "UTF-8": "utf-8",
    "8859/1": "latin-1",
    "8859/15": "iso8859-15",
    "ASCII": "ascii",
}

# Segments the CI-SIS volets pre-adopt from HL7 v2.9 inside v2.5/v2.6 messages (PRT), taken
# from the oldest hl7apy library that defines them.
PRE_ADOPTED_SEGMENTS = {"PRT": "2.7"}

_SEGMENT_SEPARATOR = re.compile(r"\r\n|\r|\n")
_SEGMENT_NAME = re.compile(r"[A-Z][A-Z0-9]{2}")
_FIRST_LINE = re.compile(rb"[\r\n]")
_MESSAGE_START = re.compile(rb"(?:\A|(?<=[\r\n]))MSH\|")
_ESCAPES = {"F": "field", "S": "component", "T": "subcomponent", "R": "repetition", "E": "escape"}


def _pre_adopt_segments() -> None:
    for name, source_version in PRE_ADOPTED_SEGMENTS.items():
        reference = hl7apy.load_reference(name, "Segment", source_version)
        for version in hl7apy.SUPPORTED_LIBRARIES:
            if version < source_version:
                hl7apy.load_library(version).SEGMENTS.setdefault(name, reference)


_pre_adopt_segments()

# Segment names a message may carry: those of the HL7 versions hl7apy knows (with the pre-adopted
# ones), plus any Z-segment.
KNOWN_SEGMENTS = frozenset(
    name for version in hl7apy.SUPPORTED_LIBRARIES for name in hl7apy.load_library(version).SEGMENTS
)


def codec_for(charset: str) -> str | None:
    """The Python codec for an MSH-18 value; None when the value is not in table 0211."""
    label = charset.strip().upper() or settings.HL7_DEFAULT_CHARSET.upper()
    return CHARSETS.get(label)


def split_segments(text: str) -> list[str]:
    """Segments separated by CR, LF or CRLF, trimmed, without empty lines."""
    return [segment for line in _SEGMENT_SEPARATOR.split(text) if (segment := line.strip())]


def split_batch(data: bytes) -> list[bytes]:
    """Split a file into messages on lines starting with ``MSH|``; leading text is its own message."""
    starts = [match.start() for match in _MESSAGE_START.finditer(data)]
    bounds = [0, *starts] if not starts or starts[0] else starts
    chunks = [data[begin:end] for begin, end in zip(bounds, [*bounds[1:], len(data)], strict=True)]
    return [chunk for chunk in chunks if chunk.strip()]


@dataclass(frozen=True)
class Encoding:
    """The delimiters declared in MSH-1 and MSH-2."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"

    @classmethod
    def from_msh(cls, separator: str, characters: str) -> Encoding:
        component, repetition, escape, subcomponent = characters[:4]
        return cls(separator, component, repetition, escape, subcomponent)


STANDARD_ENCODING = Encoding()


def escape(value: str, encoding: Encoding = STANDARD_ENCODING) -> str:
    """Escape delimiters in a value written into an ER7 field; line breaks become spaces."""
    value = value.replace(encoding.escape, f"{encoding.escape}E{encoding.escape}")
    for code in "FSTR":
        char = getattr(encoding, _ESCAPES[code])
        value = value.replace(char, f"{encoding.escape}{code}{encoding.escape}")
    return " ".join(value.splitlines())


def unescape(value: str, encoding: Encoding = STANDARD_ENCODING) -> str:
    """Resolve the delimiter escapes (\\F\\ \\S\\ \\T\\ \\R\\ \\E\\); other escapes are kept as sent."""
    esc = encoding.escape
    if esc not in value:
        return value
    pattern = re.compile(f"{re.escape(esc)}([FSTRE]){re.escape(esc)}")
    return pattern.sub(lambda match: getattr(encoding, _ESCAPES[match.group(1)]), value)


@dataclass(frozen=True)
class Header:
    """The MSH segment, by field number: ``fields[n]`` is MSH-n as sent (ER7, escaped)."""

    fields: tuple[str, ...] = ()
    encoding: Encoding = STANDARD_ENCODING

    def get(self, number: int) -> str:
        return self.fields[number] if number < len(self.fields) else ""

    def component(self, number: int, position: int) -> str:
        parts = self.get(number).split(self.encoding.repetition)[0].split(self.encoding.component)
        return parts[position - 1] if position <= len(parts) else ""

    @property
    def sending_application(self) -> str:
        return self.get(3)

    @property
    def sending_facility(self) -> str:
        return self.get(4)

    @property
    def receiving_application(self) -> str:
        return self.get(5)

    @property
    def receiving_facility(self) -> str:
        return self.get(6)

    @property
    def message_code(self) -> str:
        return self.component(9, 1)

    @property
    def trigger_event(self) -> str:
        return self.component(9, 2)

    @property
    def message_type(self) -> str:
        """``code^trigger`` (MSH-9.1^MSH-9.2), the key of the handler registry."""
        return "^".join(part for part in (self.message_code, self.trigger_event) if part)

    @property
    def control_id(self) -> str:
        return self.get(10)

    @property
    def processing_id(self) -> str:
        return self.component(11, 1)

    @property
    def version(self) -> str:
        return self.component(12, 1)

    @property
    def country(self) -> str:
        return self.get(17)

    @property
    def charset(self) -> str:
        return self.get(18).split(self.encoding.repetition)[0]


@dataclass(frozen=True)
class Envelope:
    """What can be read from any bytes: decoded text, segments, header, and the first problem found.

    ``text`` holds the segments joined by CR; they are split again only when asked, so that the
    envelope of a large message holds its text once, not twice.
    """

    raw: bytes
    text: str = ""
    header: Header = field(default_factory=Header)
    problem: ErrorDetail | None = None

    @property
    def segments(self) -> list[str]:
        return self.text.split("\r") if self.text else []

    @property
    def patient_ids(self) -> str:
        """CX-1 of every PID-3 repetition, space separated (``"000003 279035121518989"``)."""
        pid = self._first_segment("PID")
        encoding = self.header.encoding
        fields = pid.split(encoding.field)
        if len(fields) < 4:
            return ""
        identifiers = (rep.split(encoding.component)[0] for rep in fields[3].split(encoding.repetition))
        return " ".join(unescape(identifier, encoding) for identifier in identifiers if identifier)

    def _first_segment(self, prefix: str) -> str:
        """The first segment starting with ``prefix``, found without splitting the whole text."""
        text = self.text
        start = 0 if text.startswith(prefix) else text.find(f"\r{prefix}") + 1
        if start == 0 and not text.startswith(prefix):
            return ""
        end = text.find("\r", start)
        return text[start : end if end >= 0 else len(text)]


def read_envelope(raw: bytes) -> Envelope:
    """Decode the bytes with the charset MSH-18 declares and read the header; never raises."""
    charset = declared_charset(raw)
    codec = codec_for(charset)
    if codec is None:
        text = raw.decode("latin-1")
        charset_problem = ErrorDetail(
            str(ErrorCode.TABLE_VALUE_NOT_FOUND),
            _("Jeu de caractères inconnu : %(charset)s") % {"charset": charset},
            "MSH^1^18",
        )
    else:
        text, charset_problem = _decode(raw, codec, charset)
    segments = split_segments(text)
    header, header_problem = _read_header(segments)
    problem = header_problem or charset_problem or _required_field_problem(header)
    text = "\r".join(segments)
    del segments  # the envelope keeps the text only
    return Envelope(raw=raw, text=text, header=header, problem=problem)


def decode_leniently(raw: bytes) -> str:
    """Text of a message or ACK for display: declared charset, undecodable bytes replaced."""
    codec = codec_for(declared_charset(raw)) or "latin-1"
    return raw.decode(codec, errors="replace")


def declared_charset(raw: bytes) -> str:
    """The MSH-18 value of a message, read before decoding it (the MSH line is ASCII)."""
    first_line = _FIRST_LINE.split(raw.lstrip(), maxsplit=1)[0].decode("latin-1")
    header, problem = _read_header([first_line])
    return "" if problem else header.charset


def _decode(raw: bytes, codec: str, charset: str) -> tuple[str, ErrorDetail | None]:
    try:
        return raw.decode(codec), None
    except UnicodeDecodeError as exc:
        problem = ErrorDetail(
            str(ErrorCode.DATA_TYPE),
            _("Octets invalides pour le jeu de caractères déclaré (%(charset)s) à la position %(position)d")
            % {"charset": charset or settings.HL7_DEFAULT_CHARSET, "position": exc.start},
            "MSH^1^18",
        )
        return raw.decode(codec, errors="replace"), problem


def _read_header(segments: list[str]) -> tuple[Header, ErrorDetail | None]:
    line = segments[0] if segments else ""
    if not line.startswith("MSH"):
        text = _("Message vide") if not line else _("Le message ne commence pas par un segment MSH")
        return Header(), ErrorDetail(str(ErrorCode.SEGMENT_SEQUENCE), text, "MSH^1")
    separator = line[3:4]
    if not separator or separator.isalnum() or separator.isspace():
        return Header(), ErrorDetail(str(ErrorCode.DATA_TYPE), _("Séparateur de champ invalide"), "MSH^1^1")
    parts = line.split(separator)
    characters = parts[1] if len(parts) > 1 else ""
    if not _valid_encoding_characters(characters, separator):
        return Header(), ErrorDetail(str(ErrorCode.DATA_TYPE), _("Caractères d'encodage invalides"), "MSH^1^2")
    fields = (parts[0], separator, *parts[1:])
    return Header(fields=fields, encoding=Encoding.from_msh(separator, characters)), None


def _valid_encoding_characters(characters: str, separator: str) -> bool:
    delimiters = characters + separator
    return (
        4 <= len(characters) <= 5
        and not any(char.isalnum() or char.isspace() for char in characters)
        and len(set(delimiters)) == len(delimiters)
    )


def _required_field_problem(header: Header) -> ErrorDetail | None:
    required = ((9, header.message_code), (10, header.control_id), (12, header.version))
    for number, value in required:
        if not value:
            return ErrorDetail(
                str(ErrorCode.REQUIRED_FIELD_MISSING),
                _("Champ obligatoire absent : MSH-%(number)d") % {"number": number},
                f"MSH^1^{number}",
            )
    if header.version not in hl7apy.SUPPORTED_LIBRARIES:
        return ErrorDetail(
            str(ErrorCode.UNSUPPORTED_VERSION),
            _("Version HL7 non prise en charge : %(version)s") % {"version": header.version},
            "MSH^1^12",
        )
    return None


def parse_hl7(text: str) -> HL7Message:
    """The hl7apy tree of a message, parsed tolerantly (on demand: handlers read fields with
    :func:`read_segments`, 50 times faster); a message hl7apy cannot read raises AR."""
    try:
        return parse_message(text, validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=False)
    except InvalidName as exc:
        raise HL7ProcessingError(
            ErrorCode.SEGMENT_SEQUENCE,
            _("Segment inconnu : %(name)s") % {"name": exc.name},
            location=f"{exc.name}^1",
            ack_code="AR",
        ) from exc
    except Exception as exc:  # hl7apy raises assorted exception types on malformed input
        raise HL7ProcessingError(
            ErrorCode.DATA_TYPE, _("Message illisible : %(error)s") % {"error": exc}, ack_code="AR"
        ) from exc


@dataclass(frozen=True)
class Segment:
    """One ER7 segment: ``fields[n]`` is field n as sent (escaped); ``fields[0]`` is the name.

    For MSH, ``fields[1]`` is the field separator and ``fields[2]`` the encoding characters,
    so that numbers match the HL7 field numbers.
    """

    name: str
    fields: tuple[str, ...]


def read_segments(text: str, encoding: Encoding) -> list[Segment]:
    """Split a message into segments and fields without building a tree.

    A segment whose name is neither an HL7 segment nor a Z-segment makes the message
    unreadable (AR 100), as hl7apy would.
    """
    segments = []
    for line in split_segments(text):
        parts = line.split(encoding.field)
        name = parts[0]
        if not _SEGMENT_NAME.fullmatch(name) or not (name.startswith("Z") or name in KNOWN_SEGMENTS):
            raise HL7ProcessingError(
                ErrorCode.SEGMENT_SEQUENCE,
                _("Segment inconnu : %(name)s") % {"name": name[:20]},
                location=f"{name[:3]}^1",
                ack_code="AR",
            )
        fields = (name, encoding.field, *parts[1:]) if name == "MSH" else tuple(parts)
        segments.append(Segment(name, fields))
    return segments


def field_values(segment: Segment, spec: str, encoding: Encoding = STANDARD_ENCODING) -> list[str]:
    """One field of a segment, one unescaped value per repetition.

    ``spec`` is ``"3"`` (whole field), ``"3.1"`` (component) or ``"3.4.2"`` (subcomponent); an
    empty field has no repetition.
    """
    number, *path = (int(part) for part in spec.split("."))
    value = segment.fields[number] if number < len(segment.fields) else ""
    if not value:
        return []
    repetitions = [value] if segment.name == "MSH" and number <= 2 else value.split(encoding.repetition)
    return [unescape(_pick(repetition, path, encoding), encoding) for repetition in repetitions]


def _pick(value: str, path: list[int], encoding: Encoding) -> str:
    for position, separator in zip(path, (encoding.component, encoding.subcomponent), strict=False):
        parts = value.split(separator)
        value = parts[position - 1] if 0 < position <= len(parts) else ""
    return value

"""Reading PAM.fr 2.11 ADT messages into plain data (no database access here).

Field positions follow ``../shared/spec/hl7v2-interfaces.md`` section 2; each reader takes
the :class:`~dpi.hl7.registry.InboundMessage` and returns a frozen dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils import timezone

from dpi.hl7.parsing import field_values as segment_field_values
from dpi.hl7.registry import ErrorCode, HL7ProcessingError, InboundMessage

HL7_NULL = '""'


def parse_ts(value: str) -> datetime | None:
    """An HL7 TS (``YYYY[MM[DD[HH[MM[SS]]]]]``, offset ignored) as an aware datetime in Paris time."""
    digits = value.split("+")[0].split("-")[0].split(".")[0].strip()
    if len(digits) < 8 or not digits.isdigit():
        return None
    digits = digits.ljust(14, "0")[:14]
    try:
        naive = datetime.strptime(digits, "%Y%m%d%H%M%S")  # noqa: DTZ007 (made aware just below)
    except ValueError:
        return None
    return timezone.make_aware(naive)


def parse_date(value: str) -> date | None:
    moment = parse_ts(value)
    return moment.date() if moment else None


def _authority(name: str, universal_id: str) -> str:
    """The assigning authority kept with an identifier: its universal id (FINESS, OID) or its name."""
    return universal_id or name


@dataclass(frozen=True)
class Identifier:
    value: str
    authority: str
    authority_name: str
    type_code: str

    @property
    def is_null(self) -> bool:
        return self.value == HL7_NULL


def _identifiers(msg: InboundMessage, segment: str, number: int, occurrence: int = 0) -> list[Identifier]:
    found = msg.segments(segment)
    if len(found) <= occurrence:
        return []
    seg = found[occurrence]

    def column(spec: str) -> list[str]:
        return segment_field_values(seg, f"{number}.{spec}", msg.header.encoding)

    return [
        Identifier(value=value, authority=_authority(name, oid), authority_name=name, type_code=kind)
        for value, name, oid, kind in zip(column("1"), column("4.1"), column("4.2"), column("5"), strict=True)
        if value
    ]


@dataclass(frozen=True)
class Identity:
    """The PID segment (and ZFD complement) of a PAM message."""

    ipp: Identifier | None
    ins: Identifier | None
    birth_name: str
    first_names: str
    used_name: str | None  # None: not sent; "": deleted (HL7 null)
    used_first_name: str | None
    birth_date: date | None
    sex: str
    birth_place_insee: str
    nda: str
    reliability: list[str] = field(default_factory=list)
    acquisition_mode: str = ""
    insi_called_at: date | None = None
    id_document: str = ""

    @property
    def reliability_status(self) -> str:
        return self.reliability[0] if self.reliability else ""


def read_identity(msg: InboundMessage) -> Identity:
    if msg.segment("PID") is None:
        raise HL7ProcessingError(ErrorCode.SEGMENT_SEQUENCE, "Segment PID absent.", location="PID")
    identifiers = _identifiers(msg, "PID", 3)
    ipp = next((i for i in identifiers if i.type_code == "PI"), None)
    ins = next((i for i in identifiers if i.type_code == "INS"), None)
    names = _names(msg)
    birth = names.get("L", ("", "", ""))
    used = names.get("D")
    places = zip(msg.values("PID-11.7"), msg.values("PID-11.9"), strict=True)
    sex = msg.value("PID-8").upper()
    return Identity(
        ipp=ipp,
        ins=ins,
        birth_name=birth[0],
        first_names=birth[2] or birth[1],
        used_name=None if used is None else ("" if used[0] == HL7_NULL else used[0]),
        used_first_name=None if used is None else used[1],
        birth_date=parse_date(msg.value("PID-7")),
        sex=sex if sex in {"F", "M"} else "U",
        birth_place_insee=next((code for kind, code in places if kind == "BDL" and code), ""),
        nda=msg.value("PID-18.1"),
        reliability=[code for code in msg.values("PID-32") if code],
        acquisition_mode=msg.value("ZFD-5"),
        insi_called_at=parse_date(msg.value("ZFD-6")),
        id_document=msg.value("ZFD-7"),
    )


def _names(msg: InboundMessage) -> dict[str, tuple[str, str, str]]:
    """PID-5 repetitions by name type (XPN-7): family name, first given name, list of given names."""
    columns = [msg.values(f"PID-5.{n}") for n in (1, 2, 3, 7)]
    names: dict[str, tuple[str, str, str]] = {}
    for family, given, given_list, kind in zip(*columns, strict=True):
        names.setdefault(kind or "L", (family, given, given_list))
    return names


@dataclass(frozen=True)
class Visit:
    """PV1: the visit (venue) the message is about."""

    patient_class: str
    visit_number: str
    visit_authority: str
    lodging_unit: str
    admitted_at: datetime | None
    discharged_at: datetime | None


def read_visit(msg: InboundMessage) -> Visit | None:
    """The PV1 visit, or None when the message carries none (PV1-2 = N or no PV1-19)."""
    if msg.segment("PV1") is None or not msg.value("PV1-19.1") or msg.value("PV1-2") == "N":
        return None
    return Visit(
        patient_class=msg.value("PV1-2"),
        visit_number=msg.value("PV1-19.1"),
        visit_authority=_authority(msg.value("PV1-19.4.1"), msg.value("PV1-19.4.2")),
        lodging_unit=msg.value("PV1-3.1"),
        admitted_at=parse_ts(msg.value("PV1-44")),
        discharged_at=parse_ts(msg.value("PV1-45")),
    )


@dataclass(frozen=True)
class UnitRef:
    """A care unit named in a ZBE XON: code (XON-10), label (XON-1), FINESS of its authority (XON-6.2)."""

    code: str
    label: str
    finess: str


@dataclass(frozen=True)
class MovementData:
    """ZBE: one movement with its identifier, action and units."""

    movement_id: str
    started_at: datetime | None
    action: str  # INSERT, CANCEL, UPDATE
    historic: bool
    original_trigger: str
    medical_unit: UnitRef | None
    nursing_unit: UnitRef | None
    nature: str


def _unit(msg: InboundMessage, number: int) -> UnitRef | None:
    code = msg.value(f"ZBE-{number}.10")
    if not code:
        return None
    return UnitRef(code=code, label=msg.value(f"ZBE-{number}.1"), finess=msg.value(f"ZBE-{number}.6.2"))


def read_movement(msg: InboundMessage) -> MovementData | None:
    if msg.segment("ZBE") is None or not msg.value("ZBE-1.1"):
        return None
    return MovementData(
        movement_id=msg.value("ZBE-1.1"),
        started_at=parse_ts(msg.value("ZBE-2")),
        action=msg.value("ZBE-4").upper(),
        historic=msg.value("ZBE-5").upper() == "Y",
        original_trigger=msg.value("ZBE-6"),
        medical_unit=_unit(msg, 7),
        nursing_unit=_unit(msg, 8),
        nature=msg.value("ZBE-9.1"),
    )


@dataclass(frozen=True)
class DmpConsent:
    """ZFA: DMP status (1-3) and the two consent subjects (9-10 feeding, 11-12 consultation)."""

    dmp_status: str
    dmp_status_at: datetime | None
    dmp_closed_at: datetime | None
    feeding: str
    feeding_at: datetime | None
    consultation: str
    consultation_at: datetime | None


def read_dmp_consent(msg: InboundMessage) -> DmpConsent | None:
    if msg.segment("ZFA") is None:
        return None
    return DmpConsent(
        dmp_status=msg.value("ZFA-1").upper(),
        dmp_status_at=parse_ts(msg.value("ZFA-2")),
        dmp_closed_at=parse_ts(msg.value("ZFA-3")),
        feeding=msg.value("ZFA-9.1").upper(),
        feeding_at=parse_ts(msg.value("ZFA-10")),
        consultation=msg.value("ZFA-11.1").upper(),
        consultation_at=parse_ts(msg.value("ZFA-12")),
    )


def read_merge_identifiers(msg: InboundMessage) -> list[Identifier]:
    """MRG-1: the identifiers of the absorbed (A40) or former (A47) identity."""
    if msg.segment("MRG") is None:
        raise HL7ProcessingError(ErrorCode.SEGMENT_SEQUENCE, "Segment MRG absent.", location="MRG")
    return _identifiers(msg, "MRG", 1)


def event_time(msg: InboundMessage) -> datetime:
    """When the event happened: EVN-6 (occurred), else EVN-2 (recorded), else now."""
    return parse_ts(msg.value("EVN-6")) or parse_ts(msg.value("EVN-2")) or timezone.now()

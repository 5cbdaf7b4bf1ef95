"""The team's own PAM.fr 2.11 messages, built field by field (the national samples are used as they are
in test_pam_samples.py)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

FINESS_EJ = "010000016"
FINESS_EG = "020000001"
INS_NIR_OID = "1.2.250.1.213.1.4.8"
INS_TEST_OID = "1.2.250.1.213.1.4.10"
VALID_NIR = "279035121518989"  # key 89 checks


def segment(name: str, fields: dict[int, str]) -> str:
    """``name|f1|f2...`` with the given fields at their HL7 positions (1-based)."""
    size = max(fields) if fields else 0
    return "|".join([name, *(fields.get(i, "") for i in range(1, size + 1))])


@dataclass(frozen=True)
class Adt:
    trigger: str = "A01"
    control_id: str = "1"
    ipp: str = "000100"
    ins: str | None = VALID_NIR
    ins_oid: str = INS_NIR_OID
    reliability: str = "VALI"
    birth_name: str = "MARTIN"
    first_name: str = "JEANNE"
    first_names: str = "JEANNE MARIE"
    used_name: str | None = None
    used_first_name: str = ""
    birth_date: str = "19800504"
    sex: str = "F"
    birth_place: str = "75056"
    nda: str = "NDA100"
    visit: str | None = "V100"
    patient_class: str = "I"
    admitted_at: str = "20260110083000"
    discharged_at: str = ""
    movement_id: str | None = "M1"
    movement_at: str = "20260110083000"
    action: str = "INSERT"
    original_trigger: str = ""
    unit: str = "UF01"
    unit_finess: str = FINESS_EG
    nature: str = "HMS"
    zfa: tuple[str, str, str] | None = ("ACTIF", "INO", "IC")
    zfa_at: str = "20260110090000"
    acquisition: str = "INSI"
    mrg: str | None = None
    structure: str = ""
    charset: str = "UNICODE UTF-8"
    separator: str = "\r"
    extra_segments: tuple[str, ...] = field(default_factory=tuple)

    def but(self, **changes: object) -> Adt:
        return replace(self, **changes)

    @property
    def msh(self) -> str:
        structure = self.structure or {"A28": "ADT_A05", "A31": "ADT_A05", "A40": "ADT_A39", "A47": "ADT_A30"}.get(
            self.trigger, "ADT_A01"
        )
        return (
            f"MSH|^~\\&|GAM|CHU|DPI|CHU|20260110090000||ADT^{self.trigger}^{structure}|{self.control_id}|P|"
            f"2.5^FRA^2.11|||||FRA|{self.charset}"
        )

    @property
    def pid(self) -> str:
        ids = [f"{self.ipp}^^^CHU&{FINESS_EJ}&M^PI"]
        if self.ins is not None:
            ids.append(f"{self.ins}^^^ASIP-SANTE-INS-NIR&{self.ins_oid}&ISO^INS")
        names = [f"{self.birth_name}^{self.first_name}^{self.first_names}^^^^L"]
        if self.used_name is not None:
            names.insert(0, f"{self.used_name}^{self.used_first_name}^^^^^D")
        return segment(
            "PID",
            {
                1: "1",
                3: "~".join(ids),
                5: "~".join(names),
                7: self.birth_date,
                8: self.sex,
                11: f"^^^^^FRA^BDL^^{self.birth_place}" if self.birth_place else "",
                18: f"{self.nda}^^^CHU&{FINESS_EJ}&M^AN" if self.nda else "",
                32: self.reliability,
            },
        )

    @property
    def pv1(self) -> str:
        if self.visit is None:
            return segment("PV1", {1: "1", 2: "N"})
        return segment(
            "PV1",
            {
                1: "1",
                2: self.patient_class,
                3: f"{self.unit}^^^CHU&{self.unit_finess}&N",
                19: f"{self.visit}^^^CHU&{FINESS_EJ}&M^VN",
                44: self.admitted_at,
                45: self.discharged_at,
            },
        )

    @property
    def zbe(self) -> str:
        unit = f"Unité {self.unit}^^^^^CHU&{self.unit_finess}&N^UF^^^{self.unit}"
        return segment(
            "ZBE",
            {
                1: f"{self.movement_id}^CHU^{FINESS_EJ}",
                2: self.movement_at,
                4: self.action,
                5: "N",
                6: self.original_trigger,
                7: unit,
                8: unit,
                9: self.nature,
            },
        )

    def segments(self) -> list[str]:
        lines = [self.msh, "EVN||20260110090000", self.pid]
        if self.mrg is not None:
            lines.append(f"MRG|{self.mrg}")
        lines.append(self.pv1)
        if self.movement_id is not None and self.visit is not None:
            lines.append(self.zbe)
        if self.zfa is not None:
            status, feeding, consultation = self.zfa
            at = self.zfa_at
            lines.append(f"ZFA|{status}|{at}|||||||{feeding}|{at if feeding != 'NA' else ''}|"
                         f"{consultation}|{at if consultation != 'NA' else ''}")  # fmt: skip
        lines.append(f"ZFD|||N|N|{self.acquisition}|20250101||")
        lines.extend(self.extra_segments)
        return lines

    def text(self) -> str:
        return self.separator.join(self.segments()) + self.separator

    def encode(self) -> bytes:
        codec = "latin-1" if self.charset.startswith("8859") else "utf-8"
        return self.text().encode(codec)

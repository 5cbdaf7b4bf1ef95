"""The MDM^T02/T10/T04 the DPI builds for the PFI (volet "Transmission de document(s) CDA en HL7v2" 2.1)."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime

import pytest

from dmp.mdm import (
    METADATA,
    PatientPart,
    Person,
    SenderPart,
    Transmission,
    VisitPart,
    build_mdm,
    patient_mss_address,
)
from dmp.transmission import assigning_authority
from documents.cda import InstanceId
from dpi.hl7.parsing import STANDARD_ENCODING, field_values, read_segments
from tests.factories import EpisodeFactory

INS = InstanceId("1.2.250.1.213.1.4.10", "279035121518989")
IPP = InstanceId("1.2.250.1.999.1.3", "000123")


def _transmission(**changes: object) -> Transmission:
    values: dict = {
        "control_id": "ORD0001",
        "trigger": "T02",
        "type_code": "11490-0",
        "type_label": "Lettre de liaison à la sortie d'un établissement de soins",
        "type_system": "LN",
        "document_id": InstanceId("1.2.250.1.999.1.2.7.1"),
        "parent_id": None,
        "act_date": datetime(2026, 11, 20, 10, 30, tzinfo=UTC),
        "cda": "<ClinicalDocument>é</ClinicalDocument>".encode(),
        "patient": PatientPart(
            ids=(INS, IPP),
            ipp_oid=IPP.root,
            birth_name="PAT-TROIS",
            first_names=("DOMINIQUE", "ÉLISE"),
            birth_date=date(1979, 3, 28),
            sex="F",
            birth_place_insee="63220",
            reliability="VALI",
            nda="NDA|001",
            nda_authority="&010000024&M",
        ),
        "visit": VisitPart(patient_class="I", visit_number="V01", visit_authority="&010000024&M", care_unit="UF01"),
        "sender": SenderPart(
            national_id="810001234567",
            family_name="MARTIN",
            given_name="Claire",
            id_type="IDNPS",
            profession_code="10",
            profession_label="Médecin",
            organization="CH de test",
            finess_eg="000897406",
        ),
        "metadata": {"DESTDMP": True, "ACK_RECEPTION": True},
    }
    values.update(changes)
    return Transmission(**values)


def _segments(text: str):
    return read_segments(text, STANDARD_ENCODING)


def _field(segment, spec: str) -> str:
    return next(iter(field_values(segment, spec)), "")


EVENTS = [("T02", "NW", "F"), ("T10", "RO", "C"), ("T04", "CA", "D")]


@pytest.mark.parametrize(("trigger", "order_control", "status"), EVENTS)
def test_trigger_order_control_and_document_status_always_agree(trigger, order_control, status):
    parent = InstanceId("1.2.250.1.999.1.2.7.0") if trigger == "T10" else None
    segments = _segments(build_mdm(_transmission(trigger=trigger, parent_id=parent)))
    by_name = {segment.name: segment for segment in reversed(segments)}
    assert _field(by_name["MSH"], "9") == f"MDM^{trigger}^MDM_T02"
    assert _field(by_name["ORC"], "1") == order_control
    assert _field(by_name["OBX"], "11") == status


def test_header_is_hl7_2_6_of_the_volet_with_cr_terminators():
    text = build_mdm(_transmission())
    assert "\n" not in text and text.endswith("\r")
    msh = _segments(text)[0]
    assert (_field(msh, "10"), _field(msh, "12"), _field(msh, "18"), _field(msh, "21")) == (
        "ORD0001", "2.6", "UNICODE UTF-8", "2.1^CISIS_CDA_HL7_V2",
    )  # fmt: skip
    assert [segment.name for segment in _segments(text)[:8]] == ["MSH", "EVN", "PID", "PV1", "ORC", "OBR", "TXA", "OBX"]


def test_pid_lists_the_cda_ids_ins_first_with_traits_and_escaped_nda():
    pid = next(segment for segment in _segments(build_mdm(_transmission())) if segment.name == "PID")
    assert field_values(pid, "3.1") == ["279035121518989", "000123"]
    assert field_values(pid, "3.4.2") == ["1.2.250.1.213.1.4.10", "1.2.250.1.999.1.3"]
    assert field_values(pid, "3.5") == ["INS", "PI"]
    assert (_field(pid, "5.1"), _field(pid, "5.3"), _field(pid, "5.7")) == ("PAT-TROIS", "DOMINIQUE ÉLISE", "L")
    assert (_field(pid, "7"), _field(pid, "8"), _field(pid, "11.7"), _field(pid, "11.9")) == (
        "19790328", "F", "BDL", "63220",
    )  # fmt: skip
    assert _field(pid, "18.1") == "NDA|001"
    assert _field(pid, "32") == "VALI"


def test_document_obx_carries_the_cda_in_base64_and_txa_its_ids():
    parent = InstanceId("1.2.250.1.999.1.2.7.0")
    child = InstanceId("1.2.250.1.999.1.2", "7.1")
    segments = _segments(build_mdm(_transmission(trigger="T10", document_id=child, parent_id=parent)))
    obx = next(segment for segment in segments if segment.name == "OBX")
    assert [_field(obx, spec) for spec in ("2", "5.2", "5.3", "5.4")] == ["ED", "text", "XML", "Base64"]
    assert base64.b64decode(_field(obx, "5.5")).decode() == "<ClinicalDocument>é</ClinicalDocument>"
    txa = next(segment for segment in segments if segment.name == "TXA")
    assert field_values(txa, "12") == ["7.1^^1.2.250.1.999.1.2^ISO"]
    assert _field(txa, "13") == "1.2.250.1.999.1.2.7.0"
    assert _field(txa, "17") == "AU"


def test_replacement_without_the_replaced_id_is_never_built():
    with pytest.raises(ValueError, match="TXA-13"):
        build_mdm(_transmission(trigger="T10"))


def test_sender_prt_gives_the_pfi_what_the_vihf_needs():
    segments = _segments(build_mdm(_transmission()))
    names = [segment.name for segment in segments]
    sender = segments[names.index("OBX") + 1]
    assert sender.name == "PRT" and _field(sender, "4.1") == "SB"
    assert (_field(sender, "5.1"), _field(sender, "5.2"), _field(sender, "5.13")) == ("810001234567", "MARTIN", "IDNPS")
    assert _field(sender, "5.9") == "ASIP-SANTE-PS&1.2.250.1.71.4.2.1&ISO"
    assert (_field(sender, "6.1"), _field(sender, "6.3")) == ("10", "TRE_G15-ProfessionSante")
    assert (_field(sender, "8.7"), _field(sender, "8.10")) == ("FINEG", "000897406")


def test_recipients_then_metadata_in_the_volet_order_each_y_or_n():
    transmission = _transmission(
        metadata={"DESTMSSANTEPS": True, "DESTMSSANTEPAT": True, "ACK_RECEPTION": True, "ACK_LECTURE_MSS": True},
        mss_recipients=("adam.hoda@test-ci-sis.mssante.fr",),
        patient_address=patient_mss_address("279035121518989"),
        mail_body_ps="Bonjour",
    )
    segments = _segments(build_mdm(transmission))
    recipients = [_field(s, "15.4") for s in segments if s.name == "PRT" and _field(s, "4.1") == "RCT"]
    assert recipients == ["adam.hoda@test-ci-sis.mssante.fr", "279035121518989@patient.mssante.fr"]
    metadata = [s for s in segments if s.name == "OBX"][1:]
    assert [_field(s, "3.1") for s in metadata] == [code for code, _label in METADATA] + ["CORPSMAIL_PS"]
    assert [_field(s, "1") for s in metadata] == [str(n) for n in range(2, 13)]
    flags = {_field(s, "3.1"): _field(s, "5.1") for s in metadata[:-1]}
    assert flags["DESTDMP"] == "N" and flags["DESTMSSANTEPAT"] == "Y" and set(flags.values()) == {"Y", "N"}
    names = [s.name for s in segments]
    assert names[names.index("NTE") - 1] == "OBX" and _field(segments[names.index("NTE")], "4") == "FIN"


def test_nda_and_visit_carry_their_assigning_authority_like_the_national_examples():
    segments = {segment.name: segment for segment in _segments(build_mdm(_transmission()))}
    pid, pv1 = segments["PID"], segments["PV1"]
    assert [_field(pid, f"18.{n}") for n in ("1", "4.2", "4.3", "5")] == ["NDA|001", "010000024", "M", "AN"]
    assert [_field(pv1, f"19.{n}") for n in ("1", "4.2", "4.3", "5")] == ["V01", "010000024", "M", "VN"]


def test_recipients_carry_prt5_when_the_dpi_knows_who_they_are():
    hoda, unknown = "adam.hoda@test-ci-sis.mssante.fr", "secretariat@ch-test.mssante.fr"
    patient = patient_mss_address("279035121518989")
    transmission = _transmission(
        metadata={"DESTMSSANTEPS": True, "DESTMSSANTEPAT": True},
        mss_recipients=(hoda, unknown),
        patient_address=patient,
        recipients_known={
            hoda: Person("801234567897", "HODA", "Adam"),
            patient: Person.patient(INS, "PAT-TROIS", "DOMINIQUE"),
        },
    )
    segments = _segments(build_mdm(transmission))
    rct = {_field(s, "15.4"): s for s in segments if s.name == "PRT" and _field(s, "4.1") == "RCT"}
    professional = rct[hoda]
    assert [_field(professional, f"5.{n}") for n in (1, 2, 3, 10, 13)] == ["801234567897", "HODA", "Adam", "D", "IDNPS"]
    assert _field(professional, "5.9") == "ASIP-SANTE-PS&1.2.250.1.71.4.2.1&ISO"
    assert [_field(rct[patient], f"5.{n}") for n in (1, 2, 10, 13)] == ["279035121518989", "PAT-TROIS", "L", "INS"]
    assert _field(rct[patient], "5.9") == "ASIP-SANTE-INS-NIR-TEST&1.2.250.1.213.1.4.10&ISO"
    assert _field(rct[unknown], "5") == ""  # an address the DPI cannot name: PRT-5 stays empty
    assert {_field(s, "15.2") + "^" + _field(s, "15.3") for s in rct.values()} == {"NET^X.400"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("authority", "expected"),
    [
        ("1.2.250.1.999.1.4", "&1.2.250.1.999.1.4&ISO"),
        ("ej", "&{ej}&M"),
        ("eg", "&{eg}&N"),
        ("", "&{ej}&M"),
        ("CHU-X", "CHU-X"),
    ],
    ids=["oid", "finess-ej", "finess-eg", "none-given", "namespace"],
)
def test_the_assigning_authority_of_a_visit_is_written_as_pam_fr_does(care_unit, authority, expected):
    site = care_unit.site
    ej, eg = site.legal_entity.finess_ej, site.finess_eg
    episode = EpisodeFactory(care_unit=care_unit, visit_authority={"ej": ej, "eg": eg}.get(authority, authority))
    assert assigning_authority(episode) == expected.format(ej=ej, eg=eg)

"""The PFI simulator over real sockets: technical ACK, records, ZAMs to the DPI listener, failure modes, volet rules."""

from __future__ import annotations

import base64
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dmp.mdm import EVENTS, METADATA
from dpi.hl7.client import TransportError, send
from dpi.hl7.mllp import ServerHandle, frame, start_server_in_thread
from dpi.hl7.models import Message
from dpi.hl7.parsing import read_envelope
from sandbox.models import PfiBehaviour, PfiMessage, PfiZam
from sandbox.pfi import PlannedZam, Recipient, build_zam, plan_zams, read_mdm, start_pfi_in_thread
from tests.sandbox.peers import RawPeer
from tests.support.waiting import wait_until

INS = "279035121518989"
INS_OID = "1.2.250.1.213.1.4.10"
DOC_ID = "1.2.250.1.999.1.2.7.1"
PARENT_ID = "1.2.250.1.999.1.2.6.1"
DR_HODA = "adam.hoda@test-ci-sis.mssante.fr"
DR_MARTIN = "paul.martin@chu-test.mssante.fr"
PATIENT_ADDRESS = f"{INS}@patient.mssante.fr"
CDA = base64.b64encode(b"<ClinicalDocument xmlns='urn:hl7-org:v3'/>").decode()


@dataclass
class Mdm:
    """An MDM the DPI sends to the PFI (volet v2.1), every part adjustable to break one rule at a time."""

    control_id: str = "mdm-1"
    trigger: str = "T02"
    identity_status: str = "VALI"
    ins: str | None = INS
    orc: str | None = None
    obx11: str | None = None
    document_id: str = DOC_ID
    parent_id: str = ""
    sender: bool = True
    recipients: list[tuple[str, str]] = field(default_factory=lambda: [("801234567897", DR_HODA)])
    flags: dict[str, str] = field(default_factory=dict)
    metadata_order: list[str] | None = None
    patient_class: str = "O"
    pid18: str = ""
    pv1_19: str = "000897406^^^CHU-TEST&1.2.250.1.999.1.4&ISO^VN"
    recipient_xcn: dict[str, str] = field(default_factory=dict)  # address -> PRT-5 as written

    def text(self) -> str:
        order, status = EVENTS.get(self.trigger, ("NW", "F"))
        pid3 = "000042^^^CHU-TEST&1.2.250.1.999.1.3&ISO^PI"
        if self.ins:
            pid3 += f"~{self.ins}^^^ASIP-SANTE-INS-NIR&{INS_OID}&ISO^INS"
        segments = [
            f"MSH|^~\\&|DPI|CHU-TEST|PFI|CHU-TEST|20260310101500||MDM^{self.trigger}^MDM_T02|{self.control_id}|P|2.6"
            "|||||FRA|UNICODE UTF-8|||2.1^CISIS_CDA_HL7_V2",
            "EVN||20260310101500",
            f"PID|||{pid3}||LEFÈVRE^ÉLODIE^ÉLODIE^^^^L||19790328|F"
            + "|" * 10
            + self.pid18
            + "|" * 14
            + self.identity_status,
            f"PV1|1|{self.patient_class}|UF01||||||||||||||||{self.pv1_19}",
            f"ORC|{order if self.orc is None else self.orc}|",
            "OBR|1|||11490-0^Lettre de sortie^LN|",
            f"TXA|1|11490-0|TEXT|20260310101500||||||||{self.document_id}|{self.parent_id}||||AU",
            f"OBX|1|ED|11490-0^Lettre de sortie^LN||^text^XML^Base64^{CDA}||||||"
            f"{status if self.obx11 is None else self.obx11}|",
        ]
        if self.sender:
            segments.append(
                "PRT||UC||SB^Send by^participation|10000000017^MARTIN^Paul^^^^^^ASIP-SANTE-PS&1.2.250.1.71.4.2.1&ISO"
                "^D^^^RPPS|||CHU de test^^^^^ASIP-SANTE-ST&1.2.250.1.71.4.2.2&ISO^FINEG^^^010000024"
            )
        for identifier, address in self.recipients:
            xcn = self.recipient_xcn.get(address, f"{identifier}^^^^^^^^ASIP-SANTE-PS&1.2.250.1.71.4.2.1&ISO^D^^^RPPS")
            segments.append(f"PRT||UC||RCT^Result Copies To^participation|{xcn}||||||||||^^X.400^{address}")
        values = {"DESTDMP": "Y", "DESTMSSANTEPS": "Y" if self.recipients else "N"} | self.flags
        labels = dict(METADATA)
        codes = self.metadata_order or [code for code, _label in METADATA]
        for number, code in enumerate(codes, start=2):
            value = values.get(code, "N")
            segments.append(
                f"OBX|{number}|CWE|{code}^{labels.get(code, code)}^MetaDMPMSS||{value}^^expandedYes-NoIndicator||||||F|"
            )
        return "\r".join(segments) + "\r"


def deliver(pfi: ServerHandle, message: str | bytes, **options: object):
    return send(message, host="127.0.0.1", port=pfi.port, retries=0, **options)


def rejection(pfi: ServerHandle, message: str) -> TransportError:
    with pytest.raises(TransportError) as caught:
        deliver(pfi, message)
    return caught.value


def zams_received() -> list[Message]:
    """ZAMs as the DPI listener journaled them."""
    return list(
        Message.objects.filter(direction=Message.Direction.INBOUND, message_type__startswith="ZAM^").order_by("pk")
    )


def zam_segments(message: Message) -> dict[str, list[list[str]]]:
    rows: dict[str, list[list[str]]] = {}
    for segment in message.text.split("\r"):
        rows.setdefault(segment[:3], []).append(segment.split("|"))
    return rows


# --- The national samples --------------------------------------------------------------------


def test_ans_initial_sample_is_accepted_and_recorded_with_its_destinations(pfi, samples_dir: Path):
    raw = (samples_dir / "transcda_MDM_T02_initial_full-b64.er7").read_text(encoding="utf-8")

    ack = deliver(pfi, raw)

    assert (ack.code, ack.control_id) == ("AA", "015")
    message = PfiMessage.objects.get()
    assert (message.trigger, message.control_id, message.ack_code, message.error) == ("T02", "015", "AA", "")
    assert message.document_id == "1.2.250.1.71.4.2.2.120456789.71024000081"
    assert message.ins == INS
    assert message.to_dmp is True
    assert message.to_patient is False
    assert message.mss_recipients == [DR_HODA]
    assert message.sender == "801234564895 / 300017985"
    assert message.flags["INVISIBLE_PATIENT"] == "Y"
    assert message.flags["ACK_RECEPTION"] == "N"
    assert message.raw.startswith("MSH|^~\\&|RIS-Y|")


@pytest.mark.parametrize(
    ("name", "trigger", "parent"),
    [
        ("transcda_MDM_T10_replace_full-b64.er7", "T10", "1.2.250.1.71.4.2.2.120456789.71024000081"),
        ("transcda_MDM_T04_delete_full-b64.er7", "T04", "1.2.250.1.71.4.2.2.120456789.71024000081"),
    ],
)
def test_ans_replacement_and_deletion_samples_are_accepted(pfi, samples_dir: Path, name, trigger, parent):
    ack = deliver(pfi, (samples_dir / name).read_bytes())

    assert ack.code == "AA"
    message = PfiMessage.objects.get()
    assert (message.trigger, message.parent_id, message.ack_code) == (trigger, parent, "AA")


# --- Accepted messages and their business acknowledgements ---------------------------------


def test_own_initial_transmission_is_accepted_and_recorded(pfi):
    ack = deliver(
        pfi, Mdm(control_id="own-1", recipients=[("801234567897", DR_HODA), ("10000000025", DR_MARTIN)]).text()
    )

    assert ack.code == "AA"
    message = PfiMessage.objects.get(control_id="own-1")
    assert (message.document_id, message.ins, message.to_dmp) == (DOC_ID, INS, True)
    assert message.mss_recipients == [DR_HODA, DR_MARTIN]
    assert message.sender == "10000000017 / 010000024"
    assert "LEFÈVRE" in message.raw


def test_identified_recipients_and_identifiers_with_their_authority_are_accepted(pfi):
    """PRT-5 of a professional and of the patient (by the INS of their address), PID-18 and PV1-19 with CX-4."""
    mdm = Mdm(
        control_id="ids-1",
        patient_class="I",
        pid18="405660^^^AUT-AFFECTATION&010000024&M^AN",
        pv1_19="V01^^^&1.2.250.1.999.1.4&ISO^VN",
        recipients=[("801234567897", DR_HODA), (INS, PATIENT_ADDRESS)],
        recipient_xcn={PATIENT_ADDRESS: f"{INS}^LEFÈVRE^ÉLODIE^^^^^^ASIP-SANTE-INS-NIR&{INS_OID}&ISO^L^^^INS"},
        flags={"DESTMSSANTEPAT": "Y"},
    )

    assert deliver(pfi, mdm.text()).code == "AA"
    assert PfiMessage.objects.get(control_id="ids-1").mss_recipients == [DR_HODA, PATIENT_ADDRESS]


def test_root_and_extension_document_id_is_kept_whole(pfi):
    deliver(pfi, Mdm(control_id="ext-1", document_id="DOC-42^^1.2.250.1.999.1.2^ISO").text())

    assert PfiMessage.objects.get().document_id == "DOC-42^^1.2.250.1.999.1.2^ISO"


def test_delivery_receipts_arrive_on_the_dpi_listener_correlated_by_control_id(pfi):
    mdm = Mdm(
        control_id="rcpt-1",
        recipients=[("801234567897", DR_HODA), ("10000000025", DR_MARTIN)],
        flags={"ACK_RECEPTION": "Y", "DESTMSSANTEPAT": "Y"},
    )

    assert deliver(pfi, mdm.text()).code == "AA"

    wait_until(lambda: PfiZam.objects.exclude(outcome="").count() == 4)
    received = zams_received()
    assert sorted(message.message_type for message in received) == ["ZAM^Z01", "ZAM^Z02", "ZAM^Z02", "ZAM^Z02"]
    for message in received:
        segments = zam_segments(message)
        assert segments["MSH"][0][2:6] == ["PFI", "SANDBOX", "DPI", "CHU-TEST"]
        assert segments["MSH"][0][20] == "2.1^CISIS_CDA_HL7_V2"
        assert segments["OBX"][0][4] == "rcpt-1"
        assert segments["OBX"][0][5] == "Y^^expandedYes-NoIndicator"
    addresses = {zam.recipient for zam in PfiZam.objects.filter(event="Z02")}
    assert addresses == {DR_HODA, DR_MARTIN, PATIENT_ADDRESS}
    assert PfiZam.objects.get(event="Z01").recipient == ""
    assert set(PfiZam.objects.values_list("status", flat=True)) == {"Y"}
    control_ids = {zam.control_id for zam in PfiZam.objects.all()}
    assert control_ids == {message.control_id for message in received}
    assert all(zam.message.control_id == "rcpt-1" for zam in PfiZam.objects.select_related("message"))


def test_each_zam_keeps_the_answer_of_the_dpi(pfi):
    deliver(pfi, Mdm(control_id="rcpt-2", flags={"ACK_RECEPTION": "Y"}).text())

    wait_until(lambda: PfiZam.objects.exclude(outcome="").count() == 2)
    for zam in PfiZam.objects.all():
        journal = Message.objects.get(direction=Message.Direction.INBOUND, control_id=zam.control_id)
        assert zam.outcome.split()[0] == journal.ack_code
        assert zam.raw.replace("\r", "") == journal.text.replace("\r", "")


def test_read_receipts_follow_for_each_recipient(pfi):
    mdm = Mdm(control_id="read-1", flags={"ACK_RECEPTION": "Y", "ACK_LECTURE_MSS": "Y", "DESTDMP": "N"})

    deliver(pfi, mdm.text())

    wait_until(lambda: PfiZam.objects.exclude(outcome="").count() == 2)
    assert [zam.event for zam in PfiZam.objects.order_by("pk")] == ["Z02", "Z03"]
    z03 = next(message for message in zams_received() if message.message_type == "ZAM^Z03")
    segments = zam_segments(z03)
    assert segments["OBX"][0][3].startswith("ACK_LECTURE_MSS^")
    assert segments["OBX"][1][3].startswith("LECTEUR_MSS^")
    assert segments["OBX"][1][4:6] == ["801234567897", f"^^X.400^{DR_HODA}"]


def test_a_dmp_deletion_gets_a_dmp_receipt_only(pfi):
    mdm = Mdm(control_id="del-1", trigger="T04", parent_id=PARENT_ID, flags={"ACK_RECEPTION": "Y"}, recipients=[])

    deliver(pfi, mdm.text())

    wait_until(lambda: PfiZam.objects.exclude(outcome="").exists())
    assert [zam.event for zam in PfiZam.objects.all()] == ["Z01"]
    assert [message.message_type for message in zams_received()] == ["ZAM^Z01"]


def test_a_deletion_told_to_mssante_recipients_is_mailed_to_each(pfi):
    """SC.MSS/UX.38: a T04 with DESTMSSANTEPS=Y and RCT recipients is mailed to them (delivery receipts)."""
    flags = {"ACK_RECEPTION": "Y", "DESTDMP": "N"}
    mdm = Mdm(control_id="del-2", trigger="T04", parent_id=PARENT_ID, flags=flags)

    deliver(pfi, mdm.text())

    wait_until(lambda: PfiZam.objects.exclude(outcome="").count() == len(mdm.recipients))
    assert {zam.event for zam in PfiZam.objects.all()} == {"Z02"}


def test_zams_wait_for_a_dpi_listener_coming_up_late(transactional_db, behave):
    behave(PfiBehaviour.Mode.NORMAL)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dpi_port = probe.getsockname()[1]
    pfi = start_pfi_in_thread(dpi_port=dpi_port, zam_delay=0.05, zam_retries=8)
    listener: ServerHandle | None = None
    try:
        deliver(pfi, Mdm(control_id="late-1", flags={"ACK_RECEPTION": "Y", "DESTMSSANTEPS": "N"}).text())
        wait_until(lambda: PfiZam.objects.exists())
        listener = start_server_in_thread("127.0.0.1", dpi_port)
        wait_until(lambda: PfiZam.objects.exclude(outcome="").exists())
        assert PfiZam.objects.get().outcome.split()[0] in {"AA", "AE", "AR"}
        assert [message.message_type for message in zams_received()] == ["ZAM^Z01"]
    finally:
        pfi.stop()
        if listener is not None:
            listener.stop()


# --- Failure modes -------------------------------------------------------------------------


def test_refuse_mode_refuses_connections_until_switched_back(pfi, behave):
    behave(PfiBehaviour.Mode.REFUSE)
    wait_until(lambda: not accepts_connections(pfi.port))

    error = rejection(pfi, Mdm(control_id="refused-1").text())

    assert error.permanent is False
    assert not PfiMessage.objects.exists()
    behave(PfiBehaviour.Mode.NORMAL)
    wait_until(lambda: accepts_connections(pfi.port))
    assert deliver(pfi, Mdm(control_id="back-1").text()).code == "AA"


def accepts_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.parametrize("mode", [PfiBehaviour.Mode.AE, PfiBehaviour.Mode.AR])
def test_ae_and_ar_modes_reject_the_message_with_their_code(pfi, behave, mode):
    behave(mode)

    error = rejection(pfi, Mdm(control_id=f"rej-{mode}", flags={"ACK_RECEPTION": "Y"}).text())

    assert error.permanent is True
    assert error.ack.code == mode.upper()
    assert error.ack.errors[0].code == "207"
    message = PfiMessage.objects.get()
    assert message.ack_code == mode.upper()
    assert "simulé" in message.error
    assert not PfiZam.objects.exists()


def test_dmp_reject_mode_accepts_then_sends_a_failed_dmp_receipt(pfi, behave):
    behave(PfiBehaviour.Mode.DMP_REJECT)

    ack = deliver(
        pfi, Mdm(control_id="dmpko-1", flags={"ACK_RECEPTION": "Y", "DESTMSSANTEPS": "N"}, recipients=[]).text()
    )

    assert ack.code == "AA"
    wait_until(lambda: PfiZam.objects.exclude(outcome="").exists())
    zam = PfiZam.objects.get()
    assert (zam.event, zam.status) == ("Z01", "N")
    segments = zam_segments(Message.objects.get(direction=Message.Direction.INBOUND, control_id=zam.control_id))
    assert segments["OBX"][0][5] == "N^^expandedYes-NoIndicator"
    assert segments["ERR"][0][3] == "207^Application error^messageErrorCondition"
    assert segments["ERR"][0][5] == "DMPClosed^DMP fermé^DMP_ERROR_CODE"


def test_mss_reject_mode_sends_failed_delivery_receipts_and_no_read_receipt(pfi, behave):
    behave(PfiBehaviour.Mode.MSS_REJECT)
    mdm = Mdm(control_id="mssko-1", flags={"ACK_RECEPTION": "Y", "ACK_LECTURE_MSS": "Y", "DESTDMP": "N"})

    assert deliver(pfi, mdm.text()).code == "AA"

    wait_until(lambda: PfiZam.objects.exclude(outcome="").exists())
    zam = PfiZam.objects.get()
    assert (zam.event, zam.status, zam.recipient) == ("Z02", "N", DR_HODA)
    assert "ERR|||207^Application error^messageErrorCondition|E|550^" in zam.raw
    assert zam.raw.rstrip("\r").endswith("^SMTPERRORCODE")


def test_slow_mode_answers_only_after_its_wait(pfi, behave):
    behave(PfiBehaviour.Mode.SLOW, slow_seconds=1.0)

    impatient = rejection_with_timeout(pfi, Mdm(control_id="slow-1").text(), timeout=0.2)
    ack = deliver(pfi, Mdm(control_id="slow-2").text(), timeout=30)

    assert impatient.permanent is False  # the sender gave up before the ACK: it may retry later
    assert ack.code == "AA"
    wait_until(lambda: PfiMessage.objects.count() == 2)  # the first one was received all the same


def test_slow_mode_records_the_message_before_answering(pfi, behave):
    behave(PfiBehaviour.Mode.SLOW, slow_seconds=30)
    peer = RawPeer(pfi.port)
    try:
        peer.socket.sendall(frame(Mdm(control_id="slow-3").text().encode()))
        wait_until(lambda: PfiMessage.objects.filter(control_id="slow-3").exists())
    finally:
        peer.close()

    assert PfiMessage.objects.get().ack_code == "AA"  # the answer it is about to give


def test_resent_message_already_accepted_is_a_duplicate_acknowledged_again_without_new_zams(pfi):
    dmp_receipt = {"ACK_RECEPTION": "Y", "DESTMSSANTEPS": "N"}
    text = Mdm(control_id="twice-1", flags=dmp_receipt, recipients=[]).text()
    deliver(pfi, text)
    wait_until(lambda: PfiZam.objects.exclude(outcome="").exists())

    ack = deliver(pfi, text)

    assert (ack.code, ack.control_id) == ("AA", "twice-1")
    original, resent = PfiMessage.objects.order_by("pk")
    assert (original.duplicate, resent.duplicate, resent.ack_code) == (False, True, "AA")
    third = deliver(
        pfi, Mdm(control_id="twice-2", flags={"ACK_RECEPTION": "Y", "DESTMSSANTEPS": "N"}, recipients=[]).text()
    )
    assert third.code == "AA"
    wait_until(lambda: PfiZam.objects.exclude(outcome="").count() == 2)  # the resend caused none
    assert [zam.message.control_id for zam in PfiZam.objects.order_by("pk")] == ["twice-1", "twice-2"]


def test_message_refused_once_is_processed_when_resent(pfi, behave):
    behave(PfiBehaviour.Mode.AR)
    rejection(pfi, Mdm(control_id="again-1").text())
    behave(PfiBehaviour.Mode.NORMAL)

    assert deliver(pfi, Mdm(control_id="again-1").text()).code == "AA"
    assert list(PfiMessage.objects.order_by("pk").values_list("ack_code", "duplicate")) == [
        ("AR", False),
        ("AA", False),
    ]


def rejection_with_timeout(pfi: ServerHandle, message: str, *, timeout: float) -> TransportError:
    with pytest.raises(TransportError) as caught:
        deliver(pfi, message, timeout=timeout)
    return caught.value


def test_zam_delay_set_in_the_behaviour_overrides_the_setting(pfi, behave):
    behave(PfiBehaviour.Mode.NORMAL, zam_delay_seconds=0)

    deliver(pfi, Mdm(control_id="now-1", flags={"ACK_RECEPTION": "Y", "DESTMSSANTEPS": "N"}, recipients=[]).text())

    wait_until(lambda: PfiZam.objects.exclude(outcome="").exists())
    assert PfiZam.objects.get().event == "Z01"


# --- The rules of the volet: the simulator checks what the DPI sends ----------------------


@pytest.mark.parametrize(
    ("mdm", "label", "location"),
    [
        (Mdm(orc="RO"), "ORC-1 « RO » incohérent avec l'événement T02 (attendu NW)", "ORC^1^1"),
        (Mdm(trigger="T10", parent_id=PARENT_ID, obx11="F"), "OBX-11 du document « F » incohérent", "OBX^1^11"),
        (Mdm(trigger="T04", orc="NW", obx11="F"), "ORC-1 « NW » incohérent avec l'événement T04", "ORC^1^1"),
        (Mdm(trigger="T10"), "Document remplacé (TXA-13) absent", "TXA^1^13"),
        (Mdm(document_id=""), "Identifiant du document (TXA-12) absent", "TXA^1^12"),
        (Mdm(sender=False), "Segment PRT de l'émetteur (PRT-4 = SB) absent", "PRT^1^4"),
        (
            Mdm(
                metadata_order=[
                    "INVISIBLE_PATIENT",
                    *[code for code, _label in METADATA if code != "INVISIBLE_PATIENT"],
                ]
            ),
            "Métadonnées DMP/MSSanté dans le désordre : MASQUE_PS après INVISIBLE_PATIENT",
            "OBX^3^3",
        ),
        (
            Mdm(metadata_order=[code for code, _label in METADATA if code != "DESTDMP"]),
            "Métadonnée DMP/MSSanté obligatoire absente : DESTDMP",
            "OBX",
        ),
        (Mdm(metadata_order=[*[code for code, _ in METADATA], "ACK_LECTURE"]), "Métadonnée DMP/MSSanté inconnue", ""),
        (Mdm(flags={"MASQUE_PS": "O"}), "Valeur Y ou N attendue pour MASQUE_PS", "OBX^2^5"),
        (Mdm(identity_status="PROV"), "DESTDMP=Y avec une INS non qualifiée (PID-32 « PROV »", "PID^1^32"),
        (Mdm(ins=None), "DESTDMP=Y sans INS", "PID^1^3"),
        (
            Mdm(flags={"INVISIBLE_PATIENT": "Y", "DESTMSSANTEPAT": "Y"}),
            "INVISIBLE_PATIENT=Y interdit l'envoi au patient",
            "OBX^9^5",
        ),
        (Mdm(recipients=[], flags={"DESTMSSANTEPS": "Y"}), "DESTMSSANTEPS=Y sans destinataire", "PRT^1^15"),
        (Mdm(pv1_19=""), "PV1-19 (numéro de venue) obligatoire pour la classe de patient O", "PV1^1^19"),
        (Mdm(pv1_19="000897406^^^^VN"), "PV1-19 sans autorité d'affectation (PV1-19.4)", "PV1^1^19^4"),
        (Mdm(pid18="405660^^^^AN"), "PID-18 sans autorité d'affectation (PID-18.4)", "PID^1^18^4"),
        (Mdm(pid18="405660^^^&1204567809^AN"), "PID-18.4 : type d'identifiant universel", "PID^1^18^4^3"),
        (Mdm(pid18="405660^^^&1204567809&M^VN"), "PID-18 : type d'identifiant AN attendu", "PID^1^18^5"),
        (
            Mdm(recipient_xcn={DR_HODA: "801234567897^HODA^Adam"}),
            "PRT-5 du destinataire incomplet",
            "PRT^2^5",
        ),
        (Mdm(recipients=[("801234567897", PATIENT_ADDRESS)]), "PRT-5 du patient destinataire", "PRT^2^5"),
        (
            Mdm(
                recipients=[("", PATIENT_ADDRESS)],
                recipient_xcn={PATIENT_ADDRESS: f"180012345678901^^^^^^^^ASIP-SANTE-INS-NIR&{INS_OID}&ISO^L^^^INS"},
            ),
            f"PRT-5 : l'INS 180012345678901 n'est pas celui de l'adresse {PATIENT_ADDRESS}",
            "PRT^2^5",
        ),
        (
            Mdm(recipient_xcn={DR_HODA: f"{INS}^^^^^^^^ASIP-SANTE-INS-NIR&{INS_OID}&ISO^L^^^INS"}),
            "PRT-5 d'un professionnel : identifiant national sous l'OID 1.2.250.1.71.4.2.1 attendu",
            "PRT^2^5",
        ),
    ],
    ids=[
        "orc-trigger",
        "obx11-trigger",
        "deletion-orc",
        "replacement-without-parent",
        "no-document-id",
        "no-sender",
        "metadata-order",
        "metadata-missing",
        "metadata-unknown",
        "metadata-not-yes-no",
        "dmp-with-provisional-ins",
        "dmp-without-ins",
        "invisible-patient-mailed",
        "mss-without-recipient",
        "visit-missing",
        "visit-without-authority",
        "nda-without-authority",
        "nda-universal-id-without-type",
        "nda-not-an",
        "recipient-incomplete",
        "patient-recipient-not-by-ins",
        "patient-recipient-other-ins",
        "professional-recipient-by-ins",
    ],
)
def test_message_breaking_a_volet_rule_is_refused_with_ae_207_and_a_clear_label(pfi, mdm, label, location):
    mdm.flags.setdefault("ACK_RECEPTION", "Y")

    error = rejection(pfi, mdm.text())

    assert error.permanent is True
    assert error.ack.code == "AE"
    assert any(label in detail.text and detail.code == "207" for detail in error.ack.errors), error.ack.errors
    if location:
        assert location in [detail.location for detail in error.ack.errors]
    message = PfiMessage.objects.get()
    assert message.ack_code == "AE"
    assert label in message.error
    assert not PfiZam.objects.exists()


def test_mss_only_message_with_a_provisional_ins_is_accepted(pfi):
    mdm = Mdm(control_id="prov-1", identity_status="PROV", flags={"DESTDMP": "N"})

    assert deliver(pfi, mdm.text()).code == "AA"


# --- Robustness --------------------------------------------------------------------------


def test_garbage_frames_are_rejected_and_the_simulator_keeps_serving(pfi, raw_peer: Callable[[], RawPeer]):
    peer = raw_peer()

    garbage = peer.exchange(b"\x00\xffnot HL7 at all")
    broken_header = peer.exchange(b"MSH|")
    adt = peer.exchange(b"MSH|^~\\&|GAM|CHU|PFI|CHU|20260310||ADT^A01^ADT_A01|adt-1|P|2.5\rPID|1\r")
    unknown_event = peer.exchange(Mdm(control_id="t99", trigger="T99").text().encode())
    unknown_segment = peer.exchange((Mdm(control_id="bad-seg").text() + "XYZ|1\r").encode())
    still_fine = peer.exchange(Mdm(control_id="after-garbage").text().encode())

    assert [ack.code for ack in (garbage, broken_header, adt, unknown_event, unknown_segment)] == ["AR"] * 5
    assert adt.errors[0].code == "200"
    assert unknown_event.errors[0].code == "201"
    assert (still_fine.code, still_fine.control_id) == ("AA", "after-garbage")
    assert deliver(pfi, Mdm(control_id="new-connection").text()).code == "AA"
    assert PfiMessage.objects.filter(ack_code="AR").exclude(error="").count() == 5


def test_sender_hanging_up_before_the_ack_does_not_stop_the_simulator(pfi, behave):
    behave(PfiBehaviour.Mode.SLOW, slow_seconds=0.3)
    rejection_with_timeout(pfi, Mdm(control_id="gone-1").text(), timeout=0.05)
    wait_until(lambda: PfiMessage.objects.filter(control_id="gone-1").exists())
    behave(PfiBehaviour.Mode.NORMAL)

    assert deliver(pfi, Mdm(control_id="gone-2").text()).code == "AA"


# --- Pure functions: what is planned and how a ZAM reads -------------------------------------


def test_no_zam_is_planned_when_the_sender_asked_for_none():
    mdm = read_mdm(Mdm(flags={"DESTMSSANTEPAT": "Y"}).text().encode())

    assert not mdm.problems
    assert plan_zams(mdm, PfiBehaviour.Mode.NORMAL) == []


def test_patient_address_comes_from_the_ins_when_no_rct_names_it():
    mdm = read_mdm(
        Mdm(recipients=[], flags={"DESTMSSANTEPAT": "Y", "ACK_RECEPTION": "Y", "DESTDMP": "N"}).text().encode()
    )

    assert plan_zams(mdm, PfiBehaviour.Mode.NORMAL) == [PlannedZam("Z02", "Y", Recipient(PATIENT_ADDRESS, INS))]


def test_zam_follows_the_structure_of_the_ans_sample(samples_dir: Path):
    sample = read_envelope((samples_dir / "transcda_ZAM_Z02_mss-receipt_ok.er7").read_bytes())
    header = read_envelope(Mdm(control_id="015").text().encode()).header

    text = build_zam(
        PlannedZam("Z02", "Y", Recipient("adam.hoda@test-ci-sis.mssante.fr", "801234567897")),
        mdm_header=header,
        control_id="018",
    )

    ours = read_envelope(text.encode())
    assert [segment[:3] for segment in ours.segments] == [segment[:3] for segment in sample.segments]
    assert ours.header.message_type == sample.header.message_type
    assert ours.header.get(21) == sample.header.get(21)
    assert ours.segments[2:] == sample.segments[2:]

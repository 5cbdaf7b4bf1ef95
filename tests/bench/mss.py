"""Benchmark: MSSanté documents integrated per second, end to end over MLLP.

Each message is an MDM^T02 of the volet "LPS courriel MSSanté" built by the sandbox PFI
(``sandbox.mss_push``): a CDA R2 N1 (header plus a small PDF, about 6 KB in base64) about a qualified
patient of the bench database, sent to a routed mailbox. Through the real listener: journal, field
reading, CDA parsing with the hardened parser, identity matching (INS, OID, five traits), version
detection, document and version rows, traces, ACK after commit. Beside it, in the same run: the bare
MLLP echo with the same messages, and the minimal ADT through the engine (one insert) on the same
connections. Every ACK must be AA and every document must be in the database, else the run fails.
"""

from __future__ import annotations

from tests.bench.common import CONNECTIONS, Row, Servers, ack_code, adt, bench_handler, ceiling_row, measure, plural
from tests.bench.pam import nir

FINESS_EJ, FINESS_EG, UNIT = "010000099", "020000099", "MSSB"
MAILBOX = "bench@chu.mssante.fr"
WARM_UP = 10
FIRST_PATIENT = 500_000  # INS numbers apart from the PAM figure's


def create_structure(patients: int) -> list[object]:
    """A routed care unit and ``patients`` qualified identities (the INS and traits the documents carry)."""
    from datetime import date

    from dpi.models import CareUnit, LegalEntity, Site
    from mss.models import MailboxRoute
    from patients.models import Patient

    entity = LegalEntity.objects.create(finess_ej=FINESS_EJ, name="CH bench MSSanté")
    site = Site.objects.create(legal_entity=entity, finess_eg=FINESS_EG, name="Site bench MSSanté")
    unit = CareUnit.objects.create(site=site, code=UNIT, name="Unité bench MSSanté")
    MailboxRoute.objects.create(address=MAILBOX, care_unit=unit)
    return Patient.objects.bulk_create(
        Patient(
            ipp=f"MSS{number:06d}", ipp_authority=FINESS_EJ, ins=nir(FIRST_PATIENT + number),
            ins_oid="1.2.250.1.213.1.4.8", identity_status="qualifiee", birth_name=f"BENCH{number}",
            first_names="ALICE MARIE", birth_date=date(1970 + number % 40, 1 + number % 12, 1 + number % 28),
            sex="F", birth_place_insee="75056",
        )
        for number in range(patients)
    )  # fmt: skip


def documents(patients: list[object], count: int, start: int) -> list[bytes]:
    """``count`` MDM^T02, each a new document, spread over the patients."""
    from sandbox.mss_push import mdm_for, patient_document, patient_identity

    messages = []
    for number in range(start, start + count):
        identity = patient_identity(patients[number % len(patients)])
        id_root, cda = patient_document(identity, id_root=f"1.2.250.1.999.9.2.{number}")
        messages.append(mdm_for(identity, cda, id_root, control_id=f"MSS-{number}", recipient=MAILBOX).encode())
    return messages


def split(messages: list[bytes], connections: int) -> list[list[bytes]]:
    return [messages[index::connections] for index in range(connections)]


def check(acks: tuple[bytes, ...], expected_documents: int) -> None:
    from documents.models import Document, Provenance

    refused = [ack for ack in acks if ack_code(ack) != "AA"]
    if refused:
        raise SystemExit(f"{len(refused)} MSSanté MDM not accepted (AA), e.g. {refused[0]!r}")
    found = Document.objects.filter(provenance=Provenance.MSS, care_unit__code=UNIT).count()
    if found != expected_documents:
        raise SystemExit(f"MSSanté documents not integrated: {found} in the database, {expected_documents} sent")


def compare(ports: Servers, messages: int) -> list[Row]:
    from dpi.hl7.registry import registered

    count = max(20, messages // 4)  # each document costs far more than an ADT: keep make bench short
    patients = create_structure(100)
    sent = WARM_UP
    check(measure(ports.listener, [documents(patients, WARM_UP, 0)]).acks, sent)
    rows: list[Row] = []
    for connections in CONNECTIONS:
        batch = documents(patients, count, sent)
        ours = measure(ports.listener, split(batch, connections))
        sent += count
        check(ours.acks, sent)
        echo = measure(ports.bare, split(batch, connections))
        with registered(bench_handler(), "ADT^A01"):
            minimal = measure(ports.listener, split([adt(f"MSSADT-{connections}-{n}") for n in range(count)],
                                                    connections))  # fmt: skip
        label = f"MSSanté MDM^T02 integrated, {plural(connections)}"
        rows += [
            (f"{label}: documents/s [echo]", ours.rate, echo.rate),
            (f"{label}: documents/s [minimal ADT]", ours.rate, minimal.rate),
            ceiling_row(f"{label}: documents/s", ours.rate, connections),
            (f"{label}: p50 latency (ms) [echo]", ours.p50, echo.p50),
        ]
    return rows

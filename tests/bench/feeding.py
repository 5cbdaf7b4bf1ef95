"""Benchmark: feeding orders drained per second, end to end through the sandbox PFI with real workers.

Two ``celery worker`` processes (4 threads each: both cores work, 8 orders in flight) on the bench
database and the broker of the environment run orders that are all due: claim, run-time checks (INS,
consent, current version), MDM^T02 built from the version's CDA (about 10 KB), MLLP to the sandbox PFI
(which checks the volet's rules, records the message and answers), outcome recorded; the PFI's ZAMs
come back to the DPI listener meanwhile. The baseline is the bare MLLP round trip of the very same MDM
messages to the echo server, on 1 and 4 connections. Every order must end SENT and be accepted once by
the PFI.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.bench.common import Row, Servers, ceiling_row, measure

WARM_UP = 5
THREADS = 4
PROCESSES = 2


def create_documents(count: int) -> list[object]:
    """The versions of ``count`` validated discharge letters of one qualified patient, each with its own CDA."""
    from django.utils import timezone

    from documents.cda import build_cda
    from documents.composition import document_content
    from documents.models import Document, DocumentVersion, Status
    from documents.services import create_draft, produced_level, validate_document
    from dpi.models import CareUnit, LegalEntity, Membership, Role, Site, User
    from patients.models import Episode, Patient

    entity = LegalEntity.objects.create(finess_ej="010000088", name="CH bench alimentation", accepts_test_ins=True)
    unit = CareUnit.objects.create(
        site=Site.objects.create(legal_entity=entity, finess_eg="020000088", name="Site bench"), code="FEED", name="UF"
    )
    doctor = User.objects.create(
        username="bench.feeding", national_id_type="RPPS", rpps="10000000009", profession="10", last_name="BENCH"
    )
    Membership.objects.create(user=doctor, care_unit=unit, role=Role.objects.create(code="bench", label="Bench"))
    patient = Patient.objects.create(
        ipp="FEED1", ins="279035121518989", ins_oid="1.2.250.1.213.1.4.10", identity_status="qualifiee",
        birth_name="BENCH", first_names="ALICE", sex="F", birth_date=timezone.now().date().replace(year=1980),
    )  # fmt: skip
    episode = Episode.objects.create(patient=patient, visit_number="VFEED", kind="hospitalisation", care_unit=unit)
    fields = {"motif": "Bench", "synthese": "Bench.", "modalite_entree": "programmee", "modalite_sortie": "domicile"}
    fields |= {"recherche_bmr": "non", "transfusion": "non", "derives_sang": "non"}
    model = create_draft(
        patient=patient, episode=episode, type_code="11490-0", title="Lettre 0", fields=fields,
        act_date=timezone.now(), acting_user=doctor, flags={"hold_sending": True},
    )  # fmt: skip
    pdf = bytes(validate_document(document=model, acting_user=doctor).pdf)  # one real PDF, shared by the copies
    documents = []
    for number in range(count):
        document = create_draft(
            patient=patient, episode=episode, type_code="11490-0", title=f"Lettre {number}", fields=fields,
            act_date=timezone.now(), acting_user=doctor,
        )  # fmt: skip
        version = DocumentVersion(
            document=document, version_number=1, cda_id_root=f"1.2.250.1.999.8.{document.pk}", validated_by=doctor,
            validated_at=timezone.now(), pdf=pdf, level=produced_level("11490-0"),
        )  # fmt: skip
        version.cda = build_cda(document_content(document, version, doctor), pdf=pdf, level=version.level)
        version.save()
        Document.objects.filter(pk=document.pk).update(current_version=version, status=Status.VALIDATED)
        documents.append(version)
    return documents


def schedule(versions: list[object]) -> list[int]:
    """One due DMP order per version."""
    from django.utils import timezone

    from dmp.models import FeedingOrder
    from dpi.hl7.ack import new_control_id

    orders = FeedingOrder.objects.bulk_create(
        FeedingOrder(
            document_id=version.document_id, version=version, channel="dmp", kind="automatic", state="scheduled",
            due_at=timezone.now(), control_id=new_control_id(),
        )
        for version in versions
    )  # fmt: skip
    return [order.pk for order in orders]


def worker(pfi_port: int, name: str) -> subprocess.Popen:
    from django.conf import settings
    from django.db import connection

    database = connection.settings_dict
    env = os.environ | {
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "PFI_HOST": "127.0.0.1",
        "PFI_PORT": str(pfi_port),
    }
    command = [sys.executable, "-m", "celery", "-A", "dpi", "worker", "--pool=threads", f"--concurrency={THREADS}"]
    command.append(f"--hostname={name}@%h")
    # its log goes to var/bench-<name>.log, for a failed run
    return subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [*command, "--loglevel=WARNING"], cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL,
        stderr=open(settings.VAR_DIR / f"bench-{name}.log", "wb"), start_new_session=True,
    )  # fmt: skip


def drain(order_ids: list[int]) -> float:
    """Queue every order and wait until all are sent; orders per second."""
    from dmp.models import FeedingOrder
    from dmp.tasks import run_feeding_order

    started = time.perf_counter()
    for order_id in order_ids:
        run_feeding_order.delay(order_id)
    pending = FeedingOrder.objects.filter(pk__in=order_ids).exclude(state="sent")
    deadline = time.monotonic() + 600
    while pending.exists():
        failed = FeedingOrder.objects.filter(pk__in=order_ids, state__in=["failed", "refused"]).first()
        if failed or time.monotonic() > deadline:
            raise SystemExit(f"feeding order not sent: {failed and failed.reason or 'timeout'}")
        time.sleep(0.05)
    return len(order_ids) / (time.perf_counter() - started)


def wait_for_workers() -> None:
    from dpi import celery_app

    deadline = time.monotonic() + 60
    while len(celery_app.control.ping(timeout=0.5)) < PROCESSES:
        if time.monotonic() > deadline:
            raise SystemExit("the Celery workers did not start")


def compare(ports: Servers, messages: int) -> list[Row]:
    import signal

    from dpi import celery_app
    from dpi.hl7.models import Message
    from sandbox.models import PfiMessage
    from sandbox.pfi import start_pfi_in_thread

    count = max(50, messages // 10)
    documents = create_documents(WARM_UP + count)
    celery_app.control.purge()
    pfi = start_pfi_in_thread(dpi_host="127.0.0.1", dpi_port=ports.listener, zam_delay=0.0)
    processes = [worker(pfi.port, f"feeding{number}") for number in range(PROCESSES)]
    try:
        wait_for_workers()
        drain(schedule(documents[:WARM_UP]))
        order_ids = schedule(documents[WARM_UP:])
        rate = drain(order_ids)
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        pfi.stop()
    accepted = PfiMessage.objects.filter(ack_code="AA", duplicate=False).count()
    if accepted != WARM_UP + count:
        raise SystemExit(f"the PFI accepted {accepted} messages for {WARM_UP + count} orders")
    from dmp.models import FeedingOrder

    control_ids = FeedingOrder.objects.filter(pk__in=order_ids).values_list("control_id", flat=True)
    raws = [bytes(raw) for raw in Message.objects.filter(control_id__in=control_ids).values_list("raw", flat=True)]
    rows: list[Row] = []
    label = f"feeding orders drained/s, {PROCESSES} workers × {THREADS} threads"
    for connections in (1, THREADS):
        echo = measure(ports.bare, [raws[index::connections] for index in range(connections)])
        rows.append((f"{label} [echo {connections} conn.]", rate, echo.rate))
    return [*rows, ceiling_row(label, rate, THREADS)]

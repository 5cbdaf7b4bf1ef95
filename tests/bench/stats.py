"""Benchmark: the usage indicators' full CSV of one year, for a hospital of 200,000 stays and 2,000,000
documents with their feeding orders and business acks.

Loaded with SQL (as tests/bench/documents.py does: rows first, then indexes and constraints): two
sites of ten units, 100,000 patients, the stays of 2025 (full, ambulatory, consultations, emergencies;
some still open, a quarter surgical), four Ségur documents per two stays, one version each, one DMP
order per document (most acknowledged by a Z01, some refused by the DMP, failed at the PFI, refused
by the checks, a few historical), an MSSanté order for one document in five (to a professional, and
to the patient for half of them) with their Z02, and the information/opposition of half the stays.

Rows loaded with SQL bypass the saves that mark documents stale, so the per-document outcome table is
rebuilt first, as ``manage.py rebuild_indicators`` does (timed and printed: the background job's cost).
Measured: ``stats.indicators.compute`` for 2025 and the CSV written out (``stats.export``), in this
process, beside a bare ``COUNT(*)`` over the same tables in the same run. The DMP successes of the CSV
must equal a direct count, else the run fails.
"""

from __future__ import annotations

import csv
import io
import time

from tests.bench.common import Row
from tests.bench.documents import insert, reserve_ids, rows_first

STAYS = 200_000
DOCUMENTS = 2_000_000
UNITS = 20  # ten per site
FINESS = ("020000035", "020000043")
SEGUR = ("11490-0", "34874-8", "57833-6", "11488-4")
YEAR = 2025
SEED = 0.14
COUNTED = (
    "patients_episode", "documents_document", "documents_documentversion", "dmp_feedingorder",
    "dmp_businessack", "consent_consentdecision", "stats_documentoutcome",
)  # fmt: skip

# The stay of every number n: its admission spread over the year, its length, kind, unit.
EPISODE_VALUES = {
    "id": "%(first_episode)s + n",
    "patient_id": "%(first_patient)s + n %% %(patients)s",
    "visit_number": "'ST' || lpad(n::text, 8, '0')",
    "visit_authority": "'BENCH'",
    "kind": "(ARRAY['hospitalisation', 'hospitalisation', 'hospitalisation', 'hospitalisation', 'hospitalisation', "
    "'hospitalisation', 'ambulatoire', 'ambulatoire', 'consultation', 'urgence'])[1 + n %% 10]",
    "care_unit_id": "(%(units)s::bigint[])[1 + n %% %(unit_count)s]",
    "admitted_at": "%(year_start)s::timestamptz + (n::float / %(stays)s) * interval '360 days'",
    "discharged_at": "CASE WHEN n %% 50 = 0 THEN NULL ELSE %(year_start)s::timestamptz "
    "+ (n::float / %(stays)s) * interval '360 days' + (n %% 7) * interval '1 day' + interval '5 hours' END",
    "surgical": "n %% 4 = 0",
}
# Document n belongs to stay n % STAYS: same patient, unit and FINESS; written a day after admission.
DOCUMENT_VALUES = {
    "id": "%(first_document)s + n",
    "patient_id": "%(first_patient)s + (n %% %(stays)s) %% %(patients)s",
    "episode_id": "%(first_episode)s + n %% %(stays)s",
    "set_id": "'1.2.250.1.999.14.' || n",
    "type_code": "(%(types)s::text[])[1 + (n / %(stays)s) %% 4]",
    "type_label": "'Document Ségur'",
    "title": "'Document'",
    "act_date": "%(year_start)s::timestamptz + ((n %% %(stays)s)::float / %(stays)s) * interval '360 days' "
    "+ interval '1 day'",
    "provenance": "'produced'",
    "status": "'validated'",
    "care_unit_id": "(%(units)s::bigint[])[1 + (n %% %(stays)s) %% %(unit_count)s]",
    "finess_eg": "(%(finess)s::text[])[1 + ((n %% %(stays)s) %% %(unit_count)s) / %(units_per_site)s]",
    "current_version_id": "%(first_version)s + n",
}
DOCUMENTS_SOURCE = "generate_series(0, %(documents)s - 1) AS n"
OURS = "documents_document WHERE id BETWEEN %(first_document)s AND %(last_document)s"
VERSION_VALUES = {
    "id": "current_version_id",
    "document_id": "id",
    "version_number": "1",
    "cda_id_root": "'1.2.250.1.999.14.' || id",
}
# DMP: n % 20 = 0 failed at the PFI, = 1 refused by the checks, else sent; n % 50 = 2 historical.
DMP_ORDER_VALUES = {
    "document_id": "id",
    "version_id": "current_version_id",
    "channel": "'dmp'",
    "purpose": "'publish'",
    "kind": "CASE WHEN id %% 50 = 2 THEN 'historical' ELSE 'automatic' END",
    "state": "CASE id %% 20 WHEN 0 THEN 'failed' WHEN 1 THEN 'refused' ELSE 'sent' END",
    "reason": "CASE WHEN id %% 20 IN (0, 1) THEN 'bench' ELSE '' END",
    "due_at": "act_date + interval '2 hours'",
    "sent_at": "CASE WHEN id %% 20 > 1 THEN act_date + interval '2 hours' END",
    "control_id": "'D' || id",
}
MSS_ORDER_VALUES = DMP_ORDER_VALUES | {
    "channel": "'mss'",
    "kind": "'automatic'",
    "mss_recipients": "'[\"dr.martin@hop.mssante.fr\"]'::jsonb",
    "mss_patient": "id %% 10 = 0",
    "control_id": "'M' || id",
}
MAILED = f"{OURS} AND id %% 5 = 0"
SENT_ORDERS = "dmp_feedingorder WHERE state = 'sent' AND document_id BETWEEN %(first_document)s AND %(last_document)s"
# One Z01 per sent DMP order (1 in 25 a rejection); one Z02 per recipient of a sent mail.
Z01_VALUES = {
    "order_id": "id",
    "event": "'Z01'",
    "success": "document_id %% 25 <> 3",
    "message_id": "%(message)s",
    "received_at": "sent_at + interval '1 minute'",
}
Z02_PRO_VALUES = Z01_VALUES | {"event": "'Z02'", "recipient": "'dr.martin@hop.mssante.fr'", "success": "true"}
Z02_PATIENT_VALUES = Z02_PRO_VALUES | {"recipient": "'x@patient.mssante.fr'", "success": "document_id %% 3 <> 0"}
CONSENT_VALUES = {
    "episode_id": "id",
    "subject": "'dmp_feeding'",
    "state": "CASE WHEN id %% 10 = 0 THEN 'informed_opposed' ELSE 'informed_not_opposed' END",
    "collected_at": "admitted_at",
    "source": "'pam'",
}


def create_structure() -> tuple[list[int], int]:
    """Two sites of ten units each; the message every business ack points to."""
    from dpi.hl7.ack import new_control_id
    from dpi.hl7.models import Message
    from dpi.models import CareUnit, LegalEntity, Site

    entity = LegalEntity.objects.create(finess_ej="010000140", name="CH bench indicateurs")
    sites = [Site.objects.create(legal_entity=entity, finess_eg=f, name=f"Site {f}") for f in FINESS]
    units = CareUnit.objects.bulk_create(
        CareUnit(site=sites[n * len(sites) // UNITS], code=f"IND{n:02d}", name=f"Unité {n}") for n in range(UNITS)
    )
    message = Message.objects.create(
        direction=Message.Direction.INBOUND, status=Message.Status.PROCESSED, raw=b"MSH", size=3,
        message_type="ACK^Z01^ACK", control_id=new_control_id(),
    )  # fmt: skip
    return [unit.pk for unit in units], message.pk


def load(stays: int, documents: int) -> dict[str, int]:
    from django.db import connection

    from consent.models import ConsentDecision
    from dmp.models import BusinessAck, FeedingOrder
    from documents.models import Document, DocumentVersion
    from patients.models import Episode, Patient

    units, message = create_structure()
    patients = stays // 2
    params = {
        "stays": stays, "documents": documents, "patients": patients, "units": units, "unit_count": UNITS,
        "units_per_site": UNITS // len(FINESS), "finess": list(FINESS), "types": list(SEGUR), "message": message,
        "year_start": f"{YEAR}-01-01T00:00:00+01:00", "first_patient": reserve_ids(Patient, patients),
        "first_episode": reserve_ids(Episode, stays), "first_document": reserve_ids(Document, documents),
        "first_version": reserve_ids(DocumentVersion, documents),
    }  # fmt: skip
    params["last_document"] = params["first_document"] + documents - 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [SEED])
    loaded: dict[str, int] = {}
    models = [Patient, Episode, Document, DocumentVersion, FeedingOrder, BusinessAck, ConsentDecision]
    with rows_first(models):
        loaded["patients"] = insert(Patient, {
            "id": "%(first_patient)s + n", "ipp": "'IND' || lpad(n::text, 7, '0')", "ipp_authority": "'BENCH'",
            "birth_name": "'BENCH'", "first_names": "'ALEX'", "sex": "'F'",
        }, "generate_series(0, %(patients)s - 1) AS n", params)  # fmt: skip
        loaded["stays"] = insert(Episode, EPISODE_VALUES, "generate_series(0, %(stays)s - 1) AS n", params)
        loaded["documents"] = insert(Document, DOCUMENT_VALUES, DOCUMENTS_SOURCE, params)
        loaded["versions"] = insert(DocumentVersion, VERSION_VALUES, OURS, params)
        loaded["orders"] = insert(FeedingOrder, DMP_ORDER_VALUES, OURS, params)
        loaded["orders"] += insert(FeedingOrder, MSS_ORDER_VALUES, MAILED, params)
        loaded["acks"] = insert(BusinessAck, Z01_VALUES, f"{SENT_ORDERS} AND channel = 'dmp'", params)
        loaded["acks"] += insert(BusinessAck, Z02_PRO_VALUES, f"{SENT_ORDERS} AND channel = 'mss'", params)
        mailed_patients = f"{SENT_ORDERS} AND channel = 'mss' AND mss_patient"
        loaded["acks"] += insert(BusinessAck, Z02_PATIENT_VALUES, mailed_patients, params)
        consented = "patients_episode WHERE id %% 2 = 0 AND id >= %(first_episode)s"
        loaded["consent decisions"] = insert(ConsentDecision, CONSENT_VALUES, consented, params)
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return loaded


def full_csv() -> tuple[float, list]:
    """Seconds to compute the year and write its CSV, and the rows."""
    from stats.export import csv_rows, header
    from stats.indicators import Period, compute

    started = time.perf_counter()
    rows = compute(Period.year(YEAR))
    writer = csv.writer(io.StringIO(), delimiter=";")
    writer.writerow(header())
    writer.writerows(csv_rows(rows))
    return time.perf_counter() - started, rows


def bare_counts() -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in COUNTED:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (our table names)
            cursor.fetchone()
    return time.perf_counter() - started


def check(rows: list) -> None:
    """The DMP successes of the CSV equal a direct count of the documents with a positive Z01."""
    from dmp.models import FeedingOrder

    fed = sum(row.numerator for row in rows if row.code in ("DMP_OK", "DMP_HISTO_OK"))
    direct = (
        FeedingOrder.objects.filter(channel="dmp", state="sent", acks__event="Z01", acks__success=True)
        .values("document")
        .distinct()
        .count()
    )
    if fed != direct or not fed:
        raise SystemExit(f"indicators: {fed} documents fed to the DMP in the CSV, {direct} in the tables")


def rebuild() -> float:
    """Seconds of the background rebuild of the outcome table (``manage.py rebuild_indicators``)."""
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("rebuild_indicators", stdout=io.StringIO())
    return time.perf_counter() - started


def compare(stays: int = STAYS, documents: int = DOCUMENTS) -> list[Row]:
    started = time.perf_counter()
    loaded = load(stays, documents)
    counts = ", ".join(f"{count:,} {name}" for name, count in loaded.items())
    print(f"stats: loaded {counts} in {time.perf_counter() - started:.1f} s", flush=True)
    print(f"stats: outcome table rebuilt (the background job after a bulk load) in {rebuild():.1f} s", flush=True)
    full_csv()  # warm-up: the planner's caches, the tables in memory as far as they fit
    seconds, rows = full_csv()
    check(rows)
    baseline = min(bare_counts() for _ in range(3))
    label = f"usage indicators, CSV of a year ({len(rows):,} lines), {stays:,} stays, {documents:,} docs, s"
    return [(f"{label} [COUNT(*)]", seconds, baseline)]

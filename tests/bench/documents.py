"""Benchmark: server time of a patient's documents list, in a database of a million documents.

GET /patients/<pk>/documents/ (``documents.views.document_list``: the htmx partial, one line per
document) through ``django.test.Client`` in this process, timed from request to response:
middleware (session, second factor), habilitation, the view's queries and the template. For a
patient with 2,000 documents among 1,000,000 (spread over 100,000 patients, loaded with SQL), beside
the same request for a patient of the same unit without documents, the two alternating: date sort
(the default), type sort, a type filter, a period filter. Each page must list every document the
database holds for its filters, else the run fails.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tests.bench.common import Row, signed_in

if TYPE_CHECKING:
    from django.db.models import Model
    from django.http import HttpResponse
    from django.test import Client

    from dpi.models import User

TOTAL_DOCUMENTS = 1_000_000
PATIENTS = 100_000  # the measured patient, the patient without documents, and the others
MEASURED_DOCUMENTS = 2_000
MEASURED, EMPTY = 0, 1  # patient numbers; the others are 2 .. PATIENTS - 1
UNITS = 10  # the others' episodes are spread over them; the user's unit is the first
WARM_UP = 3
REQUESTS = 30  # each way: a 2,000-line page takes about a second here, make bench stays under 4 minutes
SEED = 0.42
FIRST_ACT = "2021-01-01T00:00:00+01:00"  # act dates spread over five years from here
ROW = 'data-testid="document-row"'
# LOINC type (JDV_J07-XdsTypeCode-CISIS), label, title, weight: a hospital's mix, biology first.
TYPES = (
    ("11502-2", "CR d'examens biologiques", "Résultats de biologie", 30),
    ("11488-4", "Compte rendu de consultation", "CR de consultation", 15),
    ("18748-4", "CR d'imagerie médicale", "CR d'imagerie", 12),
    ("11490-0", "Lettre de liaison à la sortie d'un établissement de soins", "Lettre de liaison", 8),
    ("57833-6", "Prescription de sortie (produits de santé)", "Ordonnance de sortie", 8),
    ("34112-3", "CR d'hospitalisation (séjour)", "CR d'hospitalisation", 5),
    ("34874-8", "Compte rendu opératoire", "CR opératoire", 4),
    ("11526-1", "CR d'anatomie et de cytologie pathologiques", "CR d'anatomopathologie", 3),
    ("34794-8", "CR de réunion de concertation pluridisciplinaire", "CR de RCP", 2),
    ("60591-5", "Synthèse médicale", "Synthèse", 2),
)
PROVENANCES = (("produced", 55), ("mss", 25), ("dmp", 15), ("manual", 5))
STATUSES = (("validated", 90), ("draft", 4), ("replaced", 4), ("deleted", 2))
AUTHORS = (
    ("Dr Claire MARTIN", "Médecin - Médecine interne"),
    ("Dr Paul BERNARD", "Médecin - Chirurgie viscérale"),
    ("Dr Inès PETIT", "Médecin - Radiodiagnostic"),
    ("Dr Marc DUBOIS", "Médecin - Biologie médicale"),
    ("Dr Léa MOREAU", "Médecin - Cardiologie"),
    ("Dr Hugo LAURENT", "Médecin - Anatomie et cytologie pathologiques"),
)
NAMES = ("MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU", "LAURENT")
TYPE_FILTER = "11490-0"
PERIOD = ("2025-01-01", "2025-12-31")
SCENARIOS: tuple[tuple[str, dict[str, str]], ...] = (
    ("date sort", {}),
    ("type sort", {"sort": "type"}),
    ("type filter", {"type": TYPE_FILTER}),
    ("period filter", {"from": PERIOD[0], "to": PERIOD[1]}),
)
SITE_FINESS = "020000027"

# Drawn once per document, in creation order: every 500th document is the measured patient's, so
# that its rows lie among the others' in the table as they would after five years of use.
DRAWN_DOCUMENTS = """(
    SELECT n,
        CASE WHEN n %% %(stride)s = 0 THEN %(measured)s ELSE 2 + floor(random() * %(others)s)::int END AS patient,
        (%(type_slots)s::int[])[1 + floor(random() * %(type_slot_count)s)::int] AS kind,
        %(first_act)s::timestamptz + random() * interval '1826 days' AS act_date,
        (%(provenance_slots)s::text[])[1 + floor(random() * %(provenance_slot_count)s)::int] AS provenance,
        (%(status_slots)s::text[])[1 + floor(random() * %(status_slot_count)s)::int] AS status,
        1 + floor(random() * %(author_count)s)::int AS author,
        random() < 0.01 AS hold_sending
    FROM generate_series(1, %(total)s) AS n
) AS drawn"""
DOCUMENT_VALUES = {
    "id": "%(first_document)s + n - 1",
    "patient_id": "%(first_patient)s + patient",
    "episode_id": "%(first_episode)s + patient",
    "set_id": "'1.2.250.1.999.1.1.' || (%(first_document)s + n - 1)",
    "type_code": "(%(type_codes)s::text[])[kind]",
    "type_label": "(%(type_labels)s::text[])[kind]",
    "title": "(%(type_titles)s::text[])[kind]",
    "act_date": "act_date",
    "created_at": "act_date + interval '2 hours'",
    "provenance": "provenance",
    "status": "CASE WHEN status = 'draft' AND provenance <> 'produced' THEN 'validated' ELSE status END",
    "author_name": "(%(author_names)s::text[])[author]",
    "author_role": "(%(author_roles)s::text[])[author]",
    "author_organization": "CASE WHEN provenance = 'produced' THEN 'CH bench documents' ELSE 'CHU voisin' END",
    "care_unit_id": "CASE WHEN provenance = 'produced' THEN %(unit)s END",
    "finess_eg": "CASE WHEN provenance = 'produced' THEN %(finess_eg)s ELSE '' END",
    "hold_sending": "hold_sending AND provenance = 'produced'",
    "current_version_id": "CASE WHEN status <> 'draft' OR provenance <> 'produced' THEN %(first_version)s + n - 1 END",
}
# Version 1 of every document that has one (drafts have none), with the ids the documents point at.
VERSION_VALUES = {
    "id": "current_version_id",
    "document_id": "id",
    "version_number": "1",
    "cda_id_root": "'1.2.250.1.999.1.2.' || id || '.1'",
    "created_at": "created_at",
    "validated_at": "created_at",
}
# Unique constraints, then foreign keys, of the given tables; then their other indexes (the primary keys stay).
CONSTRAINTS = """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
    WHERE contype IN ('u', 'f') AND conrelid = ANY(%s::regclass[]) ORDER BY contype DESC, conname"""
INDEXES = """SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
    WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary
    AND NOT EXISTS (SELECT FROM pg_constraint WHERE conindid = indexrelid AND contype IN ('p', 'u'))"""
OUR_DOCUMENTS = "documents_document WHERE id BETWEEN %(first_document)s AND %(last_document)s"
VERSIONED = f"{OUR_DOCUMENTS} AND current_version_id IS NOT NULL"
# The DMP state of every produced document sent, acknowledged for most, a few failures.
DMP_EXPORT_VALUES = {
    "document_id": "id",
    "channel": "'dmp'",
    "state": "(ARRAY['acknowledged', 'acknowledged', 'acknowledged', 'acknowledged', 'acknowledged', "
    "'acknowledged', 'acknowledged', 'acknowledged', 'sent', 'pending', 'failed'])[1 + id %% 11]",
    "reason": "CASE WHEN id %% 11 = 10 THEN 'Rejet du DMP : patient inconnu' ELSE '' END",
}
SENT = f"{OUR_DOCUMENTS} AND provenance = 'produced' AND status IN ('validated', 'replaced') AND NOT hold_sending"
# Letters and prescriptions also go to the general practitioner by MSSanté.
MSS_EXPORT_VALUES = {
    "document_id": "id",
    "channel": "'mss_pro'",
    "recipient": "'medecin.traitant@medecin.mssante.fr'",
    "state": "'acknowledged'",
}
MAILED = f"{SENT} AND type_code IN ('11490-0', '57833-6')"


@dataclass(frozen=True)
class Bench:
    """What the loading made: the logged-in client and the two patients compared."""

    client: Client
    measured: int  # patient pks
    empty: int


def slots(weighted: tuple[tuple[str, int], ...]) -> list[str]:
    """Each value repeated by its weight: a uniform draw in the list is a weighted draw."""
    return [value for value, weight in weighted for _ in range(weight)]


def sql_for(model: type[Model], values: Mapping[str, str], source: str) -> tuple[str, dict[str, object]]:
    """INSERT INTO the model's table SELECT ``values`` (SQL by column) FROM ``source``; every other
    column gets its field's default (``now()`` for auto dates), so a new column cannot be missed."""
    from django.db import connection

    columns, expressions, defaults = [], [], {}
    for field in model._meta.local_concrete_fields:
        if field.primary_key and field.column not in values:
            continue  # from the table's sequence
        columns.append(connection.ops.quote_name(field.column))
        if field.column in values:
            expressions.append(values[field.column])
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            expressions.append("now()")
        else:
            expressions.append(f"%(default_{field.column})s")
            defaults[f"default_{field.column}"] = field.get_db_prep_save(field.get_default(), connection)
    table = connection.ops.quote_name(model._meta.db_table)
    statement = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(expressions)} FROM {source}"  # noqa: S608 (columns from the model, values as parameters)
    return statement, defaults


def insert(model: type[Model], values: Mapping[str, str], source: str, params: Mapping[str, object]) -> int:
    from django.db import connection

    statement, defaults = sql_for(model, values, source)
    with connection.cursor() as cursor:
        cursor.execute(statement, {**params, **defaults})
        return cursor.rowcount


def reserve_ids(model: type[Model], count: int) -> int:
    """The first of ``count`` consecutive primary keys taken from the table's sequence."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [model._meta.db_table])
        sequence = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s)", [sequence])
        first = cursor.fetchone()[0]
        cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return first


def create_structure() -> tuple[User, list[int]]:
    """A legal entity, a site and its units; a physician of the first unit with a second factor."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from dpi.models import CareUnit, LegalEntity, Membership, Role, Site, User

    entity = LegalEntity.objects.create(finess_ej="010000024", name="CH bench documents")
    site = Site.objects.create(legal_entity=entity, finess_eg=SITE_FINESS, name="Site bench documents")
    units = CareUnit.objects.bulk_create(
        CareUnit(site=site, code=f"DOC{n:02d}", name=f"Unité {n}") for n in range(UNITS)
    )
    user = User.objects.create_user(username="bench-documents", first_name="Claire", last_name="Martin")
    role = Role.objects.create(code="bench-medecin", label="Médecin", scope=Role.Scope.CARE_UNIT)
    Membership.objects.create(user=user, care_unit=units[0], role=role)
    TOTP.activate(user, generate_totp_secret())
    return user, [unit.pk for unit in units]


def load_patients(units: list[int]) -> tuple[int, int]:
    """PATIENTS patients with an episode each: the two compared in the user's unit, the others spread."""
    from patients.models import Episode, Patient

    first_patient, first_episode = reserve_ids(Patient, PATIENTS), reserve_ids(Episode, PATIENTS)
    params = {"first_patient": first_patient, "first_episode": first_episode, "names": list(NAMES), "units": units}
    source = "generate_series(0, %(count)s - 1) AS n"
    insert(Patient, {
        "id": "%(first_patient)s + n",
        "ipp": "'DOC' || lpad(n::text, 7, '0')",
        "ipp_authority": "'BENCH'",
        "birth_name": "(%(names)s::text[])[1 + n %% 10]",
        "first_names": "CASE WHEN n %% 2 = 0 THEN 'JEANNE' ELSE 'PIERRE' END",
        "birth_date": "date '1930-01-01' + (n * 7919) %% 32000",
        "sex": "CASE WHEN n %% 2 = 0 THEN 'F' ELSE 'M' END",
    }, source, {**params, "count": PATIENTS})  # fmt: skip
    insert(Episode, {
        "id": "%(first_episode)s + n",
        "patient_id": "%(first_patient)s + n",
        "visit_number": "'DOC' || lpad(n::text, 8, '0')",
        "visit_authority": "'BENCH'",
        "kind": "'hospitalisation'",
        "care_unit_id": f"(%(units)s::bigint[])[CASE WHEN n < 2 THEN 1 ELSE 1 + n %% {UNITS} END]",
        "admitted_at": "now() - interval '3 days'",
    }, source, {**params, "count": PATIENTS})  # fmt: skip
    return first_patient, first_episode


def document_params(first_patient: int, first_episode: int, unit: int) -> dict[str, object]:
    from documents.models import Document, DocumentVersion

    first_document = reserve_ids(Document, TOTAL_DOCUMENTS)
    type_slots = [index + 1 for index, (*_type, weight) in enumerate(TYPES) for _ in range(weight)]
    provenance_slots, status_slots = slots(PROVENANCES), slots(STATUSES)
    return {
        "total": TOTAL_DOCUMENTS, "stride": TOTAL_DOCUMENTS // MEASURED_DOCUMENTS, "measured": MEASURED,
        "others": PATIENTS - 2, "first_patient": first_patient, "first_episode": first_episode, "unit": unit,
        "first_document": first_document, "last_document": first_document + TOTAL_DOCUMENTS - 1,
        "first_version": reserve_ids(DocumentVersion, TOTAL_DOCUMENTS), "first_act": FIRST_ACT,
        "type_slots": type_slots, "type_slot_count": len(type_slots),
        "type_codes": [t[0] for t in TYPES], "type_labels": [t[1] for t in TYPES], "type_titles": [t[2] for t in TYPES],
        "provenance_slots": provenance_slots, "provenance_slot_count": len(provenance_slots),
        "status_slots": status_slots, "status_slot_count": len(status_slots),
        "author_names": [a[0] for a in AUTHORS], "author_roles": [a[1] for a in AUTHORS], "author_count": len(AUTHORS),
        "finess_eg": SITE_FINESS,
    }  # fmt: skip


def load_documents(params: Mapping[str, object]) -> dict[str, int]:
    """Documents, their versions and export states."""
    from django.db import connection

    from documents.models import Document, DocumentVersion, ExportStatus

    with rows_first([Document, DocumentVersion, ExportStatus]):
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [SEED])
        loaded = {
            "documents": insert(Document, DOCUMENT_VALUES, DRAWN_DOCUMENTS, params),
            "versions": insert(DocumentVersion, VERSION_VALUES, VERSIONED, params),
            "export states": insert(ExportStatus, DMP_EXPORT_VALUES, SENT, params),
        }
        loaded["export states"] += insert(ExportStatus, MSS_EXPORT_VALUES, MAILED, params)
    return loaded


@contextmanager
def rows_first(models: Sequence[type[Model]]) -> Iterator[None]:
    """As pg_restore does: the tables' indexes, unique and foreign-key constraints are dropped, the rows
    loaded, then each index built and each constraint checked in one pass, not row by row."""
    from django.db import connection

    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        cursor.execute(CONSTRAINTS, [tables])
        constraints = cursor.fetchall()
        cursor.execute(INDEXES, [tables])
        indexes = cursor.fetchall()
        for table, name, _definition in constraints:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in constraints:  # unique ones first: foreign keys may need them
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")


def vacuum_analyze() -> None:
    """As autovacuum would have long done: statistics for the planner, visibility for index-only scans."""
    from django.db import connection

    from documents.models import Document, DocumentVersion, ExportStatus
    from patients.models import Episode, Patient

    with connection.cursor() as cursor:
        for model in (Patient, Episode, Document, DocumentVersion, ExportStatus):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def load() -> Bench:
    started = time.perf_counter()
    user, units = create_structure()
    first_patient, first_episode = load_patients(units)
    loaded = load_documents(document_params(first_patient, first_episode, units[0]))
    vacuum_analyze()
    counts = ", ".join(f"{count:,} {name}" for name, count in loaded.items())
    print(f"documents: loaded {PATIENTS:,} patients, {counts} in {time.perf_counter() - started:.1f} s", flush=True)
    bench = Bench(client=signed_in(user), measured=first_patient + MEASURED, empty=first_patient + EMPTY)
    if expected_rows(bench.measured, {}) != MEASURED_DOCUMENTS or expected_rows(bench.empty, {}):
        raise SystemExit(f"documents not loaded: the measured patient must have {MEASURED_DOCUMENTS}, the other none")
    return bench


@dataclass(frozen=True)
class Timed:
    p50: float  # milliseconds, from the request to the response
    p95: float
    rows: int  # document lines of every page


def rows_in(response: HttpResponse) -> int:
    if response.status_code != 200:
        raise SystemExit(f"documents list answered {response.status_code}, not 200")
    return response.content.decode().count(ROW)


def timed_get(client: Client, url: str, params: Mapping[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(url, params)
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, rows_in(response)


def server_times(client: Client, urls: tuple[str, str], params: Mapping[str, str]) -> tuple[Timed, Timed]:
    """WARM_UP then REQUESTS requests of each URL, alternating, so that both see the same machine."""
    for _ in range(WARM_UP):
        for url in urls:
            timed_get(client, url, params)
    samples: tuple[list[tuple[float, int]], list[tuple[float, int]]] = ([], [])
    for _ in range(REQUESTS):
        for url, taken in zip(urls, samples, strict=True):
            taken.append(timed_get(client, url, params))
    return summary(samples[0]), summary(samples[1])


def summary(samples: list[tuple[float, int]]) -> Timed:
    lines = {rows for _elapsed, rows in samples}
    if len(lines) != 1:
        raise SystemExit(f"documents list: the same request listed {sorted(lines)} lines")
    centiles = statistics.quantiles([elapsed for elapsed, _rows in samples], n=100)
    return Timed(p50=centiles[49], p95=centiles[94], rows=lines.pop())


def expected_rows(patient: int, params: Mapping[str, str]) -> int:
    """What the database holds for the page's filters, counted without the list's code."""
    from documents.models import Document

    documents = Document.objects.filter(patient_id=patient)
    if "type" in params:
        documents = documents.filter(type_code=params["type"])
    if "from" in params:
        documents = documents.filter(act_date__date__range=(params["from"], params["to"]))
    return documents.count()


def check(label: str, ours: Timed, base: Timed, expected: int) -> None:
    """The first page of the filtered documents (PAGE_SIZE lines at most), none for the patient without."""
    from documents.views import PAGE_SIZE

    if ours.rows != min(expected, PAGE_SIZE) or not expected or base.rows:
        raise SystemExit(
            f"documents list, {label}: {ours.rows} lines for {expected} documents in the database "
            f"and {base.rows} for the patient without documents"
        )


def query_count(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        rows_in(client.get(url))
    return len(queries)


def compare() -> list[Row]:
    from django.urls import reverse

    bench = load()
    urls = (reverse("documents:list", args=[bench.measured]), reverse("documents:list", args=[bench.empty]))
    rows: list[Row] = []
    for label, params in SCENARIOS:
        ours, base = server_times(bench.client, urls, params)
        expected = expected_rows(bench.measured, params)
        check(label, ours, base, expected)
        figure = f"Documents list, {label}, first {ours.rows:,} lines of {expected:,}"
        rows += [
            (f"{figure}: p50 server time (ms) [no documents]", ours.p50, base.p50),
            (f"{figure}: p95 server time (ms) [no documents]", ours.p95, base.p95),
        ]
    queries = (query_count(bench.client, urls[0]), query_count(bench.client, urls[1]))
    return [*rows, ("Documents list, date sort: SQL queries/request [no documents]", *queries)]

"""Benchmark: the patient's DMP consulted from the file, against the sandbox DMP over mutual TLS.

The real sandbox DMP (``sandbox.dmp.server.start_dmp_in_thread``: HTTPS with client certificates,
VIHF checked, every call recorded) runs in threads of this process on free ports, with the test PKI
(``sandbox.pki.ensure_test_pki``); the DPI's ``DMP_*`` settings point at it, as the ``live_dmp``
fixture of the tests does. A physician (RPPS, TOTP) and two patients of their unit (qualified INS,
an outpatient visit, informed and not opposed to DMP consultation) whose DMPs hold 500 documents each,
filed by :func:`sandbox.dmp.seed.seed_dmp` over five years (real CDA documents; the seeding is timed
and printed above the table); the physician is authorised on both. Every request goes through
``django.test.Client`` in this process, timed from request to response:

* the patient file page (GET /patients/<pk>/) with DMP consultation enabled, alternating with the
  same page under ``DMP_CONSULTATION_ENABLED = False`` (``[DMP disabled]``): the page itself never
  calls the DMP (the run fails if it does), it holds two placeholders that htmx fills afterwards;
  its size and SQL queries too;
* listing the DMP as the file does when the user arrives, in a new session each time (nothing
  cached): GET /dmp/patients/<pk>/etat/ (TD0.2) then GET /dmp/patients/<pk>/dossier/ (the panel:
  FindDocuments of the last two years, the new documents — FindSubmissionSets, GetAssociations,
  GetDocuments for those not listed — and the updates of documents integrated from the DMP);
* the search of the whole DMP (GET /dmp/patients/<pk>/recherche/, no period: one FindDocuments);
* integrating 20 documents of the list in one action (POST /dmp/patients/<pk>/integrer/: one TD3.2
  for the 20, then each CDA integrated in the file), 20 new ones each time, after a new session has
  listed the DMP (not timed);
* the list again once 120 documents were integrated from the DMP, alternating with the same list for
  the other patient, nothing integrated from theirs (``[none integrated]``): the panel then also
  follows what became of each integrated document (GetDocuments, each link updated); and the panel
  reopened in the same session (its list from the session's cache, the integrated documents followed
  again at every opening), alternating the same way.

Baseline of the DMP figures, ``[bare HTTPS round trip]``: an httpx POST without body, with the same
client certificate, to the same sandbox listener on a kept-alive connection (the DPI's clients keep
theirs alive too), which the sandbox answers at once (an unknown service: 404, no database, no XML),
four before each run, each after a pause of 0.1 s. Back to back, such round trips take about 40 ms
each: the sandbox's listener writes the headers and the body of an answer separately without
TCP_NODELAY, so the body waits for the client's delayed ACK — the last row shows it in every run.
"Of which DMP requests" sums the durations the DPI traced for its DMP transactions in the run
(``DmpTransaction.duration_ms``: signing the VIHF, HTTPS, the sandbox's work, reading the answer).
Every run of a figure must list the same entries with the same DMP requests, every integration must
integrate its 20 documents, else the benchmark fails. See docs/benchmarks.md for how to read them.
"""

from __future__ import annotations

import logging
import re
import ssl
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from tests.bench.common import Row, signed_in

if TYPE_CHECKING:
    from django.http import HttpResponse
    from django.test import Client

    from dpi.models import CareUnit, User
    from sandbox.dmp.server import DmpServer

DOCUMENTS = 500
INTEGRATED = 20  # documents integrated in one action
WARM_UP = 3  # file page requests each way, not counted
PAGE_REQUESTS = 30  # each way
LISTS = 7  # each in a new session, after one not counted
SEARCHES = 7
INTEGRATIONS = 5  # counted, after one not counted: 120 documents integrated in all
ROUND_TRIPS = 4  # bare round trips before each run
PAUSE = 0.1  # seconds before each: more than the client's delayed ACK (40 ms)
BACK_TO_BACK = 20
# Test INS (key = 97 - first 13 digits mod 97): the measured patient, and their twin whose DMP is never integrated from.
PATIENTS = (("279036322050080", "DMP-BENCH"), ("279036322050179", "DMP-JUMEAU"))
INS_OID = "1.2.250.1.213.1.4.10"
SECTION = 'data-testid="dmp-section"'
AUTHORISED = 'data-state="authorised"'
ENTRY_ROW = 'data-testid="dmp-entry"'
INTEGRATED_OK = 'data-testid="dmp-integrated" data-ok="1"'
CHECKBOX = re.compile(r'<input type="checkbox" name="entry" value="(urn:uuid:[0-9a-f-]{36})"[^>]*>')
FAILED = re.compile(r'data-ok="0">\s*(.*?)\s*</li>', re.DOTALL)
QUIET = ("httpx", "sandbox.dmp", "dmp.clients")  # a log line per DMP request otherwise


@dataclass(frozen=True)
class Bench:
    """The physician, and two patients of their unit whose DMPs hold DOCUMENTS documents each."""

    user: User
    patient: int  # pk of the measured patient
    twin: int  # pk of the patient whose DMP nothing is integrated from


@dataclass(frozen=True)
class Timed:
    """The median of repeated runs: server time, the part spent in DMP requests, and what was seen."""

    total: float  # milliseconds
    dmp: float  # milliseconds, sum of the traced DMP transactions
    requests: int  # DMP transactions per run
    items: int  # entries listed, documents integrated


# --- set-up ------------------------------------------------------------------------------------------


@contextmanager
def sandbox() -> Iterator[DmpServer]:
    """The sandbox DMP on free ports, and the DPI's settings pointed at it (as the ``live_dmp`` fixture)."""
    from django.conf import settings

    from sandbox.dmp.server import start_dmp_in_thread
    from sandbox.models import DmpBehaviour
    from sandbox.pki import ensure_test_pki

    pki = ensure_test_pki(settings.DMP_PKI_DIR).folder
    DmpBehaviour.objects.update_or_create(pk=DmpBehaviour.SINGLETON_PK, defaults={"mode": DmpBehaviour.Mode.NORMAL})
    server = start_dmp_in_thread(pki_dir=pki)
    overrides = {
        "DMP_CONSULTATION_ENABLED": True,
        "DMP_PATIENTS_URL": server.patients_url,
        "DMP_REGISTRY_URL": server.registry_url,
        "DMP_REPOSITORY_URL": server.repository_url,
        "DMP_WEBPS_URL": server.webps_url,
        "DRIMBOX_URL": server.drimbox_url,
        "DMP_CLIENT_CERT": str(pki / "structure.crt"),
        "DMP_CLIENT_KEY": str(pki / "structure.key"),
        "DMP_SIGNING_CERT": str(pki / "structure.crt"),
        "DMP_SIGNING_KEY": str(pki / "structure.key"),
        "DMP_CA_BUNDLE": str(pki / "ca.crt"),
    }
    saved = {name: getattr(settings, name) for name in overrides}
    for name, value in overrides.items():
        setattr(settings, name, value)
    try:
        yield server
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)
        server.stop()


def load() -> Bench:
    """The physician and the two patients, each with a DMP of DOCUMENTS documents where the physician is authorised
    (the seeding draws the dates from the INS: the two DMPs do not hold the same number of documents of the last
    two years: the run prints how many the twin's panel lists)."""
    from tests.factories import CareUnitFactory, MembershipFactory, RoleFactory, UserFactory

    unit = CareUnitFactory()
    user = UserFactory(username="bench-dmp", specialty="SM26")
    MembershipFactory(user=user, care_unit=unit, role=RoleFactory())
    started = time.perf_counter()
    measured, twin = (patient_with_dmp(user, unit, ins, name) for ins, name in PATIENTS)
    seeded = time.perf_counter() - started
    print(f"dmp: seeded 2 DMPs of {DOCUMENTS} documents in {seeded:.1f} s", flush=True)
    return Bench(user=user, patient=measured, twin=twin)


def patient_with_dmp(user: User, unit: CareUnit, ins: str, name: str) -> int:
    """A patient of ``unit`` (qualified INS, an outpatient visit, not opposed to consultation), their DMP
    filled by :func:`sandbox.dmp.seed.seed_dmp`, ``user`` authorised on it; the patient's pk."""
    from django.utils import timezone

    from consent.models import Source, State, Subject
    from consent.services import record_consent
    from patients.models import Episode, IdentityStatus
    from sandbox.dmp.seed import seed_dmp
    from sandbox.models import DmpAuthorisation
    from tests.factories import EpisodeFactory, PatientFactory

    patient = PatientFactory(
        ins=ins,
        ins_oid=INS_OID,
        identity_status=IdentityStatus.QUALIFIEE,
        birth_name=name,
        first_names="DOMINIQUE MARIE",
        birth_date=date(1979, 3, 28),
        sex="F",
        birth_place_insee="63220",
    )
    episode = EpisodeFactory(patient=patient, care_unit=unit, kind=Episode.Kind.OUTPATIENT)
    record_consent(episode=episode, subject=Subject.CONSULTATION, state=State.INFORMED_NOT_OPPOSED, source=Source.UI)
    dmp = seed_dmp(patient, count=DOCUMENTS)
    if dmp.documents.count() < DOCUMENTS:
        raise SystemExit(f"dmp: the DMP of {name} was not seeded")
    DmpAuthorisation.objects.create(dmp=dmp, national_id=user.national_id, until=timezone.now() + timedelta(days=30))
    return patient.pk


# --- measuring ---------------------------------------------------------------------------------------


def page_of(response: HttpResponse, what: str) -> str:
    if response.status_code != 200:
        raise SystemExit(f"dmp: {what} answered {response.status_code}, not 200")
    return response.content.decode()


class RoundTrips:
    """The baseline: bare HTTPS POSTs with the structure's certificate, on one kept-alive connection, each
    after a pause (PAUSE): back to back, the sandbox's listener makes each tiny answer wait for the client's
    delayed ACK (:meth:`back_to_back`), which a DMP transaction that follows some work of the DPI does not."""

    def __init__(self, server: DmpServer) -> None:
        import httpx
        from django.conf import settings

        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=settings.DMP_CA_BUNDLE)
        context.load_cert_chain(settings.DMP_CLIENT_CERT, settings.DMP_CLIENT_KEY)
        self.client = httpx.Client(verify=context, timeout=10)
        self.url = server.base_url + "bench"  # no such service: answered 404 before anything else
        self.samples: list[float] = []
        self.measure()  # the handshake and a warm-up, not counted
        self.samples.clear()

    def one(self) -> float:
        started = time.perf_counter()
        answer = self.client.post(self.url, content=b"")  # no body: the 404 leaves none unread
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != 404:
            raise SystemExit(f"dmp: the bare round trip answered {answer.status_code}, not 404")
        return elapsed

    def measure(self, count: int = ROUND_TRIPS) -> None:
        for _ in range(count):
            time.sleep(PAUSE)
            self.samples.append(self.one())

    def back_to_back(self, count: int = BACK_TO_BACK) -> float:
        """The median of ``count`` round trips sent one right after the other."""
        time.sleep(PAUSE)
        return statistics.median(self.one() for _ in range(count))

    def take(self) -> float:
        """The median of the round trips since the last take."""
        value, self.samples = statistics.median(self.samples), []
        return value

    def close(self) -> None:
        self.client.close()


def traced_since(first_pk: int) -> tuple[int, float]:
    """DMP transactions the DPI traced from ``first_pk`` on: their number and total duration (ms)."""
    from django.db.models import Count, Sum

    from dmp.models import DmpTransaction

    totals = DmpTransaction.objects.filter(pk__gte=first_pk).aggregate(count=Count("pk"), ms=Sum("duration_ms"))
    return totals["count"], float(totals["ms"] or 0)


def next_trace() -> int:
    from dmp.models import DmpTransaction

    last = DmpTransaction.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


@dataclass(frozen=True)
class Scenario:
    """What one run does: ``prepare`` (not timed: a new session, the list the boxes are ticked in...) returns
    what ``run`` takes; ``run`` (timed) returns what it saw, and fails the benchmark when the work is not done."""

    name: str
    prepare: Callable[[], Any]
    run: Callable[[Any], int]


def runs(count: int, trips: RoundTrips, *scenarios: Scenario) -> list[Timed]:
    """One repetition not counted, then ``count``; in each, bare round trips, then every scenario in turn
    (alternating, so that all see the same machine)."""
    samples: list[list[tuple[float, float, int, int]]] = [[] for _ in scenarios]
    for number in range(1 + count):
        trips.measure()
        for scenario, taken in zip(scenarios, samples, strict=True):
            prepared = scenario.prepare()
            first = next_trace()
            started = time.perf_counter()
            items = scenario.run(prepared)
            elapsed = (time.perf_counter() - started) * 1000
            requests, dmp_ms = traced_since(first)
            if number:
                taken.append((elapsed, dmp_ms, requests, items))
    return [summary(scenario, taken) for scenario, taken in zip(scenarios, samples, strict=True)]


def summary(scenario: Scenario, samples: list[tuple[float, float, int, int]]) -> Timed:
    seen = {(requests, items) for _elapsed, _dmp, requests, items in samples}
    if len(seen) != 1:
        raise SystemExit(f"dmp: {scenario.name} made (DMP requests, items) {sorted(seen)} from one run to the next")
    requests, items = seen.pop()
    return Timed(
        total=statistics.median(sample[0] for sample in samples),
        dmp=statistics.median(sample[1] for sample in samples),
        requests=requests,
        items=items,
    )


def list_dmp(client: Client, patient: int) -> str:
    """TD0.2 then the panel, as the file's two placeholders ask them; the panel's HTML."""
    from django.urls import reverse

    state = page_of(client.get(reverse("dmp:access_state", args=[patient])), "the DMP state")
    if AUTHORISED not in state:
        raise SystemExit("dmp: the physician is not authorised on the patient's DMP")
    panel = page_of(client.get(reverse("dmp:panel", args=[patient])), "the DMP panel")
    if not panel.count(ENTRY_ROW):
        raise SystemExit("dmp: the panel lists no document")
    return panel


def listing(user: User, patient: int) -> Scenario:
    """The user arrives on the file in a new session: TD0.2, then the panel."""
    return Scenario(
        name="the list",
        prepare=lambda: signed_in(user),
        run=lambda client: list_dmp(client, patient).count(ENTRY_ROW),
    )


def reopening(user: User, patient: int) -> Scenario:
    """The user comes back to the file in the same session: the panel again, its list from the session's cache."""
    from django.urls import reverse

    url = reverse("dmp:panel", args=[patient])
    client = signed_in(user)
    list_dmp(client, patient)

    def run(_prepared: None) -> int:
        return page_of(client.get(url), "the DMP panel").count(ENTRY_ROW)

    return Scenario(name="the panel reopened", prepare=lambda: None, run=run)


def searching(user: User, patient: int) -> Scenario:
    """The multicriteria search with no criterion but the current documents: the whole DMP."""
    from django.urls import reverse

    url = reverse("dmp:search", args=[patient])
    client = signed_in(user)

    def run(_prepared: None) -> int:
        return page_of(client.get(url, {"status": "approved", "period": ""}), "the DMP search").count(ENTRY_ROW)

    return Scenario(name="the search", prepare=lambda: None, run=run)


def integrating(user: User, patient: int) -> Scenario:
    """A new session lists the DMP and ticks INTEGRATED documents not in the file yet; "Intégrer"."""
    from django.urls import reverse

    from dmp.models import IntegratedDmpDocument

    url = reverse("dmp:integrate", args=[patient])

    def prepare() -> tuple[Client, list[str]]:
        client = signed_in(user)
        panel = list_dmp(client, patient)
        return client, [box[1] for box in CHECKBOX.finditer(panel) if " disabled" not in box[0]][:INTEGRATED]

    def run(prepared: tuple[Client, list[str]]) -> int:
        client, chosen = prepared
        before = IntegratedDmpDocument.objects.count()
        page = page_of(client.post(url, {"entry": chosen}), "the integration")
        done = IntegratedDmpDocument.objects.count() - before
        if len(chosen) != INTEGRATED or page.count(INTEGRATED_OK) != INTEGRATED or done != INTEGRATED:
            failed = FAILED.findall(page)[:1]
            raise SystemExit(f"dmp: {page.count(INTEGRATED_OK)} of {len(chosen)} documents integrated: {failed}")
        return done

    return Scenario(name="the integration", prepare=prepare, run=run)


def query_count(run: Callable[[], object]) -> int:
    """SQL statements the DPI sends in ``run`` (the sandbox's threads have connections of their own)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        run()
    return len(queries)


def scenario_queries(scenario: Scenario) -> int:
    prepared = scenario.prepare()
    return query_count(lambda: scenario.run(prepared))


EMPTY_PAGE = "/bench-empty-page/"  # no route: Django's 404 through every middleware, the cheapest signed-in page


def file_page(bench: Bench) -> list[Row]:
    """The file page with the DMP placeholders, alternating with the same page without them and with an empty
    Django page (the same session and middleware, no view of ours)."""
    from django.conf import settings
    from django.urls import reverse

    client = signed_in(bench.user)
    url = reverse("patients:file", args=[bench.patient])
    samples: dict[bool, list[float]] = {True: [], False: []}
    sizes: dict[bool, set[int]] = {True: set(), False: set()}
    queries: dict[bool, int] = {}
    empty: list[float] = []
    first = next_trace()
    try:
        for number in range(WARM_UP + PAGE_REQUESTS):
            for enabled in (True, False):
                settings.DMP_CONSULTATION_ENABLED = enabled
                started = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - started) * 1000
                if enabled != (SECTION in page_of(response, "the file page")):
                    raise SystemExit(f"dmp: the DMP section is {'missing' if enabled else 'shown while disabled'}")
                sizes[enabled].add(len(response.content))
                if number >= WARM_UP:
                    samples[enabled].append(elapsed)
            started = time.perf_counter()
            if client.get(EMPTY_PAGE).status_code != 404:
                raise SystemExit("dmp: the empty page is not Django's 404")
            if number >= WARM_UP:
                empty.append((time.perf_counter() - started) * 1000)
        for enabled in (True, False):
            settings.DMP_CONSULTATION_ENABLED = enabled
            queries[enabled] = query_count(lambda: client.get(url))
    finally:
        settings.DMP_CONSULTATION_ENABLED = True
    if traced_since(first)[0]:
        raise SystemExit("dmp: the file page called the DMP")
    figure = "Patient file page, DMP consultation enabled"
    centiles = {enabled: statistics.quantiles(samples[enabled], n=100) for enabled in (True, False)}
    bare = statistics.quantiles(empty, n=100)
    return [
        (f"{figure}: p50 server time (ms) [DMP disabled]", centiles[True][49], centiles[False][49]),
        (f"{figure}: p95 server time (ms) [DMP disabled]", centiles[True][94], centiles[False][94]),
        (f"{figure}: p95 server time (ms) [empty Django page]", centiles[True][94], bare[94]),
        (f"{figure}: size (bytes) [DMP disabled]", float(max(sizes[True])), float(max(sizes[False]))),
        (f"{figure}: SQL queries/request [DMP disabled]", float(queries[True]), float(queries[False])),
        (
            f"{figure}: SQL queries/request [empty Django page]",
            float(queries[True]),
            float(query_count(lambda: client.get(EMPTY_PAGE))),
        ),
    ]


def compare() -> list[Row]:
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    with sandbox() as server:
        bench = load()
        user, patient, twin = bench.user, bench.patient, bench.twin
        rows = file_page(bench)
        trips = RoundTrips(server)
        try:
            (listed,) = runs(LISTS, trips, listing(user, patient))
            listed_base = trips.take()
            (found,) = runs(SEARCHES, trips, searching(user, patient))
            found_base = trips.take()
            (integrated,) = runs(INTEGRATIONS, trips, integrating(user, patient))
            integrated_base = trips.take()
            again, untouched = runs(LISTS, trips, listing(user, patient), listing(user, twin))
            reopened, reopened_twin = runs(LISTS, trips, reopening(user, patient), reopening(user, twin))
            queries = [scenario_queries(listing(user, pk)) for pk in (patient, twin)]
            queries_reopened = [scenario_queries(reopening(user, pk)) for pk in (patient, twin)]
            stalled = trips.back_to_back()
            spaced = trips.take()
        finally:
            trips.close()
    print(f"dmp: [none integrated] lists {untouched.items} documents, {untouched.requests} DMP requests", flush=True)
    bare = "[bare HTTPS round trip]"
    listed_label = f"DMP list, new session (TD0.2 + panel: {listed.items} of {DOCUMENTS}, {listed.requests} requests)"
    search_label = f"DMP search, whole DMP ({found.items} of {DOCUMENTS} listed)"
    integration_label = f"DMP integration of {INTEGRATED} of {DOCUMENTS} (1 TD3.2 + {INTEGRATED} integrations)"
    followed = (1 + INTEGRATIONS) * INTEGRATED
    again_label = f"DMP list, {followed} integrated from it ({again.items} listed, {again.requests} requests)"
    reopened_label = f"DMP panel reopened in the session, {followed} integrated ({reopened.requests} request)"
    return [
        *rows,
        (f"{listed_label}: p50 ms {bare}", listed.total, listed_base),
        (f"{listed_label}: of which DMP requests (ms) {bare}", listed.dmp, listed_base),
        (f"{search_label}: p50 ms {bare}", found.total, found_base),
        (f"{search_label}: of which DMP request (ms) {bare}", found.dmp, found_base),
        (f"{integration_label}: p50 ms {bare}", integrated.total, integrated_base),
        (f"{integration_label}: ms/document {bare}", integrated.total / INTEGRATED, integrated_base),
        (f"{integration_label}: of which TD3.2 (ms) {bare}", integrated.dmp, integrated_base),
        (f"{again_label}: p50 ms [none integrated]", again.total, untouched.total),
        (f"{again_label}: of which DMP requests (ms) [none integrated]", again.dmp, untouched.dmp),
        (f"{again_label}: SQL queries [none integrated]", float(queries[0]), float(queries[1])),
        (f"{reopened_label}: p50 ms [none integrated]", reopened.total, reopened_twin.total),
        (f"{reopened_label}: SQL queries [none integrated]", float(queries_reopened[0]), float(queries_reopened[1])),
        (f"Sandbox DMP, {BACK_TO_BACK} round trips back to back: p50 ms {bare}", stalled, spaced),
    ]

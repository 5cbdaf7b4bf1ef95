"""Benchmark: the patient search among a million identities, accents and separators ignored (REM INS/va1.25).

``patients.selectors.search_patients`` (the query of the search page and, without its limit, of
GET /api/patients/), evaluated in this process: the SQL on the name keys and their indexes, the
possible-duplicate flag of each row, the model instances. 1,000,000 identities loaded with SQL (birth
names drawn from 9,000 surnames, the common ones often, with accents, apostrophes, hyphens and spaces;
one or two first names; a used name for one in five; birth dates over a century); their keys are those
``patients.names.name_key`` gives for each name. Beside each search, alternating with it, the baseline:
an exact, accent-sensitive match on the birth name through its plain index (``patient_name_birth``),
same ordering, same limit, as the search did before it ignored accents. Each search must return every
identity a reference (the raw names, compared in Python) says matches, else the run fails.
"""

from __future__ import annotations

import itertools
import json
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from tests.bench.common import Row

if TYPE_CHECKING:
    from django.db.models import QuerySet

IDENTITIES = 1_000_000
AUTHORITY = "BENCH-SEARCH"
LIMIT = 50  # the page's
WARM_UP = 5
REQUESTS = 50  # each way
SEED = 0.15
# The first surnames are drawn most often (rank k about 1 / sqrt(k)): MARTIN about 1 %, rank 10 about 0.15 %.
COMMON = (
    "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU", "LAURENT",
    "LEFEBVRE", "MICHEL", "GARCIA", "DAVID", "BERTRAND", "ROUX", "VINCENT", "FOURNIER", "MOREL", "GIRARD",
    "ANDRÉ", "LEFÈVRE", "MERCIER", "DUPONT", "LAMBERT", "BONNET", "FRANÇOIS", "MARTINEZ", "LEGRAND", "GARNIER",
    "D'ARC", "FAURE", "ROUSSEL", "BLANC", "GUERIN", "MÜLLER", "HENRY", "ROUSSEAU", "NICOLAS", "PERRIN",
    "LEFÈBVRE", "GARCÍA", "LE GOFF", "N'DIAYE", "DE LA FONTAINE", "BENOÎT", "HÉBERT", "MÉNARD", "GÉRARD", "LE ROUX",
    "LÉVÊQUE", "D'ORMESSON", "SAINT-ANDRÉ", "NGUYỄN", "JOLY", "GAUTHIER", "CHEVALIER", "FRANÇOIS-PONCET", "O'NEILL",
)  # fmt: skip
STEMS = (
    "BA", "BÉ", "BO", "CHA", "CHÂ", "DE", "DU", "FA", "GA", "GE", "LA", "LÈ", "LI", "MA", "MÉ", "MO", "NA", "PE",
    "RA", "RÔ", "SA", "TA", "VA", "VI",
)  # fmt: skip
MIDDLES = ("", "L", "N", "R", "V", "CH", "G", "M", "S", "T", "LL", "RR", "NN", "B", "D", "P")
ENDINGS = ("ARD", "ERT", "OUX", "ANT", "ELLE", "OND", "ET", "IN", "EAU", "IER", "ON", "AS", "ËL", "OT", "É", "Y")
FIRST_NAMES = (
    "MARIE", "JEAN", "PIERRE", "MICHEL", "ANDRÉ", "PHILIPPE", "NATHALIE", "ISABELLE", "SYLVIE", "CATHERINE",
    "FRANÇOISE", "HÉLÈNE", "JEAN-PIERRE", "JEAN-CLAUDE", "MARIE-CLAIRE", "ANNE-SOPHIE", "JÉRÔME", "CHLOÉ", "LÉA",
    "ZOÉ", "NOËL", "JOËL", "GAËLLE", "ANAÏS", "LOÏC", "CÉLINE", "ÉLODIE", "RENÉ", "GÉRARD", "FRÉDÉRIC", "STÉPHANE",
    "JEANNE", "LUC", "PAUL", "LOUISE", "EMMA", "HUGO", "LÉO", "INÈS", "CLÉMENT", "THÉO", "MAËLLE", "AGNÈS",
    "BÉATRICE", "DENISE", "CLAIRE", "ALICE", "CAMILLE", "DOMINIQUE", "FRANÇOIS", "JACQUES", "HENRI", "LUCIE",
    "JULIE", "SOPHIE", "VALÉRIE", "PASCAL", "THIERRY", "OLIVIER", "NICOLAS",
)  # fmt: skip
BIRTH_DAYS = 38_000  # from 1920-01-01
SEARCH_DATE = date(1980, 5, 4)
# (label, criteria of the search page), each beside the exact match on BASELINE_NAME.
SCENARIOS: tuple[tuple[str, dict[str, object]], ...] = (
    ('"lefèbvre" (LEFEBVRE, LEFÈBVRE...)', {"name": "lefèbvre"}),
    ('"d\'arc jeanne" (name and first name)', {"name": "d'arc jeanne"}),
    ('"jean pierre" (first names)', {"name": "jean pierre"}),
    ('"le" (two letters: thousands match)', {"name": "le"}),
    ("birth date alone", {"birth_date": SEARCH_DATE}),
    ('birth date and "m"', {"birth_date": SEARCH_DATE, "name": "m"}),
)
BASELINE_NAME = "LEFEBVRE"

DRAWN = """(
    SELECT n,
        1 + floor(power(random(), 2) * %(surname_count)s)::int AS surname,
        1 + floor(random() * %(first_count)s)::int AS first,
        CASE WHEN random() < 0.5 THEN 1 + floor(random() * %(first_count)s)::int END AS second,
        CASE WHEN random() < 0.2 THEN 1 + floor(power(random(), 2) * %(surname_count)s)::int END AS used,
        floor(random() * %(birth_days)s)::int AS born
    FROM generate_series(0, %(total)s - 1) AS n
) AS drawn"""
INS13 = "('1' || lpad(n::text, 12, '0'))"
VALUES = {
    "ipp": "'S' || lpad(n::text, 7, '0')",
    "ipp_authority": "%(authority)s",
    "birth_name": "(%(surnames)s::text[])[surname]",
    "birth_name_key": "(%(surname_keys)s::text[])[surname]",
    "first_names": "(%(firsts)s::text[])[first] || COALESCE(' ' || (%(firsts)s::text[])[second], '')",
    "first_names_key": "(%(first_keys)s::text[])[first] || COALESCE((%(first_keys)s::text[])[second], '')",
    "first_name_key": "(%(first_keys)s::text[])[first]",
    "used_name": "COALESCE((%(surnames)s::text[])[used], '')",
    "used_name_key": "COALESCE((%(surname_keys)s::text[])[used], '')",
    "birth_date": "date '1920-01-01' + born",
    "sex": "CASE WHEN n %% 2 = 0 THEN 'F' ELSE 'M' END",
    "identity_status": "(ARRAY['qualifiee', 'qualifiee', 'validee', 'recuperee', 'provisoire'])[1 + n %% 5]",
    "ins": f"CASE WHEN n %% 5 < 2 THEN {INS13} || lpad((97 - {INS13}::bigint %% 97)::text, 2, '0') ELSE '' END",
    "ins_oid": "CASE WHEN n %% 5 < 2 THEN '1.2.250.1.213.1.4.8' ELSE '' END",
}


def surnames() -> list[str]:
    """COMMON, then synthetic surnames (stem, middle, ending; some compound), 9,000 in all, no repeats."""
    names = dict.fromkeys(COMMON)
    for index, (stem, middle, ending) in enumerate(itertools.product(STEMS, MIDDLES, ENDINGS)):
        name = f"{stem}{middle}{ending}"
        names.setdefault(f"{name}-{STEMS[index % len(STEMS)]}RD" if index % 17 == 0 else name)
    return list(names)[:9_000]


@dataclass(frozen=True)
class Vocabulary:
    surnames: list[str]
    firsts: list[str]

    def first_names_lists(self) -> Iterable[str]:
        yield from self.firsts
        for first, second in itertools.product(self.firsts, repeat=2):
            yield f"{first} {second}"


def load(vocabulary: Vocabulary) -> None:
    from django.db import connection

    from patients.models import Patient
    from patients.names import name_key
    from tests.bench.documents import insert, rows_first

    started = time.perf_counter()
    params = {
        "total": IDENTITIES, "authority": AUTHORITY, "birth_days": BIRTH_DAYS,
        "surnames": vocabulary.surnames, "surname_keys": [name_key(name, 100) for name in vocabulary.surnames],
        "surname_count": len(vocabulary.surnames), "firsts": vocabulary.firsts,
        "first_keys": [name_key(name, 100) for name in vocabulary.firsts], "first_count": len(vocabulary.firsts),
    }  # fmt: skip
    with rows_first([Patient]):
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [SEED])
        loaded = insert(Patient, VALUES, DRAWN, params)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(Patient._meta.db_table)}")
    print(f"search: loaded {loaded:,} identities in {time.perf_counter() - started:.1f} s", flush=True)
    if loaded != IDENTITIES:
        raise SystemExit(f"search: {loaded:,} identities loaded, not {IDENTITIES:,}")
    check_keys()


def check_keys() -> None:
    """The keys loaded with SQL are those save() would have written (a sample of a thousand)."""
    from patients.models import NAME_KEY_FIELDS, Patient

    for patient in Patient.objects.filter(ipp_authority=AUTHORITY).order_by("?")[:1000]:
        stored = [getattr(patient, key) for key in NAME_KEY_FIELDS]
        patient.refresh_name_keys()
        if stored != [getattr(patient, key) for key in NAME_KEY_FIELDS]:
            raise SystemExit(f"search: the keys loaded for {patient.ipp} are not those save() writes")


# --- The reference: which raw names match, decided in Python on the vocabulary, not through the keys ------


def reference_splits(typed: str) -> set[tuple[str, str]]:
    """(name part, first-names part) as docs/pam.md#patient-search describes the "Nom, prénom" field."""
    from patients.names import name_key

    words = [key for word in typed.split() if (key := name_key(word))]
    splits = {("".join(words[:cut]), "".join(words[cut:])) for cut in range(len(words) + 1)}
    return splits | {(first, name) for name, first in splits}


def reference_count(vocabulary: Vocabulary, criteria: dict[str, object]) -> int:
    """Identities of this bench matching ``criteria``, counted on the raw columns."""
    from django.db.models import Q

    from patients.models import Patient
    from patients.names import name_key

    identities = Patient.objects.filter(ipp_authority=AUTHORITY)
    if criteria.get("birth_date"):
        identities = identities.filter(birth_date=criteria["birth_date"])
    if name := str(criteria.get("name", "")):
        lists = list(vocabulary.first_names_lists())
        matching = Q(pk__in=[])
        for name_part, first_part in reference_splits(name):
            condition = Q()
            if name_part:
                names = [n for n in vocabulary.surnames if name_key(n).startswith(name_part)]
                condition &= Q(birth_name__in=names) | Q(used_name__in=names)
            if first_part:
                condition &= Q(first_names__in=[f for f in lists if name_key(f).startswith(first_part)])
            matching |= condition
        identities = identities.filter(matching)
    return identities.count()


# --- Measures ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    p50: float  # milliseconds, the query evaluated into model instances
    p95: float
    rows: int


def timed(queryset: Callable[[], QuerySet]) -> tuple[float, int]:
    started = time.perf_counter()
    rows = len(list(queryset()))
    return (time.perf_counter() - started) * 1000, rows


def alternate(ours: Callable[[], QuerySet], base: Callable[[], QuerySet]) -> tuple[Timed, Timed]:
    for _ in range(WARM_UP):
        timed(ours), timed(base)
    samples: tuple[list[tuple[float, int]], list[tuple[float, int]]] = ([], [])
    for _ in range(REQUESTS):
        for query, taken in zip((ours, base), samples, strict=True):
            taken.append(timed(query))
    return summary(samples[0]), summary(samples[1])


def summary(samples: list[tuple[float, int]]) -> Timed:
    centiles = statistics.quantiles([elapsed for elapsed, _rows in samples], n=100)
    return Timed(p50=centiles[49], p95=centiles[94], rows=samples[0][1])


def exact_match() -> QuerySet:
    """The baseline: the birth name as stored, through the plain index on (birth_name, birth_date)."""
    from patients.models import Patient

    return Patient.objects.filter(merged_into__isnull=True, birth_name=BASELINE_NAME).order_by(
        "birth_name", "first_names", "birth_date", "pk"
    )[:LIMIT]


def indexes_used(queryset: QuerySet) -> list[str]:
    """The indexes (or sequential scans) of the query's plan, for the log: the evidence the keys are used."""
    plan = json.loads(queryset.explain(format="json"))

    def nodes(node: dict) -> Iterable[str]:
        if "Index Name" in node:
            yield node["Index Name"]
        elif node.get("Node Type") == "Seq Scan":
            yield f"Seq Scan on {node['Relation Name']}"
        for child in node.get("Plans", []):
            yield from nodes(child)

    return sorted(set(nodes(plan[0]["Plan"])))


def compare() -> list[Row]:
    from patients.models import Patient
    from patients.selectors import filter_identities, search_patients

    vocabulary = Vocabulary(surnames=surnames(), firsts=list(FIRST_NAMES))
    load(vocabulary)
    rows: list[Row] = []
    for label, criteria in SCENARIOS:
        expected = reference_count(vocabulary, criteria)
        found = filter_identities(Patient.objects.filter(ipp_authority=AUTHORITY), **criteria).count()
        if found != expected or not expected:
            raise SystemExit(f"search {label}: {found:,} identities found, the reference says {expected:,}")
        ours, base = alternate(lambda criteria=criteria: search_patients(**criteria), exact_match)
        everyone = filter_identities(Patient.objects.filter(merged_into__isnull=True), **criteria).count()
        if ours.rows != min(LIMIT, everyone):  # the other benchmarks' identities count too
            raise SystemExit(f"search {label}: a page of {ours.rows} identities for {everyone:,} matching")
        print(f"search {label}: {', '.join(indexes_used(search_patients(**criteria)))}", flush=True)
        figure = f"Patient search {label}, {ours.rows} of {expected:,} among {IDENTITIES:,}"
        rows += [
            (f"{figure}: p50 (ms) [exact name, indexed]", ours.p50, base.p50),
            (f"{figure}: p95 (ms) [exact name, indexed]", ours.p95, base.p95),
        ]
    return rows

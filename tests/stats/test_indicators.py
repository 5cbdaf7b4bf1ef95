"""Every indicator equals its hand count on generated facts for two sites over two years (SC.STAT/ES.01).

The hand counts are written here in plain Python from the facts as generated, following the definitions
of docs/statistics.md; the indicators are computed in SQL from the tables. Months are Paris months.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from consent.models import ConsentDecision, Source, State, Subject
from dmp.models import DmpTransaction, IntegratedDmpDocument, OrderKind, OrderState
from documents.models import Status
from dpi.models import Membership
from mss.models import Trace
from patients.models import CareEpisode, Episode, IdentityStatus, Patient
from stats.indicators import Period, compute
from stats.indicators.common import CONSULTATION_REPORT, LETTER, OPERATIVE_REPORT, PARIS, PRESCRIPTION
from tests.factories import CareUnitFactory, EpisodeFactory, PatientFactory, RoleFactory, SiteFactory, UserFactory
from tests.stats import facts
from tests.stats.facts import OrderFact, dmp, mss

pytestmark = pytest.mark.django_db

FINESS = ("750000011", "690000022")
TWO_YEARS = Period.from_dates(date(2025, 1, 1), date(2026, 12, 31))
HOSPITAL = (Episode.Kind.INPATIENT, Episode.Kind.AMBULATORY)
SENT, FAILED, REFUSED = OrderState.SENT, OrderState.FAILED, OrderState.REFUSED
Key = tuple[str, str, str, str, date]  # code, FINESS, type, profession, month


def month(moment: datetime) -> date:
    return moment.astimezone(PARIS).date().replace(day=1)


def figures(period: Period = TWO_YEARS) -> dict[Key, tuple[int, int | None]]:
    return {
        (row.code, row.finess, row.type_code, row.profession, row.month): (row.numerator, row.denominator)
        for row in compute(period)
    }


def counts(result: dict[Key, tuple[int, int | None]], prefix: str) -> dict[Key, int]:
    """The non-zero counts (not rates) of the codes starting with ``prefix``."""
    return {key: n for key, (n, d) in result.items() if key[0].startswith(prefix) and d is None and n}


def rates(result: dict[Key, tuple[int, int | None]], suffix: str) -> dict[Key, tuple[int, int | None]]:
    return {key: value for key, value in result.items() if key[0].endswith(suffix)}


@pytest.fixture
def sites() -> list:
    return [CareUnitFactory(site=SiteFactory(finess_eg=finess)) for finess in FINESS]


# --- generated sending facts ---------------------------------------------------------------------------


@dataclass
class DocumentFact:
    finess: str
    type_code: str
    status: str
    orders: list[OrderFact]


@dataclass
class StayFact:
    finess: str
    kind: str
    closed_at: datetime | None
    surgical: bool
    patient: int
    documents: list[DocumentFact] = field(default_factory=list)


def _scenarios(rng: random.Random, at: datetime, patient_address: str) -> list[OrderFact]:
    later = at + timedelta(days=rng.choice((0, 1, 20)), hours=3)
    dmp_orders = rng.choice(
        (
            [dmp(SENT, at, True)],
            [dmp(FAILED, at)],  # the PFI refused it (AE)
            [dmp(SENT, at, False)],  # the DMP refused it (ZAM Z01 N)
            [dmp(FAILED, at), dmp(SENT, later, True)],  # failed, then a new version succeeded
            [dmp(SENT, at, False), dmp(SENT, later, True)],
            [dmp(SENT, at)],  # no business ack yet: neither
            [dmp(REFUSED, at)],  # never left: neither
            [dmp(SENT, at, True, kind=OrderKind.HISTORICAL)],
            [dmp(FAILED, at, kind=OrderKind.HISTORICAL)],
        )
    )
    mss_orders = rng.choice(
        (
            [],
            [mss(SENT, at, pro=(True,))],
            [mss(SENT, at, pro=(False,))],
            [mss(FAILED, at, pro=())],
            [mss(SENT, at, pro=(False,)), mss(SENT, later, pro=(True,))],
            [mss(SENT, at, patient=(True,), patient_address=patient_address)],
            [mss(SENT, at, patient=(False,), patient_address=patient_address)],
            [mss(FAILED, at, patient=())],
            [mss(SENT, at, pro=(True,), patient=(False,), patient_address=patient_address)],
        )
    )
    return dmp_orders + mss_orders


def generate(sites: list, seed: int = 14) -> list[StayFact]:
    """Three visits per site and month over 2025-2026, some crossing a month, some still open, with
    documents of every Ségur type and every outcome of their sendings."""
    rng = random.Random(seed)
    message = facts.shared_message()
    stays = []
    for unit in sites:
        patients = []
        for month_index in range(24):
            for _ in range(3):
                kind = rng.choice((*HOSPITAL, Episode.Kind.INPATIENT, Episode.Kind.OUTPATIENT))
                admitted = datetime(2025 + month_index // 12, month_index % 12 + 1, rng.randint(1, 28),
                                    rng.randint(0, 23), 30, tzinfo=UTC)  # fmt: skip
                discharged = admitted + timedelta(days=rng.choice((0, 2, 25)), hours=rng.randint(0, 5))
                if rng.random() < 0.1:
                    discharged = None  # still in
                if patients and rng.random() < 0.2:
                    patient = rng.choice(patients)  # the same patient comes back
                else:
                    qualified = rng.random() < 0.7
                    patient = PatientFactory(
                        ins=f"1{len(patients):014d}" if qualified else "",
                        identity_status=IdentityStatus.QUALIFIEE if qualified else IdentityStatus.PROVISOIRE,
                    )
                    patients.append(patient)
                episode = EpisodeFactory(patient=patient, care_unit=unit, kind=kind, admitted_at=admitted,
                                         discharged_at=discharged, surgical=rng.random() < 0.4)  # fmt: skip
                stay = StayFact(unit.site.finess_eg, kind, discharged, episode.surgical, patient.pk)
                if kind == Episode.Kind.OUTPATIENT:
                    types = [CONSULTATION_REPORT] * rng.randint(0, 1)
                else:
                    types = rng.sample((LETTER, OPERATIVE_REPORT, PRESCRIPTION, PRESCRIPTION), rng.randint(0, 3))
                for type_code in types:
                    status = Status.DRAFT if rng.random() < 0.1 else Status.VALIDATED
                    at = (discharged or admitted) + timedelta(hours=rng.choice((1, 30)))
                    orders = [] if status == Status.DRAFT else _scenarios(rng, at, facts.patient_address(patient))
                    row = facts.document(episode, type_code, finess=stay.finess, status=status)
                    facts.send(row, orders, message)
                    stay.documents.append(DocumentFact(stay.finess, type_code, status, orders))
                stays.append(stay)
    return stays


PATIENT_DOMAIN = "@patient.mssante.fr"
ROUTES = {  # prefix: (channel, business ack events, is this ack's recipient the route's, was the order addressed)
    "DMP": ("dmp", {"Z01"}, lambda r: True, lambda o: True),
    "MSS_PRO": ("mss", {"Z02", "Z03"}, lambda r: not r.endswith(PATIENT_DOMAIN), lambda o: bool(o.mss_recipients)),
    "MSS_PATIENT": ("mss", {"Z02", "Z03"}, lambda r: r.endswith(PATIENT_DOMAIN), lambda o: o.mss_patient),
}


def _route_acks(order: OrderFact, prefix: str) -> list[bool]:
    channel, events, mine, _ = ROUTES[prefix]
    return [a.success for a in order.acks if order.channel == channel and a.event in events and mine(a.recipient)]


def succeeded(order: OrderFact, prefix: str) -> bool:
    return order.channel == ROUTES[prefix][0] and order.state == SENT and any(_route_acks(order, prefix))


def failed(order: OrderFact, prefix: str) -> bool:
    if order.channel != ROUTES[prefix][0] or order.kind == OrderKind.HISTORICAL:
        return False
    acks = _route_acks(order, prefix)
    if order.state == FAILED:
        return ROUTES[prefix][3](order)
    return order.state == SENT and bool(acks) and not any(acks)


def hand_counts(stays: list[StayFact], qualified: set[int]) -> Counter:
    """Per document: a success in the month of its first success, else a failure in the month of its last."""
    expected: Counter = Counter()
    for stay in stays:
        for doc in stay.documents:
            for prefix in ROUTES:
                ok = [o for o in doc.orders if succeeded(o, prefix)]
                ko = [o.at for o in doc.orders if failed(o, prefix)]
                by_ins = prefix.startswith("MSS_") and stay.patient in qualified
                variants = [prefix] + ([f"{prefix}_INS"] if by_ins else [])
                for code in variants:
                    if ok:
                        historical = any(o.kind == OrderKind.HISTORICAL for o in ok)
                        outcome = "DMP_HISTO_OK" if historical and code == "DMP" else f"{code}_OK"
                        expected[outcome, doc.finess, doc.type_code, "", month(min(o.at for o in ok))] += 1
                    elif ko:
                        expected[f"{code}_KO", doc.finess, doc.type_code, "", month(max(ko))] += 1
    return expected


def test_sent_documents_equal_the_hand_count_first_success_wins_over_earlier_failures(sites):
    stays = generate(sites)
    qualified = set(Patient.objects.filter(identity_status=IdentityStatus.QUALIFIEE).values_list("pk", flat=True))
    result = figures()
    expected = {k: v for k, v in hand_counts(stays, qualified).items() if v}
    produced = {k: v for k, v in result.items() if k[0].endswith(("_OK", "_KO")) and v[1] is None and v[0]}
    assert {k: v[0] for k, v in produced.items()} == expected
    assert {k[0] for k in expected} >= {"DMP_OK", "DMP_KO", "DMP_HISTO_OK", "MSS_PRO_OK", "MSS_PRO_KO",
                                        "MSS_PRO_INS_OK", "MSS_PATIENT_OK", "MSS_PATIENT_KO",
                                        "MSS_PATIENT_INS_OK"}  # fmt: skip


def _eligible(stay: StayFact, type_code: str) -> bool:
    produced = any(d.type_code == type_code and d.status == Status.VALIDATED for d in stay.documents)
    if type_code == CONSULTATION_REPORT:
        return stay.kind == Episode.Kind.OUTPATIENT and produced
    if stay.kind not in HOSPITAL:
        return False
    return {LETTER: True, OPERATIVE_REPORT: stay.surgical, PRESCRIPTION: produced}[type_code]


def test_stay_rates_use_the_denominator_of_each_type_and_the_month_of_discharge(sites):
    stays = generate(sites, seed=7)
    expected: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    patients: dict[Key, tuple[set, set]] = defaultdict(lambda: (set(), set()))
    for stay in stays:
        if stay.closed_at is None:
            continue
        for type_code in (LETTER, OPERATIVE_REPORT, PRESCRIPTION, CONSULTATION_REPORT):
            if not _eligible(stay, type_code):
                continue
            for prefix in ROUTES:
                key = (f"{prefix}_SEJOURS_TAUX", stay.finess, type_code, "", month(stay.closed_at))
                reached = any(
                    succeeded(o, prefix) for d in stay.documents if d.type_code == type_code for o in d.orders
                )
                expected[key][0] += reached
                expected[key][1] += 1
                if prefix == "MSS_PATIENT":
                    everyone, sent = patients[("MSS_PATIENT_PATIENTS_TAUX", *key[1:])]
                    everyone.add(stay.patient)
                    if reached:
                        sent.add(stay.patient)
    result = figures()
    sending_rates = {k: v for k, v in rates(result, "_SEJOURS_TAUX").items() if not k[0].startswith("DMP_INTEGR")}
    assert sending_rates == {k: tuple(v) for k, v in expected.items()}
    assert rates(result, "PATIENTS_TAUX") == {k: (len(sent), len(everyone)) for k, (everyone, sent) in patients.items()}
    assert {k[2] for k in expected} == {LETTER, OPERATIVE_REPORT, PRESCRIPTION, CONSULTATION_REPORT}


# --- targeted cases ----------------------------------------------------------------------------------


def test_an_event_at_2330_utc_on_31_july_belongs_to_august_in_paris(sites):
    unit = sites[0]
    message = facts.shared_message()
    boundary = datetime(2026, 7, 31, 23, 30, tzinfo=UTC)  # 1 August, 01:30 in Paris (summer time)
    winter = datetime(2026, 1, 31, 22, 59, tzinfo=UTC)  # 31 January, 23:59 in Paris
    for at in (boundary, winter):
        episode = EpisodeFactory(care_unit=unit, admitted_at=at - timedelta(days=3), discharged_at=at)
        facts.send(facts.document(episode, LETTER, finess=FINESS[0]), [dmp(SENT, at, True)], message)
    result = figures(Period.year(2026))
    assert result["DMP_OK", FINESS[0], LETTER, "", date(2026, 8, 1)] == (1, None)
    assert result["DMP_OK", FINESS[0], LETTER, "", date(2026, 1, 1)] == (1, None)
    assert ("DMP_OK", FINESS[0], LETTER, "", date(2026, 7, 1)) not in result
    assert result["DMP_SEJOURS_TAUX", FINESS[0], LETTER, "", date(2026, 8, 1)] == (1, 1)
    # A July-only period does not see it at all
    assert not [k for k in figures(Period.month(2026, 7)) if k[0] == "DMP_OK"]


def test_a_stay_crossing_a_month_counts_in_the_month_of_its_discharge_only(sites):
    message = facts.shared_message()
    episode = EpisodeFactory(care_unit=sites[1], admitted_at=datetime(2025, 3, 20, tzinfo=UTC),
                             discharged_at=datetime(2025, 4, 2, 10, tzinfo=UTC))  # fmt: skip
    facts.send(facts.document(episode, LETTER, finess=FINESS[1]), [dmp(SENT, datetime(2025, 4, 3, tzinfo=UTC), True)],
               message)  # fmt: skip
    result = figures(Period.year(2025))
    assert result["DMP_SEJOURS_TAUX", FINESS[1], LETTER, "", date(2025, 4, 1)] == (1, 1)
    assert ("DMP_SEJOURS_TAUX", FINESS[1], LETTER, "", date(2025, 3, 1)) not in result


def test_a_failure_then_a_success_of_the_same_document_counts_once_as_a_success(sites):
    message = facts.shared_message()
    episode = EpisodeFactory(care_unit=sites[0], admitted_at=datetime(2025, 5, 2, tzinfo=UTC))
    first, retry = datetime(2025, 5, 30, tzinfo=UTC), datetime(2025, 6, 2, tzinfo=UTC)
    orders = [dmp(FAILED, first), dmp(SENT, retry, False), dmp(SENT, retry + timedelta(hours=1), True)]
    facts.send(facts.document(episode, PRESCRIPTION, finess=FINESS[0]), orders, message)
    result = counts(figures(Period.year(2025)), "DMP_")
    assert result == {("DMP_OK", FINESS[0], PRESCRIPTION, "", date(2025, 6, 1)): 1}


def test_patient_information_rates_follow_the_latest_decision_of_the_episode_of_care(sites):
    unit = sites[0]
    august = datetime(2026, 8, 10, tzinfo=UTC)
    care = CareEpisode.objects.create(patient=PatientFactory())
    shared = [
        EpisodeFactory(
            patient=care.patient,
            care_episode=care,
            care_unit=unit,
            admitted_at=august,
            discharged_at=august + timedelta(days=d),
        )  # fmt: skip
        for d in (1, 2)
    ]
    opposed = EpisodeFactory(care_unit=unit, admitted_at=august, discharged_at=august + timedelta(days=1))
    silent = EpisodeFactory(care_unit=unit, admitted_at=august, discharged_at=august + timedelta(days=1))
    consultation = EpisodeFactory(care_unit=unit, kind=Episode.Kind.OUTPATIENT, admitted_at=august)

    def decide(episode: Episode, state: str, subject: str, at: datetime) -> None:
        ConsentDecision.objects.create(
            episode=episode, subject=subject, state=state, collected_at=at, source=Source.PAM
        )

    decide(shared[0], State.INFORMED_OPPOSED, Subject.FEEDING, august)
    decide(shared[1], State.INFORMED_NOT_OPPOSED, Subject.FEEDING, august + timedelta(hours=5))  # latest wins
    decide(opposed, State.INFORMED_OPPOSED, Subject.FEEDING, august)
    decide(consultation, State.INFORMED_NOT_OPPOSED, Subject.CONSULTATION, august)
    result = figures(Period.month(2026, 8))
    key = (FINESS[0], "", "", date(2026, 8, 1))
    assert result[("INFO_ALIM_SEJOURS_NON_OPPOSE", *key)] == (2, 4)
    assert result[("INFO_ALIM_SEJOURS_OPPOSE", *key)] == (1, 4)
    assert result[("INFO_CONSULT_SEJOURS_NON_OPPOSE", *key)] == (0, 4)
    assert result[("INFO_CONSULT_CONSULTATIONS_NON_OPPOSE", *key)] == (1, 1)
    assert result[("INFO_ALIM_CONSULTATIONS_OPPOSE", *key)] == (0, 1)
    assert silent.pk  # counted in the denominators only


def test_dmp_consultation_users_integrations_and_their_rates(sites):
    unit = sites[1]
    doctor, nurse = UserFactory(), UserFactory(profession="60")
    for user in (doctor, nurse):
        Membership.objects.create(user=user, care_unit=unit, role=RoleFactory())
    march = datetime(2025, 3, 31, 22, 30, tzinfo=UTC)  # 1 April in Paris
    stay = EpisodeFactory(care_unit=unit, admitted_at=march - timedelta(days=2), discharged_at=march)
    other = EpisodeFactory(care_unit=unit, admitted_at=march - timedelta(days=2), discharged_at=march)
    visit = EpisodeFactory(care_unit=unit, kind=Episode.Kind.OUTPATIENT, admitted_at=march)
    for episode, type_code in ((stay, LETTER), (stay, "11502-2"), (visit, "11502-2")):
        document = facts.document(episode, type_code, finess=FINESS[1], provenance="dmp")
        IntegratedDmpDocument.objects.create(document=document, unique_id=f"u{document.pk}", entry_uuid="e",
                                             repository_unique_id="r")  # fmt: skip
    IntegratedDmpDocument.objects.update(integrated_at=march)
    transaction = DmpTransaction.objects.create(
        kind=DmpTransaction.Kind.RETRIEVE, user=doctor, user_name="Dr", national_id=doctor.rpps,
        profession=doctor.profession, finess_eg=FINESS[1], ins="1", outcome=DmpTransaction.Outcome.SUCCESS,
        document_count=3,
    )  # fmt: skip
    DmpTransaction.objects.filter(pk=transaction.pk).update(at=march)
    result = figures(Period.month(2025, 4))
    april = date(2025, 4, 1)
    assert result["DMP_CONSULT_UTILISATEURS", FINESS[1], "", doctor.profession, april] == (1, 1)
    assert result["DMP_CONSULT_UTILISATEURS", FINESS[1], "", "60", april] == (0, 1)
    assert result["DMP_INTEGRES", FINESS[1], "11502-2", "", april] == (2, None)
    assert result["DMP_TELECHARGES", FINESS[1], "", "", april] == (3, None)
    assert result["DMP_INTEGRATION_SEJOURS_TAUX", FINESS[1], "", "", april] == (1, 2)
    assert result["DMP_INTEGRATION_SEJOURS_TAUX", FINESS[1], LETTER, "", april] == (1, 2)
    assert result["DMP_INTEGRATION_CONSULTATIONS_TAUX", FINESS[1], "11502-2", "", april] == (1, 1)
    assert other.pk and not [k for k in figures(Period.month(2025, 3)) if k[0].startswith("DMP_INTEGR")]


def test_documents_received_by_mssante_integrated_refused_and_imported(sites):
    unit = sites[0]
    episode = EpisodeFactory(care_unit=unit, admitted_at=datetime(2026, 2, 1, tzinfo=UTC))
    received = facts.document(episode, "11502-2", finess=FINESS[0], provenance="mss")
    imported = facts.document(episode, LETTER, finess=FINESS[0], provenance="manual")
    traces = [
        Trace(event=Trace.Event.INTEGRATED, document=received, care_unit=unit),
        Trace(event=Trace.Event.REFUSED, care_unit=unit),
        Trace(event=Trace.Event.REFUSED, care_unit=unit),
        Trace(event=Trace.Event.IMPORTED, document=imported),
        Trace(event=Trace.Event.READ, document=received, care_unit=unit),
    ]
    Trace.objects.bulk_create(traces)
    Trace.objects.update(at=datetime(2026, 2, 28, 23, 30, tzinfo=UTC))  # 1 March in Paris
    result = counts(figures(Period.year(2026)), "MSS_RECU")
    march = date(2026, 3, 1)
    assert result == {
        ("MSS_RECU_AUTO_OK", FINESS[0], "11502-2", "", march): 1,
        ("MSS_RECU_AUTO_KO", FINESS[0], "", "", march): 2,
        ("MSS_RECU_MANUEL_CDA", FINESS[0], LETTER, "", march): 1,
    }

"""The DPI talking to the sandbox DMP over mutual TLS, for service, view and browser tests.

:class:`LiveDmp` is what the ``live_dmp`` fixture (``tests/dmp/conftest.py``) returns: the sandbox DMP
running on free ports with the DPI's ``DMP_*`` settings pointed at it, and the few moves a test makes
on either side:

* DPI side: :meth:`LiveDmp.professional` (a physician with an RPPS and a unit), :meth:`LiveDmp.patient`
  (qualified INS, a visit, the patient's choice on consultation), :meth:`LiveDmp.request` (a request
  with a session, what the services take), :meth:`LiveDmp.consultation` (all of it at once, as a
  :class:`Consultation`: ``.user``, ``.patient``, ``.episode``, ``.request``, ``.dmp``, ``.context()``);
* sandbox side: :meth:`LiveDmp.open_dmp`, :meth:`LiveDmp.authorise`, :meth:`LiveDmp.seed`,
  :meth:`LiveDmp.add_document`, :meth:`LiveDmp.replace_document`, :meth:`LiveDmp.delete_document`,
  :meth:`LiveDmp.close_dmp`, :meth:`LiveDmp.block`, :meth:`LiveDmp.set_mode` (down, slow, fault);
* what the sandbox received: :meth:`LiveDmp.calls` (its :class:`~sandbox.models.DmpCall` record).

Nothing here patches the DPI: the services run their real clients against the real sandbox.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import count

from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from consent.models import Source, State, Subject
from consent.services import record_consent
from dmp.access import Blocked, Context, consultation_context
from documents.cda import parse_cda_header
from dpi.codes import NationalIdType
from dpi.models import CareUnit, Site, User
from dpi.selectors import SESSION_CARE_UNIT
from patients.models import Episode, IdentityStatus, Patient
from sandbox.dmp import seed
from sandbox.dmp.documents import Establishment, Professional, Version, rpps_national_id
from sandbox.dmp.server import DmpServer
from sandbox.dmp.store import Visibility
from sandbox.dmp.store import delete_document as delete_from_dmp
from sandbox.models import DmpAuthorisation, DmpBehaviour, DmpCall, DmpDocument, PatientDmp
from tests.factories import CareUnitFactory, EpisodeFactory, MembershipFactory, PatientFactory, RoleFactory, UserFactory

LETTER = "11490-0"  # lettre de liaison (category "ldl")
BIOLOGY = "11502-2"  # compte rendu de biologie (category "biology")
IMAGING = "18748-4"  # compte rendu d'imagerie (category "imaging")
_numbers = count(1)


def ins_for(number: int, *, female: bool = True) -> str:
    """A well-formed test INS (NIR-like, key = 97 - first 13 digits mod 97), different for each number."""
    base = f"{2 if female else 1}790363220{number % 1000:03d}"
    return f"{base}{97 - int(base) % 97:02d}"


def make_request(user: User, *, care_unit: CareUnit | None = None, path: str = "/") -> HttpRequest:
    """A GET request of ``user`` with a new saved session (``care_unit``: the unit chosen in it), what the
    services take. Reuse the request for "the same session"; a new request is a new session."""
    request = RequestFactory().get(path)
    SessionMiddleware(lambda _request: HttpResponse()).process_request(request)
    if care_unit is not None:
        request.session[SESSION_CARE_UNIT] = care_unit.pk
    request.session.save()
    request.user = user
    return request


@dataclass
class Consultation:
    """A professional about to consult a patient's DMP: everything a service call takes."""

    user: User
    episode: Episode
    request: HttpRequest
    dmp: PatientDmp | None

    @property
    def patient(self) -> Patient:
        return self.episode.patient

    def as_user(self, user: User) -> Consultation:
        """Another professional on the same patient, in their own session."""
        return Consultation(user=user, episode=self.episode, request=make_request(user), dmp=self.dmp)

    def new_session(self) -> Consultation:
        """The same professional signed in again: what the session remembered is gone."""
        return self.as_user(self.user)

    def context(self, *, dmp: bool = True) -> Context:
        """The :func:`dmp.access.consultation_context` of this request; fails the test when blocked."""
        context = consultation_context(self.request, self.patient, self.episode, dmp=dmp)
        assert isinstance(context, Context), context
        return context


@dataclass
class LiveDmp:
    """The sandbox DMP the DPI's settings point at, with the test's moves on both sides (module docstring)."""

    server: DmpServer
    behave: Callable[..., DmpBehaviour]
    rng: random.Random = field(default_factory=lambda: random.Random(42))  # noqa: S311 (test data)

    # --- the DPI side -----------------------------------------------------------------------------------

    def professional(
        self, care_unit: CareUnit | None = None, *, specialty: str = "SM26", national_id: bool = True, **fields: object
    ) -> User:
        """A physician (profession 10, specialty SM26 by default) with a membership in ``care_unit`` (a new
        unit when None), an RPPS unless ``national_id=False``, and a TOTP second factor."""
        identity = {} if national_id else {"national_id_type": NationalIdType.NONE, "rpps": None}
        user = UserFactory(specialty=specialty, **identity, **fields)
        MembershipFactory(user=user, care_unit=care_unit or CareUnitFactory(), role=RoleFactory())
        return user

    def patient(
        self,
        care_unit: CareUnit,
        *,
        consent: str | None = State.INFORMED_NOT_OPPOSED,
        qualified: bool = True,
        kind: str = Episode.Kind.OUTPATIENT,
        **traits: object,
    ) -> Episode:
        """A patient with a test INS, qualified unless ``qualified=False`` (then only "récupérée"), and a
        current visit of ``kind`` in ``care_unit`` (the episode is returned: ``episode.patient``).
        ``consent``: the patient's choice on DMP consultation for this visit (None: nothing recorded,
        "not informed"). The default kind, an outpatient consultation, is one the "new documents" count
        is shown for."""
        number = next(_numbers)
        identity = {
            "ins": ins_for(number),
            "ins_oid": "1.2.250.1.213.1.4.10",
            "identity_status": IdentityStatus.QUALIFIEE if qualified else IdentityStatus.RECUPEREE,
            "birth_name": f"DMP-TEST{number}",
            "first_names": "DOMINIQUE MARIE",
            "birth_date": date(1979, 3, 28),
            "sex": "F",
            "birth_place_insee": "63220",
        }
        patient = PatientFactory(**(identity | traits))
        episode = EpisodeFactory(patient=patient, care_unit=care_unit, kind=kind)
        if consent is not None:
            record_consent(episode=episode, subject=Subject.CONSULTATION, state=consent, source=Source.UI)
        return episode

    @staticmethod
    def request(user: User, *, care_unit: CareUnit | None = None, path: str = "/") -> HttpRequest:
        """A GET request of ``user`` with a new session (:func:`make_request`)."""
        return make_request(user, care_unit=care_unit, path=path)

    def consultation(
        self,
        *,
        documents: int = 0,
        authorised: bool = True,
        with_dmp: bool = True,
        user: User | None = None,
        care_unit: CareUnit | None = None,
        **patient_options: object,
    ) -> Consultation:
        """The usual start: a physician, their patient (see :meth:`patient`), the patient's open DMP with
        ``documents`` seeded documents where the physician is ``authorised`` (or no DMP at all)."""
        if user is None:
            care_unit = care_unit or CareUnitFactory()
            user = self.professional(care_unit)
        care_unit = care_unit or user.memberships.first().care_unit
        episode = self.patient(care_unit, **patient_options)
        dmp = None
        if with_dmp:
            dmp = self.seed(episode.patient, documents) if documents else self.open_dmp(episode.patient)
            if authorised:
                self.authorise(dmp, user)
        return Consultation(user=user, episode=episode, request=self.request(user), dmp=dmp)

    @staticmethod
    def blocked(consultation: Consultation, *, dmp: bool = True) -> Blocked:
        """The :class:`~dmp.access.Blocked` answer of the gate; fails the test when a context is given."""
        blocked = consultation_context(consultation.request, consultation.patient, consultation.episode, dmp=dmp)
        assert isinstance(blocked, Blocked), blocked
        return blocked

    # --- the sandbox side -----------------------------------------------------------------------------

    @staticmethod
    def open_dmp(patient: Patient) -> PatientDmp:
        """The patient's open DMP in the sandbox, with the file's identity traits, no document, nobody authorised."""
        return seed.open_dmp(patient)

    @staticmethod
    def seed(patient: Patient, documents: int = 6) -> PatientDmp:
        """The sandbox's lived-in DMP (:func:`sandbox.dmp.seed.seed_dmp`): ``documents`` documents over five
        years plus a letter in three versions and a deleted report. Keep it small: a few documents suffice."""
        return seed.seed_dmp(patient, count=max(documents, seed.RECENT + 1))

    @staticmethod
    def authorise(dmp: PatientDmp, user: User, *, days: int = 30) -> DmpAuthorisation:
        """``user``'s individual authorisation on ``dmp`` (expired when ``days`` is negative)."""
        until = timezone.now() + timedelta(days=days)
        return DmpAuthorisation.objects.create(dmp=dmp, national_id=user.national_id, until=until)

    @staticmethod
    def close_dmp(dmp: PatientDmp, reason: str = "Demande du patient") -> PatientDmp:
        dmp.status, dmp.closed_at, dmp.closure_reason = PatientDmp.Status.CLOSED, timezone.now(), reason
        dmp.save()
        return dmp

    @staticmethod
    def block(dmp: PatientDmp, user: User) -> PatientDmp:
        """The patient blocks ``user``: TD0.2 answers INTERDIT, TD0.3 and TD3.x are refused."""
        dmp.blocked_professionals = [*dmp.blocked_professionals, user.national_id]
        dmp.save()
        return dmp

    def add_document(
        self,
        dmp: PatientDmp,
        type_code: str = LETTER,
        *,
        days_ago: float = 1,
        invisible_to_patient: bool = False,
        masked_to_professionals: bool = False,
        from_site: Site | None = None,
        version: Version | None = None,
    ) -> DmpDocument:
        """One document written outside the hospital ``days_ago`` days ago (act two hours before, submitted
        30 minutes after); ``from_site``: written in that site of the hospital instead (same FINESS)."""
        author = _author_in(from_site) if from_site is not None else None
        visibility = Visibility(
            masked_to_professionals=masked_to_professionals, invisible_to_patient=invisible_to_patient
        )
        created = timezone.now() - timedelta(days=days_ago)
        return seed.add_document(
            dmp, type_code, created=created, visibility=visibility, author=author, rng=self.rng, version=version
        )

    def replace_document(self, dmp: PatientDmp, document: DmpDocument, *, days_ago: float = 0.5) -> DmpDocument:
        """A new version of ``document`` (same setId, versionNumber + 1, relatedDocument RPLC): the DMP
        deprecates the older one."""
        header = parse_cda_header(bytes(document.content))
        version = Version((header.set_id or header.id).key, (header.version_number or 1) + 1, document.unique_id)
        return self.add_document(dmp, document.type_code, days_ago=days_ago, version=version)

    @staticmethod
    def delete_document(dmp: PatientDmp, document: DmpDocument) -> None:
        """Logical deletion in the DMP: the document no longer appears to anyone."""
        delete_from_dmp(dmp, document.unique_id)

    def set_mode(self, mode: str, *, slow_seconds: float = 2.0) -> DmpBehaviour:
        """``DmpBehaviour.Mode`` DOWN (connections refused), SLOW (answers after ``slow_seconds``: pair it
        with a shorter ``settings.DMP_TIMEOUT_SECONDS``), FAULT (SOAP fault dmp:ServiceUnavailable) or NORMAL.
        Takes effect at once."""
        behaviour = self.behave(mode, slow_seconds=slow_seconds)
        self.server.follow_behaviour()
        return behaviour

    # --- what the sandbox received ----------------------------------------------------------------------

    @staticmethod
    def calls(*transactions: str, **filters: object) -> list[DmpCall]:
        """The requests the sandbox received, oldest first: ``calls()`` every one, ``calls("TD0.3")`` one
        transaction ("TD0.2", "TD0.3", "ITI-18", "ITI-43", "ITI-57", "TD0.10", "DRIMbox"), ``name_id=...``."""
        queryset = DmpCall.objects.filter(**filters).order_by("pk")
        if transactions:
            queryset = queryset.filter(transaction__in=transactions)
        return list(queryset)

    @staticmethod
    def queries(calls: Iterable[DmpCall]) -> list[str]:
        """The stored query of each ITI-18 call, by name (FindDocuments, GetDocuments...)."""
        return [QUERY_NAMES.get(call.query_id, call.query_id) for call in calls if call.transaction == "ITI-18"]


QUERY_NAMES = {
    "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d": "FindDocuments",
    "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4": "GetDocuments",
    "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9": "FindSubmissionSets",
    "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155": "GetAssociations",
    "urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a": "GetDocumentsAndAssociations",
}


def _author_in(site: Site) -> Professional:
    """A physician of the hospital's ``site``: their documents come back from the DMP as the hospital's own."""
    establishment = Establishment(site.name, site.finess_eg, 9)
    return Professional(rpps_national_id("2000000099"), "Interne", "Hugo", "10", "SM26", establishment)

"""Every URL and API route that takes a patient, document, visit or order id goes through one door
(patients/access.py): a user of another unit is refused with an audit row, an allowed reading leaves one
row, and fragments of an already audited page are not audited again (docs/security.md)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from directory.models import PatientCorrespondent
from dmp.models import FeedingOrder, OrderKind, OrderState
from documents.models import Document, DocumentVersion, Provenance, Status
from dpi.hl7.ack import new_control_id
from dpi.models import AuditEvent, Membership, NoticeAcknowledgement, Peer
from dpi.services import create_peer
from patients.access import AuditedObjectMixin, PatientView, Reads
from patients.models import Episode, Patient
from tests.factories import CareUnitFactory, CorrespondentFactory, EpisodeFactory, MembershipFactory

# Views that take an id and are not behind @patient_view, with the reason. Anything else is a failure.
EXEMPT = {
    "patients:emergency_access": "asks for the emergency access itself: start_emergency_access audits it "
    "(patient.emergency_access); it shows only the refused page",
    "mss:import_document": "the id is the user's own pending upload (PendingImport, filtered by user); the "
    "patient then chosen goes through open_patient_file",
    "mss:discard_import": "discards the user's own pending upload (PendingImport, filtered by user)",
    "vigilance:refusal": "the id is an MSSanté refusal trace, for the identity-vigilance permission "
    "(a refusal audited); each identity compared is audited as listed (tests/patients/test_vigilance_worklist.py)",
    "vigilance:handled": "POST on a refusal trace, identity-vigilance permission; mss.vigilance.mark_handled "
    "audits the change, a refusal is audited",
    "vigilance:file": "POST staging a refused document for the manual import (mss:import_document), whose "
    "chosen patient goes through open_patient_file; identity-vigilance permission, a refusal audited",
    "patients:emergency_reviewed": "POST on an emergency access, for its reviewers (DPO, head of the opener's unit); "
    "patients.review.mark_reviewed audits the change, a refusal is audited (tests/patients/test_emergency_review.py)",
    **dict.fromkeys(
        ("dpi_oidc_login", "dpi_oidc_callback", "oidc_ciba", "oidc_ciba_poll"),
        "the id names an identity provider (psc, hopital), no patient; every sign-in attempt is audited (tests/oidc/)",
    ),
}
# Whole namespaces of third-party views: no patient id in their URLs, or staff pages audited otherwise.
EXEMPT_NAMESPACES = {
    "admin": "staff pages; changes audited by dpi.admin.AuditedAdmin, readings of an object tied to a patient by "
    "PatientReadingAdmin (tests/dpi/test_admin.py checks every registered admin)",
}
THIRD_PARTY = ("allauth.", "django.", "drf_spectacular.", "rest_framework.")


@dataclass(frozen=True)
class Route:
    name: str
    regex: str
    callback: object
    kwargs: frozenset[str]


def _walk(
    patterns: list, prefix: str = "", namespace: str = "", groups: frozenset[str] = frozenset()
) -> Iterator[Route]:
    for entry in patterns:
        found = groups | frozenset(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner, found)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else ""
            yield Route(name, prefix + str(entry.pattern), entry.callback, found - {"format"})


def _spec(route: Route) -> PatientView | None:
    return getattr(route.callback, "patient_view", None)


def _is_api_mixin(route: Route) -> bool:
    cls = getattr(route.callback, "cls", None)
    return cls is not None and issubclass(cls, AuditedObjectMixin)


def _routes_with_ids() -> list[Route]:
    routes = []
    for route in _walk(get_resolver().url_patterns):
        if not route.kwargs or route.name.split(":")[0] in EXEMPT_NAMESPACES:
            continue
        module = getattr(getattr(route.callback, "cls", route.callback), "__module__", "")
        if module.startswith(THIRD_PARTY):
            continue
        routes.append(route)
    return routes


ROUTES = {route.name: route for route in _routes_with_ids()}
MARKED = sorted(name for name, route in ROUTES.items() if _spec(route))
API = sorted(name for name, route in ROUTES.items() if _is_api_mixin(route))


def test_every_route_that_takes_an_id_is_behind_the_door_or_exempt_with_a_reason():
    unclassified = sorted(
        f"{name} ({route.regex})"
        for name, route in ROUTES.items()
        if not (_spec(route) or _is_api_mixin(route) or name in EXEMPT)
    )
    assert not unclassified, "mark these views with @patient_view or list them in EXEMPT:\n" + "\n".join(unclassified)
    stale = sorted(name for name in EXEMPT if name not in ROUTES or _spec(ROUTES[name]))
    assert not stale, f"EXEMPT names a route that is gone or marked: {stale}"
    assert {"documents:pdf", "documents:cda", "documents:cda_download", "documents:list", "dmp:feeding_line"} <= set(
        MARKED
    )
    assert {"patient-detail", "episode-detail", "episode-consent"} <= set(API)


# --- behaviour of every marked route ---------------------------------------------------------------


_RENDERED: dict[str, bytes] = {}  # the letter's PDF and CDA, rendered once per run (rendering is slow)


def _validated_letter(client, doctor, episode: Episode) -> Document:
    if not _RENDERED:
        client.force_login(doctor)
        client.post(
            reverse("documents:new", args=[episode.patient.pk, "11490-0"]),
            {
                "title": "Lettre de liaison", "act_date": "2026-11-20T10:00", "motif": "Motif",
                "synthese": "Synthèse", "modalite_entree": "urgence", "modalite_sortie": "domicile",
                "recherche_bmr": "non", "transfusion": "non", "derives_sang": "non", "traitements": "",
                "suites": "", "validate": "1",
            },
        )  # fmt: skip
        client.logout()
        document = Document.objects.get(patient=episode.patient)
        _RENDERED.update(cda=bytes(document.current_version.cda), pdf=bytes(document.current_version.pdf))
        return document
    document = Document.objects.create(
        patient=episode.patient, episode=episode, set_id=f"2.25.{uuid.uuid4().int}", type_code="11490-0",
        type_label="Lettre de liaison", title="Lettre", act_date=timezone.now(), provenance=Provenance.PRODUCED,
        status=Status.VALIDATED,
    )  # fmt: skip
    document.current_version = DocumentVersion.objects.create(
        document=document, version_number=1, cda_id_root=f"2.25.{uuid.uuid4().int}", cda=_RENDERED["cda"],
        pdf=_RENDERED["pdf"], validated_at=timezone.now(), validated_by=doctor,
    )  # fmt: skip
    document.save(update_fields=["current_version"])
    return document


@pytest.fixture
def world(db, client, doctor, care_unit):
    """A patient of ``care_unit`` with a validated letter (PDF + CDA) and a feeding order."""
    episode = EpisodeFactory(care_unit=care_unit)
    document = _validated_letter(client, doctor, episode)
    order = FeedingOrder.objects.filter(document=document).first() or FeedingOrder.objects.create(
        document=document, version=document.current_version, channel="dmp", kind=OrderKind.MANUAL,
        state=OrderState.HELD, due_at=timezone.now(), control_id=new_control_id(),
    )  # fmt: skip
    role = Membership.objects.filter(user=doctor).first().role
    outsider = MembershipFactory(care_unit=CareUnitFactory(), role=role).user
    gp = PatientCorrespondent.objects.create(
        patient=episode.patient, correspondent=CorrespondentFactory(), role="traitant"
    )
    ids = {Patient: episode.patient.pk, Document: document.pk, Episode: episode.pk, FeedingOrder: order.pk,
           PatientCorrespondent: gp.pk}  # fmt: skip
    return {"patient": episode.patient, "episode": episode, "document": document, "ids": ids,
            "doctor": doctor, "outsider": outsider, "correspondent": gp.correspondent_id}  # fmt: skip


def _url(name: str, world: dict) -> str:
    route = ROUTES[name]
    spec = _spec(route)
    values = {
        "document_pk": world["document"].pk,
        "episode_pk": world["episode"].pk,
        "number": 1,
        "type_code": "11490-0",
        "entry_uuid": f"urn:uuid:{uuid.uuid4()}",
        "page": "dossier",
        "channel": "dmp",
        "correspondent": world["correspondent"],
    }
    if spec is not None:
        values[spec.kwarg] = world["ids"][spec.model]
    else:  # an API route: the viewset's own model
        model = route.callback.cls.serializer_class.Meta.model
        values["pk"] = world["ids"][model]
    return reverse(name, kwargs={key: values[key] for key in route.kwargs})


def _rows(world: dict, action: str) -> int:
    return AuditEvent.objects.filter(action=action, patient_id=world["patient"].pk).count()


def _request(client, url: str, **headers: str):
    response = client.get(url, headers=headers)
    if response.status_code == 405:
        response = client.post(url, headers=headers)
    return response


@pytest.mark.parametrize("name", MARKED + API)
def test_a_user_of_another_unit_is_refused_with_one_audit_row(client, world, name):
    client.force_login(world["outsider"])
    before = _rows(world, AuditEvent.Action.PATIENT_REFUSED)
    response = _request(client, _url(name, world))
    assert response.status_code in (403, 404)
    assert _rows(world, AuditEvent.Action.PATIENT_REFUSED) == before + 1
    assert _rows(world, AuditEvent.Action.PATIENT_OPEN) == 0


READ_BY_DOOR = [name for name in MARKED if _spec(ROUTES[name]).reads is not Reads.SERVICE]


@pytest.mark.parametrize("name", READ_BY_DOOR + API)
def test_an_allowed_reading_leaves_exactly_one_row(client, world, name):
    """Routes whose allowed request a service audits (Reads.SERVICE: changes, DMP consultations) are
    tested with their services; here the readings the door itself (or open_patient_file) audits."""
    client.force_login(world["doctor"])
    before = _rows(world, AuditEvent.Action.PATIENT_OPEN)
    response = client.get(_url(name, world))
    if response.status_code == 405:
        pytest.skip("a POST-only route: its change is audited by its service")
    assert response.status_code < 500
    assert _rows(world, AuditEvent.Action.PATIENT_OPEN) == before + 1


def _refusal(world: dict) -> AuditEvent:
    return AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_REFUSED, patient_id=world["patient"].pk).get()


@pytest.mark.parametrize("name", MARKED + API)
def test_anonymous_callers_are_sent_to_the_login_or_refused_with_one_audit_row(client, world, name):
    response = _request(client, _url(name, world))
    assert response.status_code in (302, 401, 403)
    if response.status_code == 302:
        assert "/accounts/login/" in response.url
    row = _refusal(world)
    assert row.actor is None and row.detail["reason"] == "anonymous" and row.detail["view"] == name


@pytest.mark.parametrize("name", API)
def test_a_peer_without_the_scope_is_refused_with_one_audit_row(client, world, name):
    _peer, token = create_peer(name="sih-sans-portee", scopes=[])
    response = _request(client, _url(name, world), Authorization=f"Token {token}")
    assert response.status_code == 403
    row = _refusal(world)
    assert row.peer == "sih-sans-portee" and row.detail == row.detail | {"reason": "peer_scope", "channel": "api"}


@pytest.mark.parametrize("name", API)
def test_a_revoked_token_is_refused_with_one_audit_row(client, world, name):
    peer, token = create_peer(name="sih-revoque", scopes=list(Peer.Scope.values))
    Peer.objects.filter(pk=peer.pk).update(active=False)
    response = _request(client, _url(name, world), Authorization=f"Token {token}")
    assert response.status_code in (401, 403)
    assert _refusal(world).detail["reason"] == "anonymous"


def test_a_peer_without_the_scope_on_a_list_is_audited_without_a_patient(client, db):
    _peer, token = create_peer(name="sih-sans-portee", scopes=[])
    assert client.get("/api/patients/", headers={"Authorization": f"Token {token}"}).status_code == 403
    row = AuditEvent.objects.get(action=AuditEvent.Action.PATIENT_REFUSED)
    assert row.patient_id is None and row.peer == "sih-sans-portee" and row.detail["path"] == "/api/patients/"


def test_a_user_stopped_by_the_mandatory_notice_is_refused_with_one_audit_row(client, world):
    NoticeAcknowledgement.objects.filter(user=world["doctor"]).delete()
    client.force_login(world["doctor"])
    for name in ("patients:file", "documents:pdf", "patient-detail"):
        response = client.get(_url(name, world))
        assert response.status_code in (302, 403)
    rows = AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_REFUSED, patient_id=world["patient"].pk)
    assert [row.detail["reason"] for row in rows] == ["account_incomplete"] * 3
    assert {row.actor for row in rows} == {world["doctor"]}
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_OPEN).exists()


def test_an_anonymous_caller_of_a_missing_object_or_a_page_without_one_leaves_no_row(client, world):
    client.get(reverse("patients:file", args=[999999999]))
    client.get(reverse("patients:search"))
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_REFUSED).exists()


# --- one row per user action ----------------------------------------------------------------------


def test_fragments_and_frames_of_an_audited_page_are_not_audited_again_but_a_download_is(client, world):
    client.force_login(world["doctor"])
    patient, document = world["patient"], world["document"]
    client.get(reverse("patients:file", args=[patient.pk]))
    assert _rows(world, AuditEvent.Action.PATIENT_OPEN) == 1
    client.get(reverse("documents:list", args=[patient.pk]), headers={"HX-Request": "true"})
    client.get(reverse("mss:patient_documents", args=[patient.pk]), headers={"HX-Request": "true"})
    client.get(reverse("documents:pdf", args=[document.pk, 1]), headers={"Sec-Fetch-Dest": "iframe"})
    assert _rows(world, AuditEvent.Action.PATIENT_OPEN) == 1
    client.get(reverse("documents:cda_download", args=[document.pk, 1]), headers={"Sec-Fetch-Dest": "iframe"})
    assert _rows(world, AuditEvent.Action.PATIENT_OPEN) == 2  # a download always
    client.get(reverse("documents:pdf", args=[document.pk, 1]))  # the PDF opened in a tab of its own
    assert _rows(world, AuditEvent.Action.PATIENT_OPEN) == 3


def test_a_fragment_header_alone_does_not_skip_the_audit(client, world):
    """Without an audited reading of the same patient in the same session, HX-Request changes nothing."""
    client.force_login(world["doctor"])
    client.get(reverse("documents:list", args=[world["patient"].pk]), headers={"HX-Request": "true"})
    row = AuditEvent.objects.get(action=AuditEvent.Action.PATIENT_OPEN, patient_id=world["patient"].pk)
    assert row.detail["view"] == "documents:list" and row.actor == world["doctor"]


def test_the_api_refusal_stays_a_404_and_is_audited(client, world):
    client.force_login(world["outsider"])
    response = client.get(f"/api/patients/{world['patient'].pk}/")
    assert response.status_code == 404
    row = AuditEvent.objects.get(action=AuditEvent.Action.PATIENT_REFUSED, patient_id=world["patient"].pk)
    assert row.detail["channel"] == "api" and row.actor == world["outsider"]
    assert client.get("/api/patients/999999999/").status_code == 404  # no patient: nothing to audit
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_REFUSED).count() == 1


def test_an_api_list_leaves_one_reading_row_per_patient_it_names(client, world):
    client.force_login(world["doctor"])
    patient = world["patient"]
    EpisodeFactory(patient=patient, care_unit=world["episode"].care_unit)  # two visits, one patient
    assert len(client.get("/api/episodes/", {"patient": patient.pk}).json()["results"]) == 2
    row = AuditEvent.objects.get(action=AuditEvent.Action.PATIENT_OPEN, patient_id=patient.pk)
    assert row.actor == world["doctor"] and row.detail == row.detail | {"channel": "api", "view": "list"}
    assert client.get("/api/patients/", {"name": "personne-de-ce-nom"}).json()["results"] == []
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_OPEN).count() == 1  # nothing read, no row


def test_a_peer_search_audits_each_patient_it_returns_with_the_peer(client, world):
    _peer, token = create_peer(name="sih-gam", scopes=[Peer.Scope.PATIENTS_READ])
    other = EpisodeFactory().patient
    answer = client.get("/api/patients/", headers={"Authorization": f"Token {token}"})
    assert {item["id"] for item in answer.json()["results"]} >= {world["patient"].pk, other.pk}
    rows = AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_OPEN, peer="sih-gam")
    assert set(rows.values_list("patient_id", flat=True)) == {item["id"] for item in answer.json()["results"]}


def test_search_results_are_a_reading_of_each_patient_shown(client, world):
    client.force_login(world["outsider"])  # the search spans the hospital: outside one's units too
    client.get(reverse("patients:search"), {"ipp": world["patient"].ipp})
    row = AuditEvent.objects.get(action=AuditEvent.Action.PATIENT_OPEN, patient_id=world["patient"].pk)
    assert row.actor == world["outsider"] and row.detail == row.detail | {"channel": "search", "view": "list"}

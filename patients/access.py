"""The one door of every view that takes a patient, document, visit or order id (docs/security.md).

``@patient_view(Model, via="patient")`` resolves the object named in the URL, reaches its patient,
asks the habilitation selector and writes the audit row:

* a refusal always: ``patient.refused`` and 403, before the view runs;
* an allowed reading (``Reads.DECORATOR``, GET/HEAD): ``patient.open`` with the view's name and path,
  once per user action: a request embedded in a page (htmx fragment, ``HX-Request``; frame,
  ``Sec-Fetch-Dest: iframe``) is not audited again when the same session's reading of the same patient
  was audited less than ``EMBEDDED_WINDOW`` ago. Everything else is: a page, a link opened in a new tab,
  and a download (``always=True``) even inside the window;
* ``Reads.SERVICE``: the view's service writes the row of the allowed request itself (a change, a DMP
  consultation, ``open_patient_file``); the decorator still checks and audits the refusal.

POST requests are audited by the change they make (the services' own rows), not as readings.
``tests/test_access_audit.py`` walks every URL pattern and API route: each one that takes an id is
marked with this decorator (or :class:`AuditedObjectMixin`) or listed as exempt with its reason.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from dpi.models import AuditEvent, User
from dpi.services import audit, audit_row
from dpi.validators import is_database_id
from patients.embedded import embedded_in_recorded_page, remember
from patients.ins_traces import trace_ins_api, trace_ins_reading
from patients.models import Patient
from patients.selectors import PatientAccess, patient_access


class Reads(enum.Enum):
    DECORATOR = "decorator"  # the decorator audits the allowed reading
    SERVICE = "service"  # the view's service audits the allowed request; the decorator the refusal
    VIEW = "view"  # the view calls open_patient_file itself (refusal page, merged identities)


@dataclass(frozen=True)
class PatientView:
    """What the URL walker reads on a marked view."""

    model: type[models.Model]
    kwarg: str
    via: str
    reads: Reads
    always: bool


def _patient_of(target: models.Model, via: str) -> Patient:
    for name in filter(None, via.split("__")):
        target = getattr(target, name)
    if not isinstance(target, Patient):
        raise TypeError(f"{via!r} does not lead to a patient")
    return target


def _patient_id_of(target: models.Model, via: str) -> int:
    """The patient's id without loading the patient: ``episode.patient_id`` for ``via="patient"``."""
    *path, last = via.split("__") if via else ["", ""]
    for name in filter(None, path):
        target = getattr(target, name)
    return getattr(target, f"{last}_id") if last else target.pk


def require_access(user: User, patient: Patient) -> None:
    """The services' own check (a write or a send reached without the door, or after it): raise
    ``PermissionDenied`` unless the habilitation selector lets ``user`` act on ``patient``. It writes no
    audit row: a request is refused and audited at the door (:func:`patient_view`), and the refused
    service call writes nothing."""
    if not patient_access(user, patient).allowed:
        raise PermissionDenied(_("Vous n'êtes pas habilité sur ce dossier."))


def remember_audited_read(request: HttpRequest | None, patient: Patient) -> None:
    """Fragments and frames of the page this reading opened are not audited again (EMBEDDED_WINDOW)."""
    if request is not None and getattr(request, "user", None) is not None and request.user.is_authenticated:
        remember(request, "read", patient.pk)


def audit_reading(
    request: HttpRequest,
    *,
    patient: Patient,
    access: PatientAccess,
    obj: models.Model | None = None,
    user: User | None = None,
    peer: Any = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """The row of one reading of ``patient``'s data, or of its refusal."""
    match = getattr(request, "resolver_match", None)
    audit(
        action=AuditEvent.Action.PATIENT_OPEN if access.allowed else AuditEvent.Action.PATIENT_REFUSED,
        actor=user,
        peer=peer,
        request=request,
        obj=obj if obj is not None else patient,
        patient_id=patient.pk,
        emergency=access.emergency,
        detail={
            "reason": access.reason.value,
            "path": request.path,
            "view": match.view_name if match else "",
            **(detail or {}),
        },  # fmt: skip
    )
    if access.allowed and peer is None:
        remember_audited_read(request, patient)


def audit_listed_patients(
    request: HttpRequest, patient_ids: list[int], *, peer: Any = None, detail: dict[str, Any] | None = None
) -> None:
    """A list of patients shown (search results, an API list) is a reading of each: one ``patient.open``
    row per distinct patient, view ``list`` and the query, in one statement."""
    user = None if peer else request.user
    common = {"view": "list", "path": request.path, "query": request.GET.urlencode()[:500], **(detail or {})}
    AuditEvent.objects.bulk_create(
        audit_row(
            action=AuditEvent.Action.PATIENT_OPEN,
            actor=user,
            peer=peer,
            request=request,
            patient_id=patient_id,
            detail=common,
        )  # fmt: skip
        for patient_id in dict.fromkeys(patient_ids)
    )


def patient_view(
    model: type[models.Model] = Patient,
    *,
    kwarg: str = "pk",
    via: str = "",
    reads: Reads = Reads.DECORATOR,
    always: bool = False,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Mark a view that shows or changes a patient's data; place it under ``@login_required``.

    ``via`` is the path from ``model`` to its patient (``"patient"``, ``"document__patient"``).
    The view finds the habilitation in ``request.patient_access`` and the object in ``request.patient_target``.
    """
    spec = PatientView(model=model, kwarg=kwarg, via=via, reads=reads, always=always)

    def _patient_at(kwargs: dict[str, Any]) -> Patient:
        return _patient_of(get_object_or_404(model._default_manager, pk=kwargs[kwarg]), via)

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            request.patient_door_reached = True
            if reads is Reads.VIEW:
                response = view(request, *args, **kwargs)
                return trace_ins_reading(request, response, patient_of=lambda: _patient_at(kwargs), always=always)
            manager = model._default_manager.select_related(via) if via else model._default_manager
            target = get_object_or_404(manager, pk=kwargs[kwarg])
            patient = _patient_of(target, via)
            access = patient_access(request.user, patient)
            if not access.allowed:
                audit_reading(request, patient=patient, access=access, obj=target, user=request.user)
                raise PermissionDenied
            safe = request.method in ("GET", "HEAD")
            repeated = not always and embedded_in_recorded_page(request, "read", patient.pk)
            if reads is Reads.DECORATOR and safe and not repeated:
                audit_reading(request, patient=patient, access=access, obj=target, user=request.user)
            request.patient_access = access
            request.patient_target = target
            response = view(request, *args, **kwargs)
            return trace_ins_reading(request, response, patient_of=lambda: patient, always=always)

        wrapper.patient_view = spec  # type: ignore[attr-defined]
        return wrapper

    return decorate


STOPPED_BEFORE_THE_DOOR = frozenset({301, 302, 303, 401, 403})


class RefusalBeforeTheDoorMiddleware:
    """Audits a request refused before reaching its door: for a marked view, an anonymous caller sent to
    the login page or a signed-in user stopped by the second-factor setup or the mandatory notice; for an
    audited API viewset, also a bad token or a peer without the scope (401/403, DRF's own refusals).
    Placed right after ``AuthenticationMiddleware`` so that it wraps those middlewares and ``@login_required``.
    The row names the patient when the URL's object exists; a page without an existing object has nothing
    to audit, an API call is audited even without one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        stopped = response.status_code in STOPPED_BEFORE_THE_DOOR or response.has_header("HX-Redirect")
        if stopped and not getattr(request, "patient_door_reached", False):
            _audit_stopped_request(request, response)
        return response


def _audit_stopped_request(request: HttpRequest, response: HttpResponse) -> None:
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return
    door = _door_of(match.func)
    if door is None:
        return
    model, kwarg, via, api = door
    lookup = match.kwargs.get(kwarg)
    target = model._default_manager.filter(pk=lookup).first() if is_database_id(lookup) else None
    if target is None and not api:  # a page without an object (or a missing one): nothing was refused
        return
    from dpi.api import PeerPrincipal

    caller = request.user
    peer = caller.peer if isinstance(caller, PeerPrincipal) else None
    user = caller if isinstance(caller, User) and caller.is_authenticated else None
    audit(
        action=AuditEvent.Action.PATIENT_REFUSED,
        actor=user,
        peer=peer,
        request=request,
        obj=target,
        patient_id=_patient_of(target, via).pk if target is not None else None,
        detail={
            "reason": "peer_scope" if peer else "account_incomplete" if user else "anonymous",
            "status": response.status_code,
            "path": request.path,
            "view": match.view_name,
            **({"channel": "api"} if api else {}),
        },
    )


def _door_of(view: Callable[..., HttpResponse]) -> tuple[type[models.Model], str, str, bool] | None:
    """What a marked view or an audited API viewset takes from its URL: model, URL kwarg, path to the
    patient, and whether it is the API."""
    spec: PatientView | None = getattr(view, "patient_view", None)
    if spec is not None:
        return spec.model, spec.kwarg, spec.via, False
    viewset = getattr(view, "cls", None)
    if viewset is not None and issubclass(viewset, AuditedObjectMixin):
        kwarg = viewset.lookup_url_kwarg or viewset.lookup_field
        return viewset.serializer_class.Meta.model, kwarg, viewset.patient_via, True
    return None


class AuditedObjectMixin:
    """For DRF viewsets: ``get_object`` outside the habilitation (the queryset hides the object, 404)
    audits the refusal; a ``retrieve`` audits the reading (user or peer)."""

    patient_via = ""
    audited_actions = ("retrieve",)

    def paginate_queryset(self, queryset: Any) -> list | None:
        """A list answer is a reading of every patient it names: one ``patient.open`` row per patient on
        the page (channel ``api``, view ``list``), written in one statement."""
        page = super().paginate_queryset(queryset)  # type: ignore[misc]
        if page:
            self._audit_listed(page)
        return page

    def _audit_listed(self, page: list) -> None:
        from dpi.api import calling_peer

        request = self.request  # type: ignore[attr-defined]
        patient_ids = [_patient_id_of(obj, self.patient_via) for obj in page]
        audit_listed_patients(request, patient_ids, peer=calling_peer(request), detail={"channel": "api"})
        trace_ins_api(request, patients=page, peer=calling_peer(request))  # a list of patients carries their INS

    def get_object(self) -> models.Model:
        from dpi.api import calling_peer

        request = self.request  # type: ignore[attr-defined]
        peer = calling_peer(request)
        try:
            target = super().get_object()  # type: ignore[misc]
        except Http404:
            lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)  # type: ignore[attr-defined]
            model = self.get_queryset().model  # type: ignore[attr-defined]
            hidden = model._default_manager.filter(pk=lookup).first() if is_database_id(lookup) else None
            if hidden is not None and peer is None:
                patient = _patient_of(hidden, self.patient_via)
                access = patient_access(request.user, patient)
                if not access.allowed:
                    audit_reading(request, patient=patient, access=access, obj=hidden, user=request.user,
                                  detail={"channel": "api"})  # fmt: skip
            raise
        if self.action in self.audited_actions:  # type: ignore[attr-defined]
            patient = _patient_of(target, self.patient_via)
            if peer is not None:  # a peer reads through its scope, checked by its permission class
                audit(action=AuditEvent.Action.PATIENT_OPEN, peer=peer, request=request, obj=target,
                      patient_id=patient.pk, detail={"channel": "api", "path": request.path})  # fmt: skip
            else:
                access = patient_access(request.user, patient)
                audit_reading(request, patient=patient, access=access, obj=target, user=request.user,
                              detail={"channel": "api"})  # fmt: skip
            trace_ins_api(request, patients=[patient], peer=peer)
        return target

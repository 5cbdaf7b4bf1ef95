"""Traces of the INS (REM INS/va1.39 and INS/va1.46, docs/ins-traces.md).

Displays and exports: :data:`INS_VIEWS` declares, in one place, the views whose answer shows or carries a
patient's INS, and :data:`NO_INS` the views with a patient id that do not, each with its reason;
``tests/patients/test_ins_traces.py`` walks the URL patterns so that a new view cannot be left out. The
door (``patients/access.py``) calls :func:`trace_ins_reading` with each answer: a successful GET of a
declared view, for a patient with an INS, leaves one ``ins.read`` (display) or ``ins.export`` (a file or
an API answer carrying it) row, with the INS shown. As for readings, a fragment or a frame of a page
already traced less than ``EMBEDDED_WINDOW`` ago is not traced again; a download always is.

Partners: :func:`ins_transmissions` lists what left the DPI carrying the INS, from the journals that
already hold it: the HL7 messages to the PFI, the DMP transactions, the DMP and MSSanté sendings. Those
journals belong to the apps above ``patients``, which register their part with :func:`transmission_source`
(``dmp/ins_traces.py``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from dpi.models import AuditEvent, Peer
from dpi.services import audit, audit_row
from patients.embedded import embedded_in_recorded_page, remember
from patients.models import Patient


class InsUse(enum.Enum):
    DISPLAY = AuditEvent.Action.INS_READ
    EXPORT = AuditEvent.Action.INS_EXPORT


@dataclass(frozen=True)
class Shown:
    use: InsUse
    label: str  # what the user saw or took, in French


# Every view whose successful answer shows or carries the INS, by URL name.
INS_VIEWS: dict[str, Shown] = {
    "patients:file": Shown(InsUse.DISPLAY, "Dossier patient (bandeau)"),
    "patients:ins_traces": Shown(InsUse.DISPLAY, "Traces de l'INS"),
    "patients:ins_traces_csv": Shown(InsUse.EXPORT, "Traces de l'INS (CSV)"),
    "patients:search": Shown(InsUse.DISPLAY, "Recherche par INS"),
    "documents:detail": Shown(InsUse.DISPLAY, "Document (bandeau)"),
    "documents:edit": Shown(InsUse.DISPLAY, "Modification d'un document (bandeau)"),
    "documents:new": Shown(InsUse.DISPLAY, "Nouveau document (bandeau)"),
    "documents:import": Shown(InsUse.DISPLAY, "Import d'un document (bandeau)"),
    "documents:cda": Shown(InsUse.DISPLAY, "Rendu CDA d'un document"),
    "documents:pdf": Shown(InsUse.EXPORT, "PDF d'un document"),
    "documents:cda_download": Shown(InsUse.EXPORT, "Téléchargement du CDA d'un document"),
    "dmp:document": Shown(InsUse.DISPLAY, "Document du DMP (bandeau)"),
    "dmp:document_cda": Shown(InsUse.DISPLAY, "Rendu CDA d'un document du DMP"),
    "dmp:document_pdf": Shown(InsUse.EXPORT, "PDF d'un document du DMP"),
    "dmp:historical": Shown(InsUse.DISPLAY, "Alimentation historique du DMP (bandeau)"),
    "dmp:send_mss": Shown(InsUse.DISPLAY, "Envoi d'un document par MSSanté (bandeau)"),
    "documents:import_file": Shown(InsUse.DISPLAY, "Import d'un PDF reçu (bandeau)"),
    "patient-detail": Shown(InsUse.EXPORT, "API : patient"),
    "patient-list": Shown(InsUse.EXPORT, "API : liste de patients"),
    "vigilance:refusal": Shown(InsUse.DISPLAY, "Identitovigilance : traits comparés"),
}

# The views with a patient id whose answer shows no INS, with the reason.
NO_INS: dict[str, str] = {
    "patients:care_episode_link": "POST only; redirects to the file, which is traced",
    "patients:emergency_access": "POST only; shows the refusal page, which names the patient without the INS",
    "consent:record": "POST only; answers the consent panel (no INS)",
    "consent:patient_mailbox": "POST only; answers the consent panel (no INS)",
    "directory:name": "POST only; answers the correspondents panel (no INS)",
    "directory:remove": "POST only; answers the correspondents panel (no INS)",
    "directory:search": "fragment: the correspondents found (professionals, no patient identity)",
    "directory:recipient_row": "fragment: one correspondent's row in the recipients box",
    "directory:annuaire": "fragment: the Annuaire Santé's professionals found (no patient identity)",
    "directory:annuaire_name": "POST only; answers the correspondents panel (no INS)",
    "directory:annuaire_recipient": "POST only; answers one correspondent's row in the recipients box",
    "dpi_oidc_login": "the id names an identity provider (psc, hopital), no patient",
    "dpi_oidc_callback": "the id names an identity provider (psc, hopital), no patient",
    "oidc_ciba": "the id names an identity provider (psc), no patient",
    "oidc_ciba_poll": "the id names an identity provider (psc), no patient",
    "dmp:access_state": "fragment of the file: the DMP access state, no identity",
    "dmp:acknowledge": "POST only; the new-documents fragment",
    "dmp:panel": "fragment of the file: the DMP list (titles, dates, authors)",
    "dmp:search": "fragment of the file: DMP search results; the call itself is a DMP transaction (partners)",
    "dmp:integrate": "POST only; the integration is a DMP transaction (partners)",
    "dmp:make_visible": "confirmation page naming the document, not the INS; the change is a DMP transaction",
    "dmp:produced_visibility": "redirects to the visibility confirmation",
    "dmp:webps": "the INS goes in a hidden field to the DMP web PS: a DMP transaction TD0.10 (partners)",
    "dmp:drimbox": "the INS goes in a hidden field to the DRIMbox: a DRIMbox transaction (partners)",
    "dmp:document_send": "POST only; the sending is a feeding order (partners)",
    "dmp:document_withdraw": "POST only; the withdrawal is a feeding order (partners)",
    "dmp:order_cancel": "POST only",
    "dmp:order_release": "POST only",
    "dmp:feeding_line": "fragment of the document page: the sending states",
    "documents:list": "fragment of the file: titles and dates",
    "documents:correct": "POST only",
    "documents:delete": "POST only",
    "mss:open": "POST only; redirects to the document, which is traced",
    "mss:patient_documents": "fragment of the file: MSSanté documents' titles and dates",
    "mss:import_document": "the user's own pending upload: the CDA header's INS read before any patient is chosen",
    "mss:discard_import": "POST only",
    "vigilance:handled": "POST only; back to the identity-vigilance worklist",
    "vigilance:file": "POST only; stages the refused document for the manual import",
    "patients:emergency_reviewed": "POST only; back to the review of emergency accesses",
    "episode-detail": "API: a visit and its consents, the patient by id only",
    "episode-consent": "API: the consent of a visit, the patient by id only",
}

# Admin pages that show the INS: their patient.open row (channel admin) counts as an INS display.
ADMIN_PAGES_SHOWING_INS = ("patients.Patient", "dmp.DmpTransaction")


def trace_ins(
    request: HttpRequest,
    *,
    patient_id: int,
    ins: str,
    view: str,
    obj: Any = None,
    peer: Peer | None = None,
    detail: dict[str, Any] | None = None,
    shown: Shown | None = None,
) -> AuditEvent:
    """One ``ins.read`` or ``ins.export`` row: who (user and RPPS, or peer), when, from where (address,
    view, path), which patient, which INS. ``shown`` defaults to the view's entry in :data:`INS_VIEWS`."""
    shown = shown or INS_VIEWS[view]
    row = audit(
        action=shown.use.value,
        request=request,
        peer=peer,
        obj=obj,
        patient_id=patient_id,
        detail={"view": view, "path": request.path, "ins": ins, **(detail or {})},
    )
    if peer is None and request.user.is_authenticated:
        remember(request, "ins", patient_id)
    return row


def _view_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match else ""


# A list whose identity lines show the INS because the hospital chose it (PATIENT_IDENTITY_EXTRAS).
LIST_DISPLAY = Shown(InsUse.DISPLAY, "Liste de patients (INS affiché par réglage)")


def trace_ins_in_list(request: HttpRequest, patient: Patient) -> None:
    """The identity line (``patient_identity``) showing the INS in any list: one display row."""
    trace_ins(request, patient_id=patient.pk, ins=patient.ins, view=_view_name(request), obj=patient,
              shown=LIST_DISPLAY)  # fmt: skip


def trace_ins_reading(
    request: HttpRequest, response: HttpResponse, *, patient_of: Callable[[], Patient], always: bool
) -> HttpResponse:
    """Called by the door with every answer of a marked view; ``patient_of`` finds the patient."""
    view = _view_name(request)
    if view not in INS_VIEWS or request.method not in ("GET", "HEAD") or not 200 <= response.status_code < 300:
        return response
    patient = patient_of()
    if patient.ins and (always or not embedded_in_recorded_page(request, "ins", patient.pk)):
        target = getattr(request, "patient_target", None)
        trace_ins(request, patient_id=patient.pk, ins=patient.ins, view=view, obj=target or patient)
    return response


def trace_ins_api(request: HttpRequest, *, patients: Iterable[Any], peer: Peer | None) -> None:
    """An API answer (one patient, or a list's page): one ``ins.export`` row per patient it carried with an
    INS, in one statement; nothing for a route that carries no INS (the visits)."""
    view = _view_name(request)
    if view not in INS_VIEWS:
        return
    AuditEvent.objects.bulk_create(
        audit_row(
            action=INS_VIEWS[view].use.value,
            request=request,
            peer=peer,
            obj=patient,
            patient_id=patient.pk,
            detail={"view": view, "path": request.path, "ins": patient.ins, "channel": "api"},
        )  # fmt: skip
        for patient in patients
        if getattr(patient, "ins", "")
    )


def trace_ins_listed(request: HttpRequest, patients: Iterable[Patient]) -> None:
    """A page listing patients with their INS (a search by INS, the identity-vigilance comparison): one
    row per patient shown with an INS, for the request's view (declared in :data:`INS_VIEWS`)."""
    view = _view_name(request)
    for patient in patients:
        if patient.ins:
            trace_ins(request, patient_id=patient.pk, ins=patient.ins, view=view, obj=patient)


# --- Browsing -------------------------------------------------------------------------------------


def _identities(patient: Patient) -> list[int]:
    """The file and the identities merged into it: their traces are this patient's."""
    return [patient.pk, *patient.absorbed.values_list("pk", flat=True)]


def ins_events(patient: Patient) -> QuerySet[AuditEvent]:
    """Every display and export of the patient's INS, newest first."""
    admin_pages = Q(
        action=AuditEvent.Action.PATIENT_OPEN, detail__channel="admin", object_type__in=ADMIN_PAGES_SHOWING_INS
    )
    uses = Q(action__in=[use.value for use in InsUse])
    return AuditEvent.objects.filter(uses | admin_pages, patient_id__in=_identities(patient)).order_by("-at", "-id")


def event_label(event: AuditEvent) -> str:
    """What the user saw or took, in French."""
    if event.detail.get("channel") == "admin":
        return "Administration : " + event.object_repr
    shown = INS_VIEWS.get(event.detail.get("view", ""))
    return shown.label if shown else event.detail.get("view", "")


def event_kind(event: AuditEvent) -> str:
    return "Export" if event.action == AuditEvent.Action.INS_EXPORT else "Affichage"


@dataclass(frozen=True)
class Transmission:
    """One outbound transmission carrying the INS, to one partner."""

    at: datetime | None
    system: str
    recipient: str
    what: str
    reference: str
    outcome: str


TransmissionSource = Callable[[Patient, list[int], set[str]], Iterable[Transmission]]

_sources: list[TransmissionSource] = []


def transmission_source(func: TransmissionSource) -> TransmissionSource:
    """Register ``func(patient, identities, ins_values)``: the transmissions of an upper app (the DMP and
    MSSanté sendings are ``dmp``'s) that carried one of ``ins_values``, from its own journals. Registered
    from the app's ``AppConfig.ready()``, as the patient file's sections are (``patients.file``)."""
    _sources.append(func)
    return func


def _ins_values(patient: Patient) -> set[str]:
    ids = _identities(patient)
    return set(Patient.objects.filter(pk__in=ids).exclude(ins="").values_list("ins", flat=True))


def ins_transmissions(patient: Patient) -> list[Transmission]:
    """Every outbound transmission that carried the patient's INS, newest first."""
    identities, ins_values = _identities(patient), _ins_values(patient)
    rows = [row for source in _sources for row in source(patient, identities, ins_values)]
    return sorted(rows, key=lambda row: row.at.timestamp() if row.at else 0.0, reverse=True)


# --- Export ---------------------------------------------------------------------------------------

EXPORT_HEADER = ("nature", "date", "utilisateur", "rpps", "partenaire_api", "adresse", "vue", "systeme",
                 "destinataire", "objet", "reference", "resultat")  # fmt: skip


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M:%S") if moment else ""


def export_rows(events: Iterable[AuditEvent], transmissions: Sequence[Transmission]) -> Iterator[list[object]]:
    for event in events:
        view = event.detail.get("view") or event.detail.get("path", "")
        yield [event_kind(event), _local(event.at), event.actor_username, event.actor_rpps, event.peer,
               event.ip_address, view, "", "", event_label(event), event.detail.get("ins", ""), ""]  # fmt: skip
    for row in transmissions:
        yield ["Transmission", _local(row.at), "", "", "", "", "", row.system, row.recipient, row.what,
               row.reference, row.outcome]  # fmt: skip

"""Pages opened in the user's browser (``docs/dmp-protocol.md`` §9): the web PS (TD0.10) and the DRIMbox.

The DPI posts a form with ``vihf`` (base64 of the signed assertion); the page verifies it as the SOAP
services do (steps 3-9 of §3, no TLS certificate in a browser) and applies the DMP's access rules. A
refusal is a 403 page with the reason. The follow-up forms (vaccination note, study viewer) carry a
signed, 30-minute token instead of the assertion, whose validity is only five minutes.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs

from django.core import signing
from django.template.loader import render_to_string
from django.utils import timezone
from lxml import etree

from dpi.xmlsafe import InvalidXML, parse_xml
from sandbox.dmp.codes import IMAGING, VACCINATION_NOTE
from sandbox.dmp.constants import MAX_REQUEST_BYTES, STUDY_REFERENCE, qname
from sandbox.dmp.documents import Establishment, Professional
from sandbox.dmp.identifiers import Ins
from sandbox.dmp.listeners import DatabaseHandler
from sandbox.dmp.psc_login import PscClient
from sandbox.dmp.scope import Scope
from sandbox.dmp.seed import add_document
from sandbox.dmp.soap import DmpFault
from sandbox.dmp.transactions import Rules, dmp_for
from sandbox.dmp.vihf import Caller, Role, describe, verify_assertion
from sandbox.models import DmpCall, DmpDocument, PatientDmp

SIGNING_SALT = "sandbox.dmp.web"  # separates these signatures from the project's others
TOKEN_SECONDS = 30 * 60
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'"


class Refused(Exception):
    """A page the user may not see: HTTP status and French reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class WebHandler(DatabaseHandler):
    def do_GET(self) -> None:
        path, _mark, query = self.path.partition("?")
        psc_routes = {"/webps/psc": self._psc_start, "/webps/psc/retour": self._psc_return}
        if path not in psc_routes:
            self._page(405, "refused.html", {"reason": "Cette page s'ouvre depuis le DPI (formulaire POST)."})
            return
        try:
            psc_routes[path]({name: values[0] for name, values in parse_qs(query).items()})
        except Refused as refusal:
            self._page(refusal.status, "refused.html", {"reason": refusal.reason})

    def do_POST(self) -> None:
        routes = {
            "/webps/contexte": self._webps,
            "/webps/vaccination": self._vaccination,
            "/drimbox/contexte": self._drimbox,
            "/drimbox/etude": self._study,
        }
        route = routes.get(self.path.split("?", 1)[0])
        if route is None:
            self._page(404, "refused.html", {"reason": "Page inconnue."})
            return
        try:
            route(self._form())
        except Refused as refusal:
            self._page(refusal.status, "refused.html", {"reason": refusal.reason})

    # -- pages

    def _webps(self, form: dict[str, str]) -> None:
        caller, dmp = self._verified(form, "webps", "TD0.10")
        self._webps_page(caller, dmp, form.get("page", "dossier"))

    def _webps_page(self, caller: Caller, dmp: PatientDmp, page: str) -> None:
        if page == "vaccination":
            self._vaccination_page(caller, dmp)
            return
        scope = Scope(dmp, caller.national_id)
        documents = sorted(scope.current, key=lambda entry: entry.creation_time, reverse=True)
        self._page(200, "webps_dossier.html", {"dmp": dmp, "caller": caller, "documents": documents})

    def _vaccination_page(self, caller: Caller, dmp: PatientDmp, *, created: DmpDocument | None = None) -> None:
        notes = [entry for entry in Scope(dmp, caller.national_id).current if entry.type_code == VACCINATION_NOTE]
        context = {"dmp": dmp, "caller": caller, "notes": notes, "created": created, "token": _token(caller, dmp)}
        self._page(200, "webps_vaccination.html", context | {"today": timezone.localdate().isoformat()})

    def _vaccination(self, form: dict[str, str]) -> None:
        caller, dmp = _from_token(form)
        vaccine = form.get("vaccin", "").strip()
        if not vaccine:
            raise Refused(400, "Le nom du vaccin est obligatoire.")
        lines = (
            f"Vaccin : {vaccine}",
            f"Date d'administration : {form.get('date', '')}",
            f"Numéro de lot : {form.get('lot', '')}",
            f"Dose : {form.get('dose', '')}",
        )
        entry = add_document(dmp, VACCINATION_NOTE, author=_professional(caller), lines=lines)
        self._vaccination_page(caller, dmp, created=entry)

    def _drimbox(self, form: dict[str, str]) -> None:
        caller, dmp = self._verified(form, "drimbox", "DRIMbox")
        if form.get("study"):
            self._viewer(caller, dmp, form["study"])
            return
        context = {"dmp": dmp, "studies": _studies(caller, dmp), "token": _token(caller, dmp)}
        self._page(200, "drimbox_studies.html", context | {"accession": form.get("accession", "")})

    def _study(self, form: dict[str, str]) -> None:
        caller, dmp = _from_token(form)
        self._viewer(caller, dmp, form.get("study", ""))

    def _viewer(self, caller: Caller, dmp: PatientDmp, study: str) -> None:
        found = next((item for item in _studies(caller, dmp) if item[0] == study), None)
        if found is None:
            raise Refused(404, f"Examen introuvable dans le DMP de ce patient : {study}")
        self._page(200, "drimbox_viewer.html", {"dmp": dmp, "study": found[0], "report": found[1]})

    # -- the web PS through ProSanté Connect (sandbox.dmp.psc_login)

    def _psc_start(self, query: dict[str, str]) -> None:
        psc = self._psc()
        patient = Ins(query.get("ins", ""), query.get("oid", ""))
        location = psc.authorize_url(patient, query.get("page", "dossier"))
        self.send_body(302, "text/plain; charset=utf-8", b"", {"Location": location, "Cache-Control": "no-store"})

    def _psc_return(self, query: dict[str, str]) -> None:
        """Back from PSC: the professional it authenticated, the DMP rules, then the page (every attempt recorded)."""
        call = DmpCall(endpoint="webps", transaction="TD0.10", authentication_mode="PSC", raw_request=self.path[:2000])
        try:
            caller, page = self._psc().caller(query.get("code", ""), query.get("state", ""))
            call.name_id, call.subject_name, call.structure_id = (
                caller.national_id,
                caller.subject_name,
                caller.structure_id,
            )
            call.roles, call.patient_ins = [str(role) for role in caller.roles], caller.patient.value
            call.authentication_class, call.purpose_of_use = caller.authentication_class, caller.purpose
            dmp = dmp_for(caller, Rules.ACCESS, timezone.now())
        except DmpFault as fault:
            call.outcome, call.outcome_text = fault.subcode, fault.text
            call.save()
            raise Refused(403, fault.text) from fault
        call.save()
        self._webps_page(caller, dmp, page)

    def _psc(self) -> PscClient:
        psc = self.server.owner.psc
        if psc is None:
            raise Refused(404, "Ce DMP simulé n'est pas relié à ProSanté Connect.")
        return psc

    # -- plumbing

    def _form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True
            raise Refused(413, "Formulaire trop volumineux.")
        fields = parse_qs(self.rfile.read(length).decode("utf-8", errors="replace"), keep_blank_values=True)
        return {name: values[0] for name, values in fields.items()}

    def _verified(self, form: dict[str, str], endpoint: str, transaction: str) -> tuple[Caller, PatientDmp]:
        """The caller of a verified assertion and the DMP it may open; every attempt is recorded."""
        call = DmpCall(endpoint=endpoint, transaction=transaction, raw_request=form.get("vihf", "")[:100_000])
        try:
            assertion = _assertion(form.get("vihf", ""))
            for field, value in describe(assertion).items():
                setattr(call, field, value)
            caller = verify_assertion(assertion, trust=self.server.owner.trust, tls_certificate=None)
            dmp = dmp_for(caller, Rules.ACCESS, timezone.now())
        except DmpFault as fault:
            call.outcome, call.outcome_text = fault.subcode, fault.text
            call.save()
            raise Refused(403, fault.text) from fault
        call.save()
        return caller, dmp

    def _page(self, status: int, template: str, context: dict[str, object]) -> None:
        body = render_to_string(f"sandbox/dmp/{template}", context).encode()
        headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
        self.send_body(status, "text/html; charset=utf-8", body, headers)


def _assertion(encoded: str) -> etree._Element:
    try:
        root = parse_xml(base64.b64decode(encoded, validate=True), max_bytes=MAX_REQUEST_BYTES)
    except (binascii.Error, InvalidXML) as exc:
        raise DmpFault("wsse:InvalidSecurity", "Assertion VIHF absente ou illisible.") from exc
    if root.tag != qname("saml", "Assertion"):
        raise DmpFault("wsse:InvalidSecurity", "Le champ vihf doit contenir une assertion SAML 2.0.")
    return root


def _token(caller: Caller, dmp: PatientDmp) -> str:
    fields = {"dmp": dmp.pk, "id": caller.national_id, "name": caller.subject_name, "structure": caller.structure_id}
    fields |= {"roles": [[role.code, role.system] for role in caller.roles]}
    return signing.dumps(fields, salt=SIGNING_SALT)


def _from_token(form: dict[str, str]) -> tuple[Caller, PatientDmp]:
    """The caller and DMP a follow-up form carries; the DMP rules apply again."""
    try:
        fields = signing.loads(form.get("jeton", ""), salt=SIGNING_SALT, max_age=TOKEN_SECONDS)
    except signing.BadSignature as exc:
        raise Refused(403, "Session expirée : rouvrez la page depuis le DPI.") from exc
    dmp = PatientDmp.objects.get(pk=fields["dmp"])
    caller = Caller(
        national_id=fields["id"],
        subject_name=fields["name"],
        roles=tuple(Role(code, system) for code, system in fields["roles"]),
        structure_id=fields["structure"],
        authentication_mode="AIR",
        authentication_class="",
        purpose="normal",
        patient=Ins(dmp.ins, dmp.ins_oid),
    )
    try:
        return caller, dmp_for(caller, Rules.ACCESS, timezone.now())
    except DmpFault as fault:
        raise Refused(403, fault.text) from fault


def _professional(caller: Caller) -> Professional:
    """The caller as the author of a document: names from subject-id ("NOM Prénom"), their structure."""
    family, _space, given = caller.subject_name.partition(" ")
    finess = caller.structure_id[1:]
    establishment = Establishment(f"Structure {finess}", finess, 9)
    specialty = caller.roles[1].code if len(caller.roles) > 1 else ""
    return Professional(caller.national_id, family, given, caller.roles[0].code, specialty, establishment)


def _studies(caller: Caller, dmp: PatientDmp) -> list[tuple[str, DmpDocument]]:
    """The imaging studies the professional may see: (study instance UID, imaging report)."""
    prefix_length = -len(f"^^^^{STUDY_REFERENCE}")
    return [
        (reference[:prefix_length], entry)
        for entry in Scope(dmp, caller.national_id).current
        if entry.type_code == IMAGING
        for reference in entry.reference_ids
        if reference.endswith(STUDY_REFERENCE)
    ]

"""TD3.3a/b: visibility updates (ITI-57 Update DocumentEntry metadata), ``docs/dmp-protocol.md`` §8.

The submitted entry must repeat every metadata of the current version: the sandbox renders the current
version with its own ebRIM writer and compares both, so that only the visibility codes may differ.
"""

from __future__ import annotations

from django.db import transaction
from lxml import etree

from sandbox.dmp import constants as c
from sandbox.dmp.ebrim import RegistryFailure, document_entry, registry_response
from sandbox.dmp.identifiers import Ins, parse_cx
from sandbox.dmp.query_values import parse_time
from sandbox.dmp.scope import Scope
from sandbox.dmp.soap import malformed
from sandbox.dmp.store import Submission, Visibility, update_visibility
from sandbox.dmp.transactions import Answer, Exchange, Rules, Transaction
from sandbox.models import DmpDocument
from sandbox.models.dmp import APPROVED

ENTRY_SLOTS = (
    "creationTime",
    "serviceStartTime",
    "serviceStopTime",
    "hash",
    "size",
    "languageCode",
    "repositoryUniqueId",
    "sourcePatientId",
    "urn:ihe:iti:xds:2013:referenceIdList",
)
COMPARED_SCHEMES = (
    c.CLASS_CODE,
    c.EVENT_CODE,
    c.FORMAT_CODE,
    c.FACILITY_TYPE_CODE,
    c.PRACTICE_SETTING_CODE,
    c.TYPE_CODE,
)


def _find(parent: etree._Element | None, path: str) -> etree._Element | None:
    return parent.find(path, c.NS) if parent is not None else None


def _slot_values(element: etree._Element | None, name: str) -> tuple[str, ...]:
    if element is None:
        return ()
    values = element.xpath("rim:Slot[@name=$name]/rim:ValueList/rim:Value/text()", namespaces=c.NS, name=name)
    return tuple(value.strip() for value in values)


def _classifications(element: etree._Element, scheme: str) -> list[etree._Element]:
    return element.xpath("rim:Classification[@classificationScheme=$scheme]", namespaces=c.NS, scheme=scheme)


def _identifier(element: etree._Element | None, scheme: str) -> str:
    if element is None:
        return ""
    values = element.xpath(
        "rim:ExternalIdentifier[@identificationScheme=$scheme]/@value", namespaces=c.NS, scheme=scheme
    )
    return values[0].strip() if values else ""


def patient_of(body: etree._Element) -> Ins | None:
    """The submission set's patientId."""
    value = _identifier(_find(body, "rim:RegistryObjectList/rim:RegistryPackage"), c.SUBMISSION_PATIENT_ID)
    return parse_cx(value) if value else None


def update(exchange: Exchange) -> Answer:
    body = exchange.request.body
    objects = _find(body, "rim:RegistryObjectList")
    if body.tag != c.qname("lcm", "SubmitObjectsRequest") or objects is None:
        raise malformed("lcm:SubmitObjectsRequest avec un rim:RegistryObjectList attendu.")
    try:
        with transaction.atomic():
            entry = _apply(objects, exchange)
    except RegistryFailure as failure:
        answer = Answer(registry_response([failure.error]), outcome=failure.code, outcome_text=failure.text)
        answer.unique_ids = [_identifier(_find(objects, "rim:ExtrinsicObject"), c.DOCUMENT_UNIQUE_ID)]
        return answer
    return Answer(registry_response(), unique_ids=[entry.unique_id])


def _apply(objects: etree._Element, exchange: Exchange) -> DmpDocument:
    package, extrinsic, link = _members(objects)
    current = _current(exchange, extrinsic.get("lid") or "")
    if _identifier(extrinsic, c.DOCUMENT_PATIENT_ID) != _identifier(package, c.SUBMISSION_PATIENT_ID):
        raise RegistryFailure("XDSPatientIdDoesNotMatch", "Le patientId de la fiche diffère de celui du lot.")
    previous = _slot_values(link, "PreviousVersion")
    if previous != (str(current.version),):
        raise RegistryFailure(
            "XDSMetadataVersionError",
            f"PreviousVersion {', '.join(previous) or '(absent)'} : la version courante est {current.version}.",
        )
    _check_only_visibility_changed(extrinsic, current)
    new_id = extrinsic.get("id") or ""
    if not new_id.startswith("urn:uuid:") or DmpDocument.objects.filter(entry_uuid=new_id).exists():
        raise RegistryFailure(
            "XDSMetadataUpdateError", f"Nouvel identifiant de fiche invalide ou déjà utilisé : {new_id}"
        )
    return update_visibility(
        current, entry_uuid=new_id, visibility=_visibility(extrinsic), submission=_submission(package)
    )


def _members(objects: etree._Element) -> tuple[etree._Element, etree._Element, etree._Element]:
    """The submission set, the new entry and the HasMember association between them."""
    packages = objects.findall("rim:RegistryPackage", c.NS)
    entries = objects.findall("rim:ExtrinsicObject", c.NS)
    if len(packages) != 1 or len(entries) != 1:
        raise RegistryFailure(
            "XDSRegistryMetadataError", "Un lot de soumission et une fiche de document sont attendus."
        )
    package, extrinsic = packages[0], entries[0]
    classified = objects.xpath(
        ".//rim:Classification[@classificationNode=$node and @classifiedObject=$id]",
        namespaces=c.NS,
        node=c.SUBMISSION_SET_NODE,
        id=package.get("id"),
    )
    links = objects.xpath(
        "rim:Association[@associationType=$type and @sourceObject=$source and @targetObject=$target]",
        namespaces=c.NS,
        type="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember",
        source=package.get("id"),
        target=extrinsic.get("id"),
    )
    if not classified or len(links) != 1 or _slot_values(links[0], "SubmissionSetStatus") != ("Original",):
        raise RegistryFailure(
            "XDSRegistryMetadataError",
            "Lot non classé comme lot de soumission, ou association HasMember (SubmissionSetStatus Original) absente.",
        )
    return package, extrinsic, links[0]


def _current(exchange: Exchange, lid: str) -> DmpDocument:
    """The current (Approved) version of ``lid`` that this professional may see in this DMP."""
    scope = Scope(exchange.dmp, exchange.caller.national_id)
    current = next((entry for entry in scope.current if entry.lid == lid), None)
    if current is not None and current.status == APPROVED:
        return current
    elsewhere = DmpDocument.objects.filter(lid=lid).exclude(dmp=exchange.dmp).exists()
    reason = "appartient à un autre patient" if elsewhere else "inconnu ou non modifiable"
    raise RegistryFailure("XDSMetadataUpdateError", f"Document de lid {lid or '(absent)'} {reason}.")


def _fingerprint(extrinsic: etree._Element) -> dict[str, object]:
    """Every metadata of an entry but its ids, version and visibility codes, comparable between writers."""
    author = _classifications(extrinsic, c.DOCUMENT_AUTHOR)
    name = extrinsic.xpath("rim:Name/rim:LocalizedString/@value", namespaces=c.NS)
    found: dict[str, object] = {
        "mimeType": extrinsic.get("mimeType"),
        "objectType": extrinsic.get("objectType"),
        "title": name[0] if name else "",
        "patientId": _identifier(extrinsic, c.DOCUMENT_PATIENT_ID),
        "uniqueId": _identifier(extrinsic, c.DOCUMENT_UNIQUE_ID),
        "author": tuple(
            _slot_values(author[0] if author else None, slot)
            for slot in ("authorPerson", "authorInstitution", "authorRole", "authorSpecialty")
        ),
        "confidentialityCode": sorted(
            code for code, system in _codes(extrinsic, c.CONFIDENTIALITY_CODE) if system != c.VISIBILITY_SYSTEM
        ),
    }
    found |= {slot: _slot_values(extrinsic, slot) for slot in ENTRY_SLOTS}
    found |= {scheme: sorted(_codes(extrinsic, scheme)) for scheme in COMPARED_SCHEMES}
    return found


def _codes(extrinsic: etree._Element, scheme: str) -> list[tuple[str, str]]:
    return [
        (element.get("nodeRepresentation") or "", next(iter(_slot_values(element, "codingScheme")), ""))
        for element in _classifications(extrinsic, scheme)
    ]


def _check_only_visibility_changed(extrinsic: etree._Element, current: DmpDocument) -> None:
    submitted = _fingerprint(extrinsic)
    stored = _fingerprint(document_entry(current, current.dmp.patient_id))
    changed = sorted(key for key in stored if submitted[key] != stored[key])
    if changed:
        raise RegistryFailure(
            "XDSMetadataUpdateError",
            f"Seule la visibilité peut changer ; métadonnées modifiées ou absentes : {', '.join(changed)}.",
        )


def _visibility(extrinsic: etree._Element) -> Visibility:
    codes = {code for code, system in _codes(extrinsic, c.CONFIDENTIALITY_CODE) if system == c.VISIBILITY_SYSTEM}
    unknown = codes - set(c.VISIBILITY_CODES)
    if unknown:
        raise RegistryFailure("XDSMetadataUpdateError", f"Code de visibilité inconnu : {', '.join(sorted(unknown))}.")
    return Visibility(
        masked_to_professionals="MASQUE_PS" in codes,
        invisible_to_patient="INVISIBLE_PATIENT" in codes,
        invisible_to_legal_representatives="INVISIBLE_REPRESENTANTS_LEGAUX" in codes,
    )


def _submission(package: etree._Element) -> Submission:
    author = next(iter(_classifications(package, c.SUBMISSION_AUTHOR)), None)
    content_type = next(iter(_classifications(package, c.CONTENT_TYPE_CODE)), None)
    title = package.xpath("rim:Name/rim:LocalizedString/@value", namespaces=c.NS)
    return Submission(
        author_person=next(iter(_slot_values(author, "authorPerson")), ""),
        author_institution=next(iter(_slot_values(author, "authorInstitution")), ""),
        title=title[0] if title else "Mise à jour de visibilité",
        source_id=_identifier(package, c.SUBMISSION_SOURCE_ID),
        content_type_code=content_type.get("nodeRepresentation", "") if content_type is not None else "",
        when=parse_time("submissionTime", next(iter(_slot_values(package, "submissionTime")), "")),
    )


TRANSACTIONS = {"ITI-57": Transaction("ITI-57", Rules.ACCESS, patient_of, update)}

"""The body of a discharge letter as CDA R2 N3 of the CI-SIS volet LDL-SES 2022.01.

Built from the same :class:`~documents.content.DocumentContent` as the PDF and the N1 (SC.CDA/DD.02): each
section's narrative repeats the words of the content's section, and each entry points at the words it
codes (``text/reference``). The sections the volet requires, in its order:

1. FR-Statut-du-document-LDL-SES: the letter is validated ("approuvé");
2. FR-Raison-de-la-recommandation-non-code: the reason for the stay (content section 42349-1);
3. FR-Resultats-evenements-LDL-SES: the stay's synthesis and the coded facts of
   :class:`~documents.content.DischargeFacts` (entry and exit modes, multi-resistant organisms, transfusion,
   blood derivatives, adverse events) as FR-Simple-Observation entries (content section 42545-4);
4. FR-Traitements-a-la-sortie: one FR-Traitement entry per medication line (content section 10183-2), the
   medication named in free text (the DPI does not code drugs yet), or the "no information" entry;
5. FR-Plan-de-soins, when the letter says what comes next (content section 18776-5), narrative only.

The caller (:func:`documents.cda.build_cda`) writes the header and appends the FR-Document-PDF-copie section.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _
from lxml import etree

from documents import codes
from documents.cdaxml import add_code, derived_uuid, sub, ts, typed
from documents.codes import Concept
from documents.content import DischargeFacts, DocumentContent, Section

DOCUMENT_TYPE = "11490-0"
TEMPLATE = ("1.2.250.1.213.1.1.1.29", "2022.01")  # templateId root and extension of the volet's documents
SIMPLE_OBSERVATION = ("1.3.6.1.4.1.19376.1.5.3.1.4.13", "1.2.250.1.213.1.1.3.48")

# key of DischargeFacts.rows() -> (entry code, FR-Simple-Observation sub-template)
_FACT_ENTRIES = {
    "entry_mode": (codes.ENTRY_MODE, "1.2.250.1.213.1.1.3.48.6"),
    "exit_mode": (codes.EXIT_MODE, "1.2.250.1.213.1.1.3.48.7"),
    "adverse_events": (codes.ADVERSE_EVENTS, "1.2.250.1.213.1.1.3.48.3"),
    "mdro_search": (codes.MDRO_SEARCH, "1.2.250.1.213.1.1.3.48.8"),
    "mdro": (codes.MDRO_FOUND, "1.2.250.1.213.1.1.3.48.5"),
    "transfusion": (codes.TRANSFUSION, "1.2.250.1.213.1.1.3.48.10"),
    "transfusion_incidents": (codes.TRANSFUSION_INCIDENTS, "1.2.250.1.213.1.1.3.48.1"),
    "blood_derivatives": (codes.BLOOD_DERIVATIVES, "1.2.250.1.213.1.1.3.48.2"),
    "derivative_incidents": (codes.DERIVATIVE_INCIDENTS, "1.2.250.1.213.1.1.3.48.4"),
}


def add_sections(structured: etree._Element, content: DocumentContent) -> None:
    """The volet's sections of ``content`` (a discharge letter with its :class:`DischargeFacts`)."""
    facts = content.discharge
    if facts is None or content.type.code != DOCUMENT_TYPE:
        raise ValueError(_("Seule une lettre de liaison avec ses éléments codés suit le volet LDL-SES."))
    sections = {section.code: section for section in content.sections}
    missing = [code for code in ("42349-1", "42545-4", "10183-2") if code not in sections]
    if missing:
        raise ValueError(_("Sections LDL-SES absentes du contenu : %(codes)s.") % {"codes": ", ".join(missing)})
    moment = content.act_end or content.created_at
    ids = _Ids(content.id_root)
    _add_status(structured, ids, moment)
    _add_reason(structured, sections["42349-1"])
    _add_event_outcomes(structured, ids, sections["42545-4"], facts, content)
    _add_discharge_medications(structured, ids, sections["10183-2"])
    if care_plan := sections.get("18776-5"):
        _add_care_plan(structured, ids, care_plan)


class _Ids:
    """Stable UUIDs of the document's sections and entries (same content, same bytes)."""

    def __init__(self, document_id: str) -> None:
        self.document_id = document_id

    def __call__(self, part: str) -> str:
        return derived_uuid(self.document_id, f"ldl-ses/{part}")


def _section(structured: etree._Element, templates: tuple[str, ...]) -> etree._Element:
    section = sub(sub(structured, "component"), "section")
    for template in templates:
        sub(section, "templateId", root=template)
    return section


def _header(section: etree._Element, section_id: str, code: Concept, title: str) -> etree._Element:
    """id, code, title, and the narrative ``text`` element to fill."""
    if section_id:
        sub(section, "id", root=section_id)
    add_code(section, "code", code, codeSystemName="LOINC")
    sub(section, "title", title)
    return sub(section, "text")


def _paragraphs(text: etree._Element, paragraphs: tuple[str, ...], content_id: str = "") -> None:
    """The section's paragraphs; with ``content_id``, all of them in one ``content`` an entry can point at."""
    if not content_id:
        for paragraph in paragraphs:
            sub(text, "paragraph", paragraph)
        return
    content = sub(sub(text, "paragraph"), "content", ID=content_id)
    for number, paragraph in enumerate(paragraphs):
        if number:
            sub(content, "br").tail = paragraph
        else:
            content.text = paragraph


def _add_status(structured: etree._Element, ids: _Ids, moment: datetime) -> None:
    section = _section(structured, ("1.2.250.1.213.1.1.2.35", "1.2.250.1.213.1.1.2.35.1"))
    text = _header(section, ids("status"), codes.SECTION_DOCUMENT_STATUS, "Statut du document")
    row = sub(sub(sub(text, "table", border="0"), "tbody"), "tr")
    sub(row, "td", "Statut du document")
    sub(sub(row, "td"), "content", "Validé", ID="ldl-statut")
    templates = ("1.2.250.1.213.1.1.3.48.16", "1.2.250.1.213.1.1.3.48.16.1")
    entry = _simple_observation(section, ids("status/entry"), codes.DOCUMENT_STATUS, templates, "ldl-statut", moment)
    _value(entry, codes.DOCUMENT_STATUS_VALIDATED)


def _add_reason(structured: etree._Element, reason: Section) -> None:
    section = _section(structured, ("1.3.6.1.4.1.19376.1.5.3.1.3.1", "1.2.250.1.213.1.1.2.127"))
    text = _header(section, "", codes.SECTION_REASON_FOR_REFERRAL, reason.title)
    _paragraphs(text, reason.paragraphs)


def _add_event_outcomes(
    structured: etree._Element, ids: _Ids, stay: Section, facts: DischargeFacts, content: DocumentContent
) -> None:
    templates = (
        "1.3.6.1.4.1.19376.1.5.3.1.1.21.2.9",
        "1.3.6.1.4.1.19376.1.7.3.1.1.13.7",
        "1.2.250.1.213.1.1.2.163",
        "1.2.250.1.213.1.1.2.163.1",
    )
    section = _section(structured, templates)
    text = _header(section, ids("outcomes"), codes.SECTION_EVENT_OUTCOMES, stay.title)
    _paragraphs(text, stay.paragraphs, "ldl-synthesis")
    rows = facts.rows()
    body = sub(sub(text, "table", border="0"), "tbody")
    for key, label, value in rows:
        row = sub(body, "tr")
        sub(row, "td", label)
        sub(sub(row, "td"), "content", value, ID=f"ldl-{key}")
    moment = content.act_end or content.created_at
    times = {"entry_mode": facts.entry_time or content.act_start, "exit_mode": facts.exit_time or moment}
    values: dict[str, Concept | bool | str] = {
        "entry_mode": facts.entry_mode,
        "exit_mode": facts.exit_mode,
        "adverse_events": facts.adverse_events,
        "mdro_search": facts.mdro_search,
        "mdro": facts.mdro,
        "transfusion": facts.transfusion,
        "transfusion_incidents": facts.transfusion_incidents,
        "blood_derivatives": facts.blood_derivatives,
        "derivative_incidents": facts.derivative_incidents,
    }
    stated = {key for key, _label, _value in rows}
    for key in ("entry_mode", "exit_mode", "synthesis", *list(_FACT_ENTRIES)[2:]):
        if key == "synthesis":  # the volet's order: entry, exit, synthesis, then the other facts
            templates = ("1.2.250.1.213.1.1.3.48.9",)
            entry = _simple_observation(section, ids(key), codes.STAY_SYNTHESIS, templates, "ldl-synthesis", moment)
            _value(entry, "\n\n".join(stay.paragraphs))
        elif key in stated:
            code, template = _FACT_ENTRIES[key]
            entry = _simple_observation(section, ids(key), code, (template,), f"ldl-{key}", times.get(key, moment))
            _value(entry, values[key])


def _simple_observation(
    section: etree._Element,
    entry_id: str,
    code: Concept,
    templates: tuple[str, ...],
    reference: str,
    moment: datetime,
) -> etree._Element:
    """FR-Simple-Observation with its volet template(s), pointing at its words in the narrative."""
    observation = sub(sub(section, "entry"), "observation", classCode="OBS", moodCode="EVN")
    for root in (*SIMPLE_OBSERVATION, *templates):
        sub(observation, "templateId", root=root)
    sub(observation, "id", root=entry_id)
    add_code(observation, "code", code)
    sub(sub(observation, "text"), "reference", value=f"#{reference}")
    sub(observation, "statusCode", code="completed")
    sub(observation, "effectiveTime", value=ts(moment))
    return observation


def _value(observation: etree._Element, value: Concept | bool | str) -> None:
    if isinstance(value, Concept):
        typed(add_code(observation, "value", value), "CD")
    elif isinstance(value, bool):
        typed(sub(observation, "value", value="true" if value else "false"), "BL")
    else:
        typed(sub(observation, "value", value), "ST")


def _add_discharge_medications(structured: etree._Element, ids: _Ids, medications: Section) -> None:
    section = _section(structured, ("1.3.6.1.4.1.19376.1.5.3.1.3.22", "1.2.250.1.213.1.1.2.146"))
    text = _header(section, ids("medications"), codes.SECTION_DISCHARGE_MEDICATIONS, medications.title)
    if not medications.table_rows:  # the content says there is no information (JDV_AbsentOrUnknownMedication)
        _paragraphs(text, medications.paragraphs, "ldl-med-none")
        _medication(section, ids("medications/none"), None, "")
        return
    _paragraphs(text, medications.paragraphs)
    table = sub(text, "table", border="1")
    if medications.table_header:
        header = sub(sub(table, "thead"), "tr")
        for cell in medications.table_header:
            sub(header, "th", cell)
    body = sub(table, "tbody")
    for number, cells in enumerate(medications.table_rows, start=1):
        row = sub(body, "tr", ID=f"ldl-med-{number}")
        for position, cell in enumerate(cells):
            if position == 0:
                sub(sub(row, "td"), "content", cell, ID=f"ldl-med-{number}-name")
            else:
                sub(row, "td", cell)
        _medication(section, ids(f"medications/{number}"), number, cells[0])


def _medication(section: etree._Element, entry_id: str, number: int | None, name: str) -> None:
    """FR-Traitement, normal dosing: the line of the table, the medication by its name (not coded)."""
    administration = sub(sub(section, "entry"), "substanceAdministration", classCode="SBADM", moodCode="EVN")
    for root in (
        "1.2.250.1.213.1.1.3.42",
        "2.16.840.1.113883.10.20.1.24",
        "1.3.6.1.4.1.19376.1.5.3.1.4.7",
        "1.3.6.1.4.1.19376.1.5.3.1.4.7.1",
    ):
        sub(administration, "templateId", root=root)
    sub(administration, "id", root=entry_id)
    add_code(administration, "code", codes.DRUG)
    sub(sub(administration, "text"), "reference", value=f"#ldl-med-{number}" if number else "#ldl-med-none")
    sub(administration, "statusCode", code="completed")
    product = sub(sub(administration, "consumable"), "manufacturedProduct")
    for root in ("1.2.250.1.213.1.1.3.43", "2.16.840.1.113883.10.20.1.53", "1.3.6.1.4.1.19376.1.5.3.1.4.7.2"):
        sub(product, "templateId", root=root)
    material = sub(product, "manufacturedMaterial")
    if number is None:  # no information (NI): the narrative says so, with the label of the value set
        code = sub(material, "code", nullFlavor="NI")
        sub(sub(code, "originalText"), "reference", value="#ldl-med-none")
        sub(material, "name", nullFlavor="NA")
        return
    code = sub(material, "code", nullFlavor="NA")  # a CIS code when the DPI codes medications
    sub(sub(code, "originalText"), "reference", value=f"#ldl-med-{number}-name")
    sub(material, "name", name)


def _add_care_plan(structured: etree._Element, ids: _Ids, plan: Section) -> None:
    templates = ("2.16.840.1.113883.10.20.1.10", "1.3.6.1.4.1.19376.1.5.3.1.3.36", "1.2.250.1.213.1.1.2.158")
    section = _section(structured, templates)
    text = _header(section, ids("care-plan"), codes.SECTION_CARE_PLAN, plan.title)
    _paragraphs(text, plan.paragraphs)

"""The hostile-content catalogue (``tests/security/payloads.py``) through every upload and rendering path.

Ingest paths: the manual CDA import page, the MSSanté IHE_XDM import page, the MSSanté MDM from the PFI (through
the HL7 engine's entry point, as the MLLP listener calls it), documents retrieved from the sandbox DMP (viewer and
integration), and patient names from the PAM feed. Rendering paths: the file viewer's CDA rendering with our
stylesheet, the agency's and the producer's, the DMP viewer, the pages that show names, and the PDF.

What is asserted, whatever the path: a refused input gets a French reason and stores nothing, but what was
received is kept (the HL7 journal, the MSSanté trace); an accepted one is kept byte for byte; no answer ever holds a
secret file's content; no answer is a 500; and every page, parsed as a browser parses it, holds no script but our
own static files, no event attribute and no ``javascript:`` URL. No timing is asserted: the costly cases run under
lowered limits.
"""

from __future__ import annotations

import html as html_module
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import tinyhtml5
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from dmp.models import IntegratedDmpDocument
from documents.cda import InvalidCda, parse_cda_header
from documents.models import Document
from documents.services import create_draft, validate_document
from dpi.hl7.engine import process_inbound
from dpi.hl7.models import Message
from mss.models import MailboxRoute, PendingImport, Trace
from patients.models import Patient
from sandbox.models import DmpDocument
from sandbox.mss_push import mdm_for, patient_document, patient_identity
from tests.dmp.live import LiveDmp
from tests.factories import (
    CareUnitFactory,
    EpisodeFactory,
    LegalEntityFactory,
    MembershipFactory,
    PatientFactory,
    RoleFactory,
    SiteFactory,
)
from tests.pam.builder import FINESS_EG, FINESS_EJ, Adt
from tests.security.payloads import (
    HOSTILE_NAMES,
    NARRATIVES,
    PRODUCER_STYLESHEETS,
    REFUSED_DOCUMENTS,
    SECRET_FILE,
    SECRET_MARKERS,
    SECRET_XML,
    Narrative,
    Refused,
    Stylesheet,
    hostile_archives,
    import_of,
    xdm_archive,
)

pytestmark = pytest.mark.django_db

NIR_OID = "1.2.250.1.213.1.4.8"
MAILBOX = "dpi@hopital.mssante.fr"
PRODUCER_FALLBACK = "feuille de style du producteur"
# A careless stylesheet, as the agency's or a producer's may be: narrative links, media, styles and attributes
# copied as they come, the title written without escaping. It makes the sanitiser, not the stylesheet, the defence.
CARELESS_XSL = b"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:h="urn:hl7-org:v3"><xsl:output method="html"/>
  <xsl:template match="/"><html><head><title>careless</title></head><body>
    <h1 class="careless"><xsl:value-of select="h:ClinicalDocument/h:title" disable-output-escaping="yes"/></h1>
    <p><xsl:value-of select="//h:recordTarget//h:family" disable-output-escaping="yes"/></p>
    <xsl:apply-templates select="//h:section"/></body></html></xsl:template>
  <xsl:template match="h:section"><div><xsl:apply-templates select="h:text"/></div></xsl:template>
  <xsl:template match="h:text//*"><span class="{@styleCode}" style="{@style}"><xsl:copy-of select="@*"/>
    <xsl:apply-templates/></span></xsl:template>
  <xsl:template match="h:linkHtml"><a href="{@href}"><xsl:apply-templates/></a></xsl:template>
  <xsl:template match="h:renderMultiMedia"><xsl:variable name="id" select="@referencedObject"/>
    <xsl:for-each select="//h:observationMedia[@ID = $id]/h:value"><img src="data:{@mediaType};base64,{.}"/>
    <img src="{h:reference/@value}"/></xsl:for-each></xsl:template>
  <xsl:template match="*[namespace-uri() = 'http://www.w3.org/1999/xhtml']"><xsl:copy-of select="."/></xsl:template>
</xsl:stylesheet>"""


# --- What every answer must be --------------------------------------------------------------------------------


def _local(name: object) -> str:
    return str(name).rpartition("}")[2].lower()


def assert_inert(page: str, *, own_scripts: bool = False) -> None:
    """``page`` parsed as a browser would: no script (but our own static files on our pages), no event
    attribute, no script URL; and no secret file's content."""
    for marker in SECRET_MARKERS:
        assert marker not in page, f"secret content {marker!r} leaked"
    for element in tinyhtml5.parse(page).iter():
        if _local(element.tag) == "script":
            assert own_scripts, "a script element in a rendered document"
            assert (element.get("src") or "").startswith("/static/") and not (element.text or "").strip()
        for name, value in element.attrib.items():
            assert not _local(name).startswith("on"), f"event attribute {name}={value!r}"
            compact = "".join(character for character in value if character > " ").lower()
            assert not compact.startswith(("javascript:", "vbscript:", "data:text", "data:image/svg")), value


def assert_inert_rendering(page: str) -> None:
    """A rendered CDA: inert, and nothing that frames, submits, redirects or loads from elsewhere."""
    assert_inert(page)
    tree = tinyhtml5.parse(page)
    found = {_local(element.tag) for element in tree.iter()}
    assert not found & {"iframe", "frame", "object", "embed", "form", "base", "link"}, found
    for element in tree.iter():
        if _local(element.tag) == "meta":
            assert (element.get("http-equiv") or "").lower() != "refresh"
        for name, value in element.attrib.items():
            if _local(name) in ("href", "src", "action", "formaction", "srcset", "data"):
                compact = "".join(value.split()).lower()
                assert compact.startswith(("#", "data:image/png", "data:image/jpeg", "data:image/gif")), value


def text_of(page: str) -> str:
    return " ".join("".join(tinyhtml5.parse(page).itertext()).split())


def shown(response) -> str:  # noqa: ANN001  (a test client response)
    """The page of an answer that is not a server error."""
    assert response.status_code < 500, response.status_code
    return response.content.decode()


def says(page: str, reason: str) -> bool:
    """Whether the page shows ``reason`` to the reader (HTML entities decoded)."""
    return reason in html_module.unescape(page)


# --- Fixtures -------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def own_cache(settings) -> None:
    """Too-costly verdicts in this test's own cache; the costly stylesheet stopped after 2 s, not 10."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "hostile"}}
    settings.CDA_XSLT_TIMEOUT_SECONDS = 2


@pytest.fixture
def unit(db):
    entity = LegalEntityFactory(finess_ej=FINESS_EJ, accepts_test_ins=True)
    return CareUnitFactory(site=SiteFactory(legal_entity=entity, finess_eg=FINESS_EG), code="UF01", name="Unité 1")


@pytest.fixture
def doctor(unit):
    return MembershipFactory(care_unit=unit, role=RoleFactory()).user


@pytest.fixture
def client_of(doctor) -> Client:
    client = Client()
    client.force_login(doctor)
    return client


@pytest.fixture
def patient(unit) -> Patient:
    """A qualified identity in ``unit``, the one every hostile document is about."""
    patient = PatientFactory(
        ipp="000100", ipp_authority=FINESS_EJ, birth_name="MARTIN", first_names="JEANNE MARIE",
        birth_date=date(1980, 5, 4), sex="F", birth_place_insee="75056", ins="279035121518989", ins_oid=NIR_OID,
        identity_status="qualifiee",
    )  # fmt: skip
    EpisodeFactory(patient=patient, care_unit=unit)
    return patient


@pytest.fixture
def base_cda(patient) -> bytes:
    """A valid CDA about ``patient``, as a neighbouring hospital sends it."""
    return patient_document(patient_identity(patient))[1]


@pytest.fixture
def secret_url(tmp_path) -> str:
    secret = tmp_path / "secret.xml"
    secret.write_text(SECRET_XML, encoding="utf-8")
    return secret.as_uri()


def _import(client: Client, patient: Patient, cda: bytes, xsl: bytes = b"") -> object:
    files = {"cda": SimpleUploadedFile("document.xml", cda), "accept_identity_differences": "on"}
    if xsl:
        files["stylesheet"] = SimpleUploadedFile("producteur.xsl", xsl)
    return client.post(reverse("documents:import", args=[patient.pk]), files)


def _rendering(client: Client, document: Document, stylesheet: str = "dpi") -> str:
    response = client.get(reverse("documents:cda", args=[document.pk, 1]), {"stylesheet": stylesheet})
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    return shown(response)


def _mdm(patient: Patient, cda: bytes) -> tuple[str, Message]:
    """The MDM T02 carrying ``cda`` through the HL7 engine; (the ACK's text, its journal row)."""
    try:
        document_id = parse_cda_header(cda).id.root  # TXA-12 names the CDA sent
    except InvalidCda:
        document_id = "1.2.250.1.999.9.2.1"
    raw = mdm_for(patient_identity(patient), cda, document_id).encode()
    ack = process_inbound(raw if isinstance(raw, bytes) else raw.encode(), peer="127.0.0.1:hostile")
    return ack.decode("utf-8", "replace"), Message.objects.order_by("-pk").first()


# --- Documents refused on every ingest path -------------------------------------------------------------------

REFUSED = [pytest.param(payload, id=payload.name) for payload in REFUSED_DOCUMENTS]


@pytest.mark.parametrize("payload", REFUSED)
def test_manual_import_refuses_the_hostile_document_with_its_reason_and_stores_nothing(client_of, patient, payload):
    page = shown(_import(client_of, patient, payload.data))
    reason = "octets" if payload.name == "oversized" else payload.reason  # the upload's own size check comes first
    assert says(page, reason) and "Document importé" not in page
    assert not Document.objects.exists()
    assert_inert(page, own_scripts=True)


@pytest.mark.parametrize("payload", REFUSED)
def test_xdm_import_refuses_the_archive_of_a_hostile_document_and_traces_why(client_of, payload):
    upload = SimpleUploadedFile("IHE_XDM.zip", xdm_archive(payload.data))
    page = shown(client_of.post(reverse("mss:import"), {"archive": upload}))
    # what compresses a hundredfold (entities, nesting, 21 MiB of blanks) is stopped by the archive checks first
    reason = payload.reason if says(page, payload.reason) else "Archive refusée"
    assert says(page, reason) and not PendingImport.objects.exists()
    trace = Trace.objects.get(event=Trace.Event.IMPORT_REFUSED)
    assert reason in trace.detail["text"] and trace.detail["archive"] == "IHE_XDM.zip"
    assert_inert(page, own_scripts=True)


@pytest.mark.parametrize("payload", REFUSED)
def test_mdm_from_the_pfi_with_a_hostile_document_is_answered_ae_and_kept_in_the_journal(patient, unit, payload):
    MailboxRoute.objects.create(address=MAILBOX, care_unit=unit)
    ack, journal = _mdm(patient, payload.data)
    assert "MSA|AE|" in ack and payload.reason in ack
    assert payload.data[:200] and journal.size == len(bytes(journal.raw)) and journal.ack_code == "AE"
    assert not Document.objects.exists()
    for marker in SECRET_MARKERS:
        assert marker not in ack


# --- Documents accepted, kept as received, rendered inert -----------------------------------------------------

NARRATIVE = [pytest.param(payload, id=payload.name) for payload in NARRATIVES]


@pytest.mark.parametrize("payload", NARRATIVE)
def test_an_imported_hostile_narrative_is_kept_and_rendered_inert_by_every_stylesheet(
    client_of, patient, base_cda, payload: Narrative, tmp_path, settings
):
    agency = tmp_path / "FeuilleDeStyle"
    agency.mkdir()
    (agency / "cda_asip.xsl").write_bytes(CARELESS_XSL)
    settings.CDA_AGENCY_STYLESHEET_DIR = str(agency)
    cda = payload.apply(base_cda)
    assert _import(client_of, patient, cda, CARELESS_XSL).status_code == 302
    document = Document.objects.get()
    assert bytes(document.current_version.cda) == cda  # kept byte for byte
    for stylesheet in ("dpi", "agency", "producer"):
        page = _rendering(client_of, document, stylesheet)
        assert_inert_rendering(page)
        if stylesheet != "dpi":
            assert 'class="careless"' in page  # the careless stylesheet did run: the sanitiser made it inert
        elif payload.title:  # ours shows markup as text; the careless one's is removed
            assert payload.title in text_of(page)


@pytest.mark.parametrize("payload", NARRATIVE)
def test_an_xdm_with_a_hostile_narrative_is_staged_imported_and_shown_inert(client_of, patient, base_cda, payload):
    cda = payload.apply(base_cda)
    staged = shown(client_of.post(reverse("mss:import"), {"archive": SimpleUploadedFile("x.zip", xdm_archive(cda))}))
    pending = PendingImport.objects.get()
    assert bytes(pending.cda) == cda
    choose = shown(client_of.get(reverse("mss:import_document", args=[pending.pk])))
    assert_inert(staged, own_scripts=True)
    assert_inert(choose, own_scripts=True)  # the header's title and patient name, the pre-filled search
    imported = client_of.post(
        reverse("mss:import_document", args=[pending.pk]), {"patient": patient.pk, "accept_identity_differences": "on"}
    )
    assert imported.status_code == 302
    assert_inert_rendering(_rendering(client_of, Document.objects.get()))


@pytest.mark.parametrize(
    "payload",
    # a hostile name in the CDA cannot match the PID of a qualified identity: names come from the PAM feed
    [pytest.param(payload, id=payload.name) for payload in NARRATIVES if not payload.family],
)
def test_an_mdm_with_a_hostile_narrative_is_integrated_and_shown_inert_in_the_inbox(
    client_of, patient, base_cda, unit, payload
):
    MailboxRoute.objects.create(address=MAILBOX, care_unit=unit)
    cda = payload.apply(base_cda)
    ack, _journal = _mdm(patient, cda)
    assert "MSA|AA|" in ack, ack
    document = Document.objects.get()
    assert bytes(document.current_version.cda) == cda
    assert_inert(shown(client_of.get(reverse("mss:inbox"))), own_scripts=True)
    assert_inert_rendering(_rendering(client_of, document))


# --- Hostile producer stylesheets ---------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [pytest.param(payload, id=payload.name) for payload in PRODUCER_STYLESHEETS])
def test_a_hostile_producer_stylesheet_reads_and_writes_nothing_and_its_output_is_inert(
    client_of, patient, base_cda, payload: Stylesheet, secret_url, tmp_path
):
    written = tmp_path / "written.txt"
    xsl = (
        import_of(secret_url)
        if payload.name == "import-local-file"
        else payload.xsl(secret=secret_url, written=str(written))
    )
    assert _import(client_of, patient, base_cda, xsl).status_code == 302
    document = Document.objects.get()
    assert bytes(document.current_version.stylesheet) == xsl  # kept as received, whatever it does
    page = _rendering(client_of, document, "producer")
    assert_inert_rendering(page)
    assert not written.exists()
    if payload.falls_back:
        assert PRODUCER_FALLBACK in page.lower() and "Compte rendu de consultation" in text_of(page)
    else:
        assert page.count('class="producteur"') == 1 and PRODUCER_FALLBACK not in page.lower()
    if payload.costly:
        assert says(page, "trop coûteuse")
        assert "trop coûteuse" in _rendering(client_of, document, "producer")  # remembered: never run again


# --- Hostile archives -----------------------------------------------------------------------------------------


def test_every_hostile_archive_is_refused_with_its_reason_and_traced(client_of, base_cda):
    archives = hostile_archives(base_cda)
    for payload in archives:
        upload = SimpleUploadedFile("IHE_XDM.zip", payload.data)
        page = shown(client_of.post(reverse("mss:import"), {"archive": upload}))
        assert says(page, payload.reason), (payload.name, payload.must)
        assert_inert(page, own_scripts=True)
    assert not PendingImport.objects.exists()
    traces = Trace.objects.filter(event=Trace.Event.IMPORT_REFUSED).order_by("pk")
    assert [payload.reason in trace.detail["text"] for payload, trace in zip(archives, traces, strict=True)] == [
        True
    ] * len(archives)


# --- Documents retrieved from the DMP -------------------------------------------------------------------------


@pytest.fixture
def dmp_document(
    live_dmp: LiveDmp,  # noqa: F811  (the fixture imported above)
) -> Callable[[Narrative | Refused], tuple[Client, object, str]]:
    """A document of the consulted patient's DMP whose content the (hostile) DMP replaces by the payload's;
    returns the consulting physician's client, the consultation and the entry's uuid."""

    def make(payload: Narrative | Refused) -> tuple[Client, object, str]:
        consultation = live_dmp.consultation()
        entry = live_dmp.add_document(consultation.dmp)
        content = payload.apply(bytes(entry.content)) if isinstance(payload, Narrative) else payload.data
        DmpDocument.objects.filter(pk=entry.pk).update(content=content, size=len(content))
        client = Client()
        client.force_login(consultation.user)
        return client, consultation, entry.entry_uuid

    return make


DMP_REFUSED = [pytest.param(REFUSED_DOCUMENTS[index], id=REFUSED_DOCUMENTS[index].name) for index in (0, 4, 6, 9)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("payload", DMP_REFUSED)
def test_a_hostile_document_from_the_dmp_is_shown_unreadable_and_never_integrated(dmp_document, payload):
    client, consultation, uuid = dmp_document(payload)
    pk = consultation.patient.pk
    viewer = shown(client.get(reverse("dmp:document", args=[pk, uuid])))
    assert says(viewer, payload.reason)
    rendering = client.get(reverse("dmp:document_cda", args=[pk, uuid]))
    assert rendering.status_code == 422 and says(shown(rendering), payload.reason)
    assert rendering["Content-Security-Policy"].startswith("default-src 'none'")
    integrated = shown(client.post(reverse("dmp:integrate", args=[pk]), {"entry": uuid}))
    assert says(integrated, payload.reason) and not Document.objects.exists()
    for page in (viewer, integrated):
        assert_inert(page, own_scripts=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("payload", [NARRATIVES[0], NARRATIVES[1], NARRATIVES[2], NARRATIVES[5]], ids=lambda p: p.name)
def test_a_hostile_narrative_from_the_dmp_is_shown_inert_in_the_dmp_viewer_and_after_integration(dmp_document, payload):
    client, consultation, uuid = dmp_document(payload)
    pk = consultation.patient.pk
    assert_inert(shown(client.get(reverse("dmp:panel", args=[pk]))), own_scripts=True)
    assert_inert(shown(client.get(reverse("dmp:document", args=[pk, uuid]))), own_scripts=True)
    assert_inert_rendering(shown(client.get(reverse("dmp:document_cda", args=[pk, uuid]))))
    client.post(reverse("dmp:integrate", args=[pk]), {"entry": uuid, "accept_identity_differences": "1"})
    document = IntegratedDmpDocument.objects.get().document
    assert_inert_rendering(_rendering(client, document))


# --- Names from the PAM feed ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=[f"name-{number}" for number in range(len(HOSTILE_NAMES))])
def test_a_hostile_name_from_the_pam_feed_is_kept_and_shown_as_text_on_every_page_and_in_the_pdf(
    client_of, doctor, unit, name
):
    ack = process_inbound(Adt(birth_name=name, control_id="hostile").encode(), peer="127.0.0.1:pam")
    assert b"MSA|AA|" in ack
    patient = Patient.objects.get(ipp="000100")
    assert patient.birth_name == name
    pages = [
        client_of.get(reverse("home")),
        client_of.get(reverse("patients:search"), {"name": "".join(c for c in name if c.isalnum())[:6] or "a"}),
        client_of.get(reverse("patients:file", args=[patient.pk])),
    ]
    for response in pages:
        assert_inert(shown(response), own_scripts=True)
    assert name.upper() in text_of(shown(pages[2])).upper()  # shown as the text it is (in capitals)
    document = _validated_letter(patient, doctor)
    assert_inert(shown(client_of.get(reverse("documents:detail", args=[document.pk]))), own_scripts=True)
    cda_page = _rendering(client_of, document)
    assert_inert_rendering(cda_page)
    assert name.upper() in text_of(cda_page).upper()
    _assert_pdf_shows_text_only(bytes(document.current_version.pdf), name)


def _validated_letter(patient: Patient, doctor) -> Document:  # noqa: ANN001
    """A discharge letter whose free text carries markup a PDF engine could follow to a local file."""
    fields = {
        "motif": f'<img src="file://{SECRET_FILE}"><link rel="attachment" href="file://{SECRET_FILE}">',
        "synthese": "<script>window.__pwned=1</script>", "modalite_entree": "urgence", "modalite_sortie": "domicile",
        "recherche_bmr": "non", "transfusion": "non", "derives_sang": "non",
    }  # fmt: skip
    document = create_draft(
        patient=patient, episode=patient.episodes.first(), type_code="11490-0", title="Lettre de liaison",
        fields=fields, act_date=timezone.now(), acting_user=doctor,
    )  # fmt: skip
    validate_document(document=document, acting_user=doctor)
    document.refresh_from_db()
    return document


def _assert_pdf_shows_text_only(pdf: bytes, name: str) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "link rel=" in text and "<script>" in text  # the markup printed as text
    assert name.split()[0][:8] in text
    assert not reader.attachments, "a local file was attached"
    for marker in SECRET_MARKERS:
        assert marker not in text
    assert b"/JavaScript" not in pdf and b"/Launch" not in pdf


def test_the_catalogue_names_what_must_happen_for_every_payload(base_cda):
    everything = [*REFUSED_DOCUMENTS, *NARRATIVES, *PRODUCER_STYLESHEETS, *hostile_archives(base_cda)]
    names = [payload.name for payload in everything]
    assert len(names) == len(set(names)) and all(payload.must for payload in everything)
    assert Path(SECRET_FILE).is_file()  # the leak checks look for a file that is there

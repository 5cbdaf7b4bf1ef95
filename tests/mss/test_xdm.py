"""Manual import of an IHE_XDM archive: the happy path and every bad archive (clear error, nothing stored)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from documents.models import Document, Provenance
from mss.models import PendingImport, Trace
from mss.xdm import InvalidArchive, read_xdm
from sandbox.mss_push import MINIMAL_PDF, patient_document, patient_identity
from tests.factories import MembershipFactory, RoleFactory
from tests.mss.data import NIR, NIR_OID
from tests.mss.xdm_builder import archive, metadata

pytestmark = pytest.mark.django_db

XXE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>'


@pytest.fixture
def cda(patient) -> bytes:
    return patient_document(patient_identity(patient), title="CR reçu en pièce jointe")[1]


@pytest.fixture
def good_zip(cda) -> bytes:
    return archive({
        "INDEX.HTM": b"<html></html>", "README.TXT": b"XDM",
        "IHE_XDM/SUBSET01/METADATA.XML": metadata(("DOC0001.XML", "text/xml"), ("DOC0002.PDF", "application/pdf")),
        "IHE_XDM/SUBSET01/DOC0001.XML": cda, "IHE_XDM/SUBSET01/DOC0002.PDF": MINIMAL_PDF,
    })  # fmt: skip


def test_the_cda_documents_listed_by_the_metadata_are_extracted_not_the_pdfs(good_zip, cda):
    documents = read_xdm(good_zip)
    assert [(d.path, d.data) for d in documents] == [("IHE_XDM/SUBSET01/DOC0001.XML", cda)]


def bomb() -> bytes:
    return archive({"IHE_XDM/SUBSET01/METADATA.XML": metadata(("DOC0001.XML", "text/xml")),
                    "IHE_XDM/SUBSET01/DOC0001.XML": b" " * 5_000_000})  # fmt: skip


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda cda: b"PK\x03\x04 not really a zip", "n'est pas une archive zip"),
        (lambda cda: bomb(), "bombe zip"),
        (lambda cda: archive({"../../etc/cron.d/x": b"x"}), "chemin dangereux"),
        (lambda cda: archive({"/etc/passwd": b"x"}), "chemin dangereux"),
        (lambda cda: archive({"C:/windows/x": b"x"}), "chemin dangereux"),
        (lambda cda: archive({"IHE_XDM\\SUBSET01\\METADATA.XML": b"x"}), "chemin dangereux"),
        (lambda cda: archive({"IHE_XDM/SUBSET01/DOC0001.XML": cda}), "METADATA.XML"),
        (lambda cda: archive({"IHE_XDM/SUBSET01/METADATA.XML": b"<broken"}), "METADATA.XML illisible"),
        (lambda cda: archive({"IHE_XDM/SUBSET01/METADATA.XML": metadata(("DOC0001.PDF", "application/pdf")),
                              "IHE_XDM/SUBSET01/DOC0001.PDF": MINIMAL_PDF}), "aucun document CDA"),
        (lambda cda: archive({"IHE_XDM/SUBSET01/METADATA.XML": metadata(("DOC0009.XML", "text/xml"))}), "absent"),
        (lambda cda: archive({"IHE_XDM/SUBSET01/METADATA.XML": metadata(("../../x.xml", "text/xml"))}),
         "chemin dangereux"),
        (lambda cda: archive({"IHE_XDM/SUBSET01/METADATA.XML": metadata(("DOC0001.XML", "text/xml")),
                              "IHE_XDM/SUBSET01/DOC0001.XML": b"<html>pas un CDA</html>"}), "pas un document CDA"),
        (lambda cda: archive({"IHE_XDM/SUBSET01/METADATA.XML": metadata(("DOC0001.XML", "text/xml"))},
                             symlink="IHE_XDM/SUBSET01/DOC0001.XML"), "lien symbolique"),
        (lambda cda: archive({f"f{n}.txt": b"x" for n in range(101)}), "plus de 100 fichiers"),
        (lambda cda: archive({"IHE_XDM/SUBSET01/METADATA.XML": XXE}),
         "DOCTYPE"),
    ],
    ids=["not-a-zip", "zip-bomb", "dot-dot", "absolute", "drive", "backslash", "no-metadata", "bad-metadata",
         "pdf-only", "missing-document", "uri-traversal", "not-cda", "symlink", "too-many-entries", "xxe"],
)  # fmt: skip
def test_a_bad_archive_is_refused_with_a_clear_error(cda, build, message):
    with pytest.raises(InvalidArchive, match=message):
        read_xdm(build(cda))


def test_total_uncompressed_size_is_capped(cda, monkeypatch):
    monkeypatch.setattr("mss.xdm.MAX_TOTAL_BYTES", 1000)
    with pytest.raises(InvalidArchive, match="décompressée"):
        read_xdm(archive({"a.txt": b"a" * 600, "b.txt": b"b" * 600}))


@pytest.fixture
def user(unit):
    user = MembershipFactory(care_unit=unit, role=RoleFactory()).user
    return user


def logged(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_upload_pick_the_prefilled_patient_and_integrate_with_provenance_mss(user, patient, good_zip, unit):
    client = logged(user)
    response = client.post("/mssante/import/", {"archive": SimpleUploadedFile("IHE_XDM.zip", good_zip)})
    pending = PendingImport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/mssante/import/{pending.pk}/"
    page = client.get(f"/mssante/import/{pending.pk}/").text
    assert 'value="MARTIN JEANNE"' in page and 'value="1980-05-04"' in page  # the search, pre-filled
    assert 'data-testid="import-candidates"' in page and patient.ipp in page
    response = client.post(f"/mssante/import/{pending.pk}/", {"patient": patient.pk})
    document = Document.objects.get()
    assert response["Location"] == f"/documents/{document.pk}/"
    assert document.provenance == Provenance.MSS and document.patient == patient
    assert not PendingImport.objects.exists()
    trace = Trace.objects.get(event=Trace.Event.IMPORTED)
    assert trace.user == user and trace.document == document and trace.care_unit == unit


@pytest.mark.parametrize(
    ("patient_id", "found"),
    [
        (f"{NIR}^^^&{NIR_OID}&ISO", NIR),
        (f"{NIR}^^^&1.2.3.4&ISO", ""),  # another authority: not an INS
        ("not-an-ins^^^&1.2.250.1.213.1.4.8&ISO", ""),
        ("", ""),
    ],
    ids=["ins", "other-authority", "malformed", "absent"],
)
def test_the_patient_id_of_the_metadata_is_read_when_it_is_an_ins(cda, patient_id, found):
    """Ref#2 MSSanté ECO.2.1.2 (SC.MSS/CONF.24 in the digest): the patientId of METADATA.XML names the patient."""
    zipped = archive({"IHE_XDM/SUBSET01/METADATA.XML": metadata(("DOC0001.XML", "text/xml"), patient_id=patient_id),
                      "IHE_XDM/SUBSET01/DOC0001.XML": cda})  # fmt: skip

    assert [document.patient_ins for document in read_xdm(zipped)] == [found]


def test_the_patient_search_starts_from_the_metadata_ins(user, patient, cda, unit):
    listing = metadata(("DOC0001.XML", "text/xml"), patient_id=f"{NIR}^^^&{NIR_OID}&ISO")
    zipped = archive({"IHE_XDM/SUBSET01/METADATA.XML": listing, "IHE_XDM/SUBSET01/DOC0001.XML": cda})
    client = logged(user)
    client.post("/mssante/import/", {"archive": SimpleUploadedFile("IHE_XDM.zip", zipped)})

    page = client.get(f"/mssante/import/{PendingImport.objects.get().pk}/").text

    assert 'data-testid="metadata-ins"' in page and f'value="{NIR}"' in page
    assert 'data-testid="import-candidates"' in page and patient.ipp in page


def test_import_into_a_patient_whose_identity_differs_asks_for_confirmation(user, patient, unit):
    other = patient_identity(patient, "birth_name")
    zipped = archive({"IHE_XDM/SUBSET01/METADATA.XML": metadata(("DOC0001.XML", "text/xml")),
                      "IHE_XDM/SUBSET01/DOC0001.XML": patient_document(other)[1]})  # fmt: skip
    client = logged(user)
    client.post("/mssante/import/", {"archive": SimpleUploadedFile("x.zip", zipped)})
    pending = PendingImport.objects.get()
    page = client.post(f"/mssante/import/{pending.pk}/", {"patient": patient.pk}, follow=True).text
    assert "nom de naissance" in page and not Document.objects.exists()
    client.post(f"/mssante/import/{pending.pk}/", {"patient": patient.pk, "accept_identity_differences": "on"})
    assert Document.objects.get().provenance == Provenance.MSS


def test_a_bad_upload_stores_nothing_and_is_traced(user):
    response = logged(user).post("/mssante/import/", {"archive": SimpleUploadedFile("bomb.zip", bomb())})
    assert response.status_code == 200 and "bombe zip" in response.text
    assert not PendingImport.objects.exists() and not Document.objects.exists()
    refused = Trace.objects.get(event=Trace.Event.IMPORT_REFUSED)
    assert refused.user == user and refused.detail["archive"] == "bomb.zip"


def test_a_user_cannot_use_someone_elses_pending_import(user, good_zip, unit):
    logged(user).post("/mssante/import/", {"archive": SimpleUploadedFile("a.zip", good_zip)})
    other = MembershipFactory(care_unit=unit, role=RoleFactory()).user
    assert logged(other).get(f"/mssante/import/{PendingImport.objects.get().pk}/").status_code == 404


def test_every_submission_set_of_the_archive_is_read(cda, patient):
    second = patient_document(patient_identity(patient), title="Second envoi")[1]
    zipped = archive({
        "IHE_XDM/SUBSET01/METADATA.XML": metadata(("DOC0001.XML", "text/xml")), "IHE_XDM/SUBSET01/DOC0001.XML": cda,
        "IHE_XDM/SUBSET02/METADATA.XML": metadata(("DOC0001.XML", "text/xml")), "IHE_XDM/SUBSET02/DOC0001.XML": second,
    })  # fmt: skip
    assert [d.path for d in read_xdm(zipped)] == ["IHE_XDM/SUBSET01/DOC0001.XML", "IHE_XDM/SUBSET02/DOC0001.XML"]


def test_an_import_into_a_file_the_user_may_not_open_is_refused_audited_and_traced(user, good_zip, unit):
    from dpi.models import AuditEvent
    from tests.factories import PatientFactory

    stranger = PatientFactory()
    client = logged(user)
    client.post("/mssante/import/", {"archive": SimpleUploadedFile("a.zip", good_zip)})
    pending = PendingImport.objects.get()
    client.post(f"/mssante/import/{pending.pk}/", {"patient": stranger.pk})
    assert not Document.objects.exists() and PendingImport.objects.exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_REFUSED, patient_id=stranger.pk).exists()
    assert Trace.objects.get(event=Trace.Event.IMPORT_REFUSED).patient == stranger

"""Portability export (REM PORT/va1.01): the documents produced or received, out of the DPI, as one ZIP.

An administrator asks for a period (act dates, both days included), the versions (the current one of each
document, or all of them), a provenance (produced, received, both) and types; the Celery task
``documents.build_portability_export`` calls :func:`build`, which writes, a batch of versions at a time and
never the whole archive in memory::

    dpi-export-<n>/index.csv                      one line per exported version (INDEX_HEADER)
    dpi-export-<n>/index.json                     the same, with what was asked
    dpi-export-<n>/patients/<file>-<IPP>/<document>-<type>/v<version>.xml   the CDA R2, byte for byte
    dpi-export-<n>/patients/<file>-<IPP>/<document>-<type>/v<version>.pdf   its PDF, when there is one

The archive is written as ``<name>.zip.part`` and renamed once complete: a failure deletes it and leaves
the job failed with its reason, so no half archive is ever offered. docs/portability.md describes it all.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db.models import F, QuerySet
from django.utils import timezone

from documents.models import DocumentVersion, PortabilityExport, Provenance
from dpi.csvexport import safe_cell
from dpi.jobs import fail_job, finish_job, report_progress, start_job
from patients.models import Patient

logger = logging.getLogger(__name__)

BATCH = 50  # versions read (with their bytes) and counted as done at a time
RECEIVED = (Provenance.DMP, Provenance.MSS, Provenance.MANUAL)
INDEX_HEADER = (
    "patient_dossier", "patient_ipp", "patient_ipp_autorite", "ins", "ins_nature", "ins_oid", "statut_identite",
    "nom_naissance", "prenoms_naissance", "date_naissance", "sexe", "lieu_naissance_insee", "nom_utilise",
    "prenom_utilise", "document_id", "set_id", "version", "version_courante", "cda_id_root", "cda_id_extension",
    "type_code", "type_libelle", "titre", "date_acte", "provenance", "provenance_libelle", "statut",
    "statut_libelle", "niveau", "validee_le", "cda_chemin", "cda_sha256", "cda_octets", "pdf_chemin",
    "pdf_sha256", "pdf_octets",
)  # fmt: skip
STALE = timedelta(minutes=15)  # a running job that has not progressed for this long was interrupted
INTERRUPTED = "Export interrompu (arrêt du worker) : demandez un nouvel export."
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def export_dir() -> Path:
    return settings.VAR_DIR / "exports"


def archive_path(job: PortabilityExport) -> Path:
    """Where the finished archive of ``job`` is (only meaningful once it is done)."""
    return export_dir() / job.file_name


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def selected_versions(job: PortabilityExport) -> QuerySet[DocumentVersion]:
    """The versions ``job`` asks for, in archive order (patient, document, version), without their bytes."""
    versions = DocumentVersion.objects.filter(
        document__act_date__gte=_day_start(job.period_start),
        document__act_date__lt=_day_start(job.period_end + timedelta(days=1)),
    )
    if job.versions == PortabilityExport.Versions.CURRENT:
        versions = versions.filter(document__current_version=F("pk"))
    if job.origin == PortabilityExport.Origin.PRODUCED:
        versions = versions.filter(document__provenance=Provenance.PRODUCED)
    elif job.origin == PortabilityExport.Origin.RECEIVED:
        versions = versions.filter(document__provenance__in=RECEIVED)
    if job.type_codes:
        versions = versions.filter(document__type_code__in=job.type_codes)
    return versions.order_by("document__patient_id", "document_id", "version_number").defer("cda", "pdf", "stylesheet")


def build(job_id: int) -> PortabilityExport | None:
    """Build the archive of a queued job; ``None`` when there is nothing to do (a duplicate delivery of the
    task while the job runs, or a finished job). A job found running with no progress for ``STALE`` was
    interrupted (its worker died and the broker delivered the task again): it fails, for a new export."""
    now = timezone.now()
    jobs = PortabilityExport.objects.filter(pk=job_id)
    if jobs.filter(state=PortabilityExport.State.RUNNING, progressed_at__lt=now - STALE).exists():
        _fail(jobs.get(), RuntimeError(INTERRUPTED))
        return jobs.get()
    if not jobs.filter(state=PortabilityExport.State.QUEUED).update(
        state=PortabilityExport.State.RUNNING, started_at=now, progressed_at=now
    ):
        return None
    job = jobs.select_related("requested_by").get()
    start_job(job.job_id)
    try:
        _build(job)
    except Exception as exc:  # any failure: the job says why, and nothing half-written remains
        logger.exception("Portability export %s failed", job.pk)
        _fail(job, exc)
    job.refresh_from_db()
    return job


def _build(job: PortabilityExport) -> None:
    ids = list(selected_versions(job).values_list("pk", flat=True))
    PortabilityExport.objects.filter(pk=job.pk).update(total=len(ids), done=0)
    report_progress(job.job_id, done=0, total=len(ids))
    directory = export_dir()
    directory.mkdir(parents=True, exist_ok=True)
    root = f"dpi-export-{job.pk}"
    name = f"{root}-{timezone.localtime():%Y%m%d-%H%M%S}.zip"
    part = directory / f"{name}.part"
    with tempfile.TemporaryDirectory(dir=directory, prefix=f"{root}-") as work:
        _write_zip(job, ids, part, root, Path(work))
    digest, size = _sha256_file(part), part.stat().st_size
    part.rename(directory / name)
    PortabilityExport.objects.filter(pk=job.pk).update(
        state=PortabilityExport.State.DONE, file_name=name, size=size, sha256=digest, finished_at=timezone.now()
    )
    finish_job(job.job_id, result={"file": name, "size": size, "versions": len(ids)})


def _write_zip(job: PortabilityExport, ids: list[int], part: Path, root: str, work: Path) -> None:
    with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        with _Index(work, _job_description(job, len(ids))) as index:
            for done, batch in _batches(ids):
                for version in _versions(batch):
                    index.add(_add_version(archive, root, version))
                PortabilityExport.objects.filter(pk=job.pk).update(done=done, progressed_at=timezone.now())
                report_progress(job.job_id, done=done, total=len(ids))
        archive.write(work / "index.csv", f"{root}/index.csv")
        archive.write(work / "index.json", f"{root}/index.json")


def _batches(ids: list[int]) -> Iterator[tuple[int, list[int]]]:
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        yield start + len(batch), batch


def _versions(ids: Sequence[int]) -> list[DocumentVersion]:
    """One batch of versions with their bytes, their document and patient, in archive order."""
    rows = DocumentVersion.objects.filter(pk__in=ids).defer("stylesheet").select_related("document__patient")
    return sorted(rows, key=lambda v: (v.document.patient_id, v.document_id, v.version_number))


@dataclass(frozen=True)
class _File:
    path: str
    sha256: str
    size: int


def _add_version(archive: zipfile.ZipFile, root: str, version: DocumentVersion) -> list[object]:
    document = version.document
    patient = document.patient
    folder = f"{root}/patients/{patient.pk}-{_safe(patient.ipp)}/{document.pk}-{_safe(document.type_code)}"
    cda = _add_file(archive, f"{folder}/v{version.version_number}.xml", bytes(version.cda), zipfile.ZIP_DEFLATED)
    pdf = _add_file(archive, f"{folder}/v{version.version_number}.pdf", bytes(version.pdf), zipfile.ZIP_STORED)
    return [*_patient_cells(patient), *_version_cells(version), cda.path, cda.sha256, cda.size, pdf.path,
            pdf.sha256, pdf.size]  # fmt: skip


def _patient_cells(patient: Patient) -> list[object]:
    """The file, its identifiers (the INS with the nature of its authority) and the birth traits."""
    authority = patient.ins_authority
    nature = authority.label if authority else ("OID inconnu" if patient.ins else "")
    return [
        patient.pk, patient.ipp, patient.ipp_authority, patient.ins, nature, patient.ins_oid if patient.ins else "",
        patient.get_identity_status_display(), patient.birth_name, patient.first_names,
        patient.birth_date.isoformat() if patient.birth_date else "", patient.sex, patient.birth_place_insee,
        patient.used_name, patient.used_first_name,
    ]  # fmt: skip


def _version_cells(version: DocumentVersion) -> list[object]:
    document = version.document
    validated = timezone.localtime(version.validated_at).isoformat() if version.validated_at else ""
    return [
        document.pk, document.set_id, version.version_number,
        "oui" if document.current_version_id == version.pk else "non", version.cda_id_root, version.cda_id_extension,
        document.type_code, document.type_label, document.title, timezone.localtime(document.act_date).isoformat(),
        document.provenance, document.get_provenance_display(), document.status, document.get_status_display(),
        version.level, validated,
    ]  # fmt: skip


def _add_file(archive: zipfile.ZipFile, path: str, data: bytes, compression: int) -> _File:
    """``data`` as ``path`` in the archive; nothing (empty path, hash and size) for no data."""
    if not data:
        return _File("", "", 0)
    info = zipfile.ZipInfo(path, date_time=timezone.localtime().timetuple()[:6])
    info.compress_type = compression
    info.file_size = len(data)
    with archive.open(info, "w") as target:
        target.write(data)
    return _File(path, hashlib.sha256(data).hexdigest(), len(data))


def _safe(text: str) -> str:
    """A path segment from an identifier: letters, digits, ``.``, ``_``, ``-`` only."""
    return _UNSAFE.sub("_", text).strip("._") or "_"


class _Index:
    """``index.csv`` (``;``, formula-safe cells) and ``index.json`` written line by line into ``work``."""

    def __init__(self, work: Path, description: dict[str, Any]) -> None:
        self._csv_file: IO[str] = (work / "index.csv").open("w", newline="", encoding="utf-8")
        self._json_file: IO[str] = (work / "index.json").open("w", encoding="utf-8")
        self._csv = csv.writer(self._csv_file, delimiter=";")
        self._csv.writerow(INDEX_HEADER)
        head = json.dumps(description, ensure_ascii=False, indent=1).removesuffix("\n}")
        self._json_file.write(head + ',\n "elements": [')
        self._first = True

    def add(self, row: list[object]) -> None:
        self._csv.writerow([safe_cell(cell) for cell in row])
        separator = "\n " if self._first else ",\n "
        self._json_file.write(separator + json.dumps(dict(zip(INDEX_HEADER, row, strict=True)), ensure_ascii=False))
        self._first = False

    def __enter__(self) -> _Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self._json_file.write("]\n}\n" if self._first else "\n ]\n}\n")
        self._csv_file.close()
        self._json_file.close()


def _job_description(job: PortabilityExport, count: int) -> dict[str, Any]:
    return {
        "export": job.pk,
        "genere_le": timezone.localtime().isoformat(),
        "demande_par": job.requested_by.get_username() if job.requested_by else "",
        "periode_du": job.period_start.isoformat(),
        "periode_au": job.period_end.isoformat(),
        "versions": job.versions,
        "provenance": job.origin,
        "types": list(job.type_codes),
        "nombre_elements": count,
    }


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fail(job: PortabilityExport, exc: Exception) -> None:
    """The job failed, with its reason; whatever it wrote (work files, partial or even complete archive) goes."""
    for leftover in export_dir().glob(f"dpi-export-{job.pk}-*"):
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink(missing_ok=True)
    reason = str(exc) if isinstance(exc, RuntimeError) else f"{type(exc).__name__} : {exc}"
    PortabilityExport.objects.filter(pk=job.pk).update(
        state=PortabilityExport.State.FAILED, error=reason[:2000], finished_at=timezone.now()
    )
    fail_job(job.job_id, error=reason)


def archived_ins(job: PortabilityExport) -> dict[int, str]:
    """The INS the finished archive carries, by patient file, read back from its index."""
    with zipfile.ZipFile(archive_path(job)) as archive, archive.open(f"dpi-export-{job.pk}/index.csv") as raw:
        rows = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline=""), delimiter=";")
        return {int(row["patient_dossier"]): row["ins"] for row in rows if row["ins"]}


def delete_archive(job: PortabilityExport) -> None:
    """Remove the archive of ``job`` from the disk (the job row stays)."""
    if job.file_name:
        archive_path(job).unlink(missing_ok=True)

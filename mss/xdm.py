"""Safe reading of an IHE_XDM archive (the ``IHE_XDM.zip`` attached to an MSSanté mail).

Everything is checked on the zip's central directory before a byte is decompressed: number of entries,
total uncompressed size, compression ratio of each entry, names (no absolute path, no ``..``, no
drive letter, no backslash), no symbolic link, no encryption. Then ``IHE_XDM/<subset>/METADATA.XML``
is parsed with the hardened XML parser, and only the documents it lists with ``mimeType="text/xml"``
are read (never the PDFs), each decompressed with a size cap and parsed as a CDA R2 header.
Errors are :class:`InvalidArchive` with a French message for the user.
"""

from __future__ import annotations

import io
import posixpath
import re
import stat
import zipfile
from dataclasses import dataclass

from django.utils.translation import gettext as _
from lxml import etree

from documents.cda import InvalidCda, parse_cda_header
from dpi.validators import INS_MATRICULE
from dpi.xmlsafe import InvalidXML, parse_xml
from patients.ins import INS_AUTHORITIES

MAX_ARCHIVE_BYTES = 30 * 1024 * 1024
MAX_ENTRIES = 100
MAX_TOTAL_BYTES = 60 * 1024 * 1024
MAX_ENTRY_BYTES = 20 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed, per entry
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
_DRIVE = re.compile(r"^[A-Za-z]:")
_SPLIT_URI = re.compile(r"^(\d+)\|(.*)$")
PATIENT_ID_SCHEME = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"  # XDSDocumentEntry.patientId


class InvalidArchive(ValueError):
    """The upload is not a safe, complete IHE_XDM archive with at least one CDA document."""


@dataclass(frozen=True)
class XdmDocument:
    path: str  # inside the archive
    data: bytes
    patient_ins: str = ""  # XDSDocumentEntry.patientId of METADATA.XML when its authority is an INS (ECO.2.1.2)


@dataclass(frozen=True)
class _Listed:
    uri: str
    patient_ins: str


def read_xdm(data: bytes) -> list[XdmDocument]:
    """The CDA documents listed by the archive's metadata; :class:`InvalidArchive` otherwise."""
    if len(data) > MAX_ARCHIVE_BYTES:
        raise InvalidArchive(_("Archive trop volumineuse (%(max)d octets au plus).") % {"max": MAX_ARCHIVE_BYTES})
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError):
        raise InvalidArchive(_("Le fichier n'est pas une archive zip lisible.")) from None
    with archive:
        entries = _checked_entries(archive)
        documents = []
        for metadata_name in _metadata_names(entries):  # one per submission set (SUBSET01, SUBSET02…)
            folder = posixpath.dirname(metadata_name)
            for listed in _listed_cda(_read(archive, entries[metadata_name])):
                path = _resolve(folder, listed.uri)
                if any(document.path == path for document in documents):
                    continue  # listed twice: read once
                if path not in entries:
                    raise InvalidArchive(
                        _("Document listé par METADATA.XML absent de l'archive : %(uri)s") % {"uri": listed.uri}
                    )
                documents.append(XdmDocument(path, _read(archive, entries[path]), listed.patient_ins))
    if not documents:
        raise InvalidArchive(_("METADATA.XML ne liste aucun document CDA (text/xml)."))
    for document in documents:
        try:
            parse_cda_header(document.data)
        except InvalidCda as exc:
            raise InvalidArchive(
                _("%(path)s n'est pas un document CDA R2 : %(reason)s") % {"path": document.path, "reason": exc}
            ) from None
    return documents


def _checked_entries(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise InvalidArchive(_("Archive refusée : plus de %(max)d fichiers.") % {"max": MAX_ENTRIES})
    total = 0
    entries = {}
    for info in infos:
        _check_name(info.filename)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InvalidArchive(_("Archive refusée : lien symbolique %(name)s.") % {"name": info.filename})
        if info.flag_bits & 0x1:
            raise InvalidArchive(_("Archive refusée : fichier chiffré %(name)s.") % {"name": info.filename})
        if info.file_size > MAX_ENTRY_BYTES:
            raise InvalidArchive(_("Archive refusée : %(name)s est trop volumineux.") % {"name": info.filename})
        if info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise InvalidArchive(
                _("Archive refusée : taux de compression anormal pour %(name)s (bombe zip ?).")
                % {"name": info.filename}
            )
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise InvalidArchive(
                _("Archive refusée : plus de %(max)d octets une fois décompressée.") % {"max": MAX_TOTAL_BYTES}
            )
        if info.filename in entries:
            raise InvalidArchive(_("Archive refusée : nom en double %(name)s.") % {"name": info.filename})
        entries[info.filename] = info
    return entries


def _check_name(name: str) -> None:
    parts = name.split("/")
    if (
        not name
        or name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or _DRIVE.match(name)
        or any(part in ("..", ".") for part in parts)
    ):
        raise InvalidArchive(_("Archive refusée : chemin dangereux « %(name)s ».") % {"name": name[:200]})


def _metadata_names(entries: dict[str, zipfile.ZipInfo]) -> list[str]:
    found = [
        name
        for name in entries
        if (parts := name.split("/"))
        and len(parts) == 3
        and parts[0].upper() == "IHE_XDM"
        and parts[2].upper() == "METADATA.XML"
    ]
    if not found:
        raise InvalidArchive(
            _("Archive refusée : pas de fichier IHE_XDM/…/METADATA.XML (ce n'est pas une archive XDM).")
        )
    return sorted(found)


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Decompress one entry, never more than it declares (the declared sizes were checked)."""
    try:
        with archive.open(info) as stream:
            data = stream.read(info.file_size + 1)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
        raise InvalidArchive(_("Fichier illisible dans l'archive : %(name)s (%(error)s).") % {
            "name": info.filename, "error": exc}) from None  # fmt: skip
    if len(data) > info.file_size:
        raise InvalidArchive(_("Archive refusée : %(name)s dépasse sa taille déclarée.") % {"name": info.filename})
    return data


def _listed_cda(metadata: bytes) -> list[_Listed]:
    """The ExtrinsicObjects whose mimeType is text/xml (the CDA documents): URI and patient's INS."""
    try:
        root = parse_xml(metadata)
    except InvalidXML as exc:
        raise InvalidArchive(_("METADATA.XML illisible : %(reason)s") % {"reason": exc}) from None
    listed = []
    for extrinsic in root.iter(f"{{{RIM}}}ExtrinsicObject"):
        if (extrinsic.get("mimeType") or "").strip().lower() != "text/xml":
            continue
        values = extrinsic.xpath("rim:Slot[@name='URI']/rim:ValueList/rim:Value/text()", namespaces={"rim": RIM})
        uri = _joined_uri([str(value).strip() for value in values])
        if not uri:
            raise InvalidArchive(_("METADATA.XML : document sans URI."))
        listed.append(_Listed(uri, _patient_ins(extrinsic)))
    return listed


def _patient_ins(extrinsic: etree._Element) -> str:
    """The INS matricule of XDSDocumentEntry.patientId (CX ``matricule^^^&OID&ISO``) when the OID is an INS
    authority; "" for another identifier or a malformed value (the search then starts from the CDA)."""
    path = f"rim:ExternalIdentifier[@identificationScheme='{PATIENT_ID_SCHEME}']/@value"
    for value in extrinsic.xpath(path, namespaces={"rim": RIM}):
        matricule, _sep, authority = str(value).strip().partition("^^^")
        oid = authority.split("&")[1] if authority.count("&") >= 2 else ""
        if oid in INS_AUTHORITIES and INS_MATRICULE.fullmatch(matricule):
            return matricule
    return ""


def _joined_uri(values: list[str]) -> str:
    """An URI slot, possibly split into ``1|first part``, ``2|second part`` values (XDS rule for long URIs)."""
    split = [match for value in values if (match := _SPLIT_URI.match(value))]
    if split and len(split) == len(values):
        return "".join(part for _n, part in sorted((int(m.group(1)), m.group(2)) for m in split))
    return values[0] if values else ""


def _resolve(folder: str, uri: str) -> str:
    _check_name(uri)
    return posixpath.join(folder, uri)

"""IHE_XDM archives built for tests: the METADATA.XML of a submission set and the zip around it, including
the malformed ones (a symbolic link entry pointing at a local file)."""

from __future__ import annotations

import io
import stat
import zipfile
from xml.sax.saxutils import escape

RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
LINK_TARGET = "/etc/passwd"


PATIENT_ID_SCHEME = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"


def metadata(*entries: tuple[str, str], patient_id: str = "") -> bytes:
    """A submission set listing ``(uri, mime type)`` documents; ``patient_id`` (CX) as their XDS patientId."""
    identifier = (
        f'<rim:ExternalIdentifier identificationScheme="{PATIENT_ID_SCHEME}" value="{escape(patient_id)}"/>'
        if patient_id
        else ""
    )
    objects = "".join(
        f'<rim:ExtrinsicObject id="Document{n}" mimeType="{mime}"><rim:Slot name="URI"><rim:ValueList>'
        f"<rim:Value>{escape(uri)}</rim:Value></rim:ValueList></rim:Slot>{identifier}</rim:ExtrinsicObject>"
        for n, (uri, mime) in enumerate(entries)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><lcm:SubmitObjectsRequest '
        f'xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="{RIM}"><rim:RegistryObjectList>'
        f"{objects}</rim:RegistryObjectList></lcm:SubmitObjectsRequest>"
    ).encode()


def archive(files: dict[str, bytes], *, symlink: str = "") -> bytes:
    """A zip of ``files``; ``symlink`` adds an entry of that name that is a link to :data:`LINK_TARGET`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, LINK_TARGET)
    return buffer.getvalue()

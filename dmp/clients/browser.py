"""TD0.10 (the DMP's web PS in the patient's context) and the consumer DRIMbox: pages the user's
browser opens by posting a form the DPI renders (docs/dmp-protocol.md §9).

The form carries the signed VIHF (base64) for the signed-in professional and the patient; the
national service verifies it as it does for SOAP requests (there is no TLS client certificate in a
browser). Nothing is sent by the DPI itself.
"""

from __future__ import annotations

from typing import Literal

from dmp.clients.config import DmpClientConfig, resolve
from dmp.clients.types import Actor, BrowserForm, PatientRef
from dmp.clients.vihf import encoded_assertion

WEBPS_PAGES = ("dossier", "vaccination")


def webps_form(
    actor: Actor,
    patient: PatientRef,
    *,
    page: Literal["dossier", "vaccination"] = "dossier",
    config: DmpClientConfig | None = None,
) -> BrowserForm:
    """The web PS form: the patient's DMP (``dossier``) or their vaccination page."""
    if page not in WEBPS_PAGES:
        raise ValueError(f"web PS page {page!r}: one of {WEBPS_PAGES}")
    config = resolve(config)
    return BrowserForm(
        action=config.webps_url, fields={"vihf": encoded_assertion(actor, patient, config), "page": page}
    )


def drimbox_form(
    actor: Actor,
    patient: PatientRef,
    *,
    study: str = "",
    accession: str = "",
    config: DmpClientConfig | None = None,
) -> BrowserForm:
    """The consumer DRIMbox form, opening a study (DICOM study instance UID, or accession number)."""
    config = resolve(config)
    fields = {"vihf": encoded_assertion(actor, patient, config)}
    fields.update({name: value for name, value in (("study", study), ("accession", accession)) if value})
    return BrowserForm(action=config.drimbox_url, fields=fields)

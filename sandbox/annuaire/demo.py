"""The demo's national directory: an extract of the people the sandbox FHIR server serves, loaded once, and
a schedule (off) pointing at it, so the admin shows a load's report and users can be created from an RPPS."""

from __future__ import annotations

from django.conf import settings

from directory.models import DirectoryLoad, DirectorySchedule
from directory.services.directory_load import run_load
from sandbox.annuaire.extract import write_extract

DEMO_LINES = 2500  # about the first 2,000 people, those the FHIR sandbox serves by default


def load_demo_directory() -> DirectoryLoad:
    folder = settings.VAR_DIR / "annuaire"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "PS_LibreAcces_Personne_activite.txt"
    write_extract(path, DEMO_LINES, seed=settings.SANDBOX_ANNUAIRE_SEED)
    DirectorySchedule.objects.update_or_create(pk=1, defaults={"path": str(path), "every_hours": 24})
    return run_load(DirectoryLoad.objects.create(path=str(path)))

"""``manage.py check_backup``: is the latest backup recent and intact (for the supervision)?"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dpi.backup import check, latest_manifest


class Command(BaseCommand):
    help = "Vérifie la dernière sauvegarde : présente, récente, intacte (et sa copie hors ligne) ; code 0 si oui."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--in", dest="folder", type=Path, default=settings.BACKUP_DIR)
        parser.add_argument("--max-age-hours", type=int, default=settings.BACKUP_MAX_AGE_HOURS)

    def handle(self, *args: Any, folder: Path, max_age_hours: int, **options: Any) -> None:
        manifest = latest_manifest(folder)
        if manifest is None:
            raise CommandError(f"Aucune sauvegarde dans {folder}.")
        created = datetime.fromisoformat(json.loads(manifest.read_text())["created_at"])
        problems = check(manifest)
        if datetime.now(UTC) - created > timedelta(hours=max_age_hours):
            problems.append(f"dernière sauvegarde du {created:%Y-%m-%d %H:%M} UTC, plus de {max_age_hours} h")
        if problems:
            raise CommandError("Sauvegarde en défaut : " + " ; ".join(problems))
        self.stdout.write(f"Sauvegarde correcte : {manifest.name}")

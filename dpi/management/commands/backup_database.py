"""``manage.py backup_database``: dump, read back, offline copy, manifest (REM SC.SSI/GEN.21)."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dpi.backup import BackupError, backup


class Command(BaseCommand):
    help = "Sauvegarde la base (avec les octets des documents), la relit, la copie hors ligne ; code 0 si réussie."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", type=Path, default=settings.BACKUP_DIR, help="dossier des sauvegardes")
        parser.add_argument(
            "--offline-copy",
            type=Path,
            default=settings.BACKUP_OFFLINE_DIR or None,
            help="dossier hors ligne (support amovible ou non modifiable) recevant une copie en lecture seule",
        )

    def handle(self, *args: Any, to: Path, offline_copy: Path | None, **options: Any) -> None:
        try:
            manifest = backup(folder=to, offline_folder=offline_copy)
        except BackupError as error:
            raise CommandError(f"Sauvegarde échouée : {error}") from error
        self.stdout.write(f"Sauvegarde réussie : {manifest}")

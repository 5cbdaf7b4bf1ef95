"""``manage.py restore_database MANIFEST --database-url URL``: restore into an empty database and compare."""

from pathlib import Path
from typing import Any

import psycopg
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dpi.backup import BackupError, Target, restore


class Command(BaseCommand):
    help = "Restaure une sauvegarde dans une base vide puis compare lignes et empreintes avec son manifeste."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("manifest", type=Path, help="le fichier dpi-….json de la sauvegarde")
        parser.add_argument("--database-url", required=True, help="postgres://… d'une base vide")

    def handle(self, *args: Any, manifest: Path, database_url: str, **options: Any) -> None:
        try:
            differences = restore(manifest_path=manifest, target=Target.from_url(database_url))
        except (BackupError, psycopg.Error) as error:
            raise CommandError(f"Restauration échouée : {error}") from error
        if differences:
            lines = [f"{name} : attendu {d['expected']}, restauré {d['restored']}" for name, d in differences.items()]
            raise CommandError("Restauration incomplète :\n" + "\n".join(lines))
        self.stdout.write("Restauration réussie : chaque table a ses lignes et chaque document ses octets.")

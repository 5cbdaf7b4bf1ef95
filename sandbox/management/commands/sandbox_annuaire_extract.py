from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sandbox.annuaire.extract import write_extract


class Command(BaseCommand):
    help = (
        "Écrit un extrait PS_LibreAcces_Personne_activite réaliste (format publié de l'Annuaire Santé) : "
        "sandbox_annuaire_extract --lines N [--seed S] [--change-percent P] [--remove-percent P] [--output F]."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--lines", type=int, required=True, help="lignes personne × activité (avant retraits)")
        parser.add_argument("--seed", type=int, default=0, help="graine : mêmes personnes pour la même graine")
        parser.add_argument("--change-percent", type=float, default=0, help="%% de lignes dont l'adresse change")
        parser.add_argument("--remove-percent", type=float, default=0, help="%% de lignes retirées")
        parser.add_argument("--output", default="PS_LibreAcces_Personne_activite.txt", help="fichier écrit")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["output"])
        stats = write_extract(
            path,
            options["lines"],
            seed=options["seed"],
            change_percent=options["change_percent"],
            remove_percent=options["remove_percent"],
        )
        self.stdout.write(
            f"{path} : {stats.lines} lignes écrites ({stats.changed} modifiées, {stats.removed} retirées)."
        )

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.dmp.codes import KINDS
from sandbox.dmp.seed import ESTABLISHMENTS, PROFESSIONALS, add_document
from sandbox.dmp.store import Visibility
from sandbox.models import PatientDmp


class Command(BaseCommand):
    help = (
        "Ajoute des documents au DMP simulé d'un patient pendant la démo (le compte de nouveaux documents du DPI "
        "bouge) : sandbox_dmp_add --ins <matricule> [--type LOINC] [--invisible] [--author-finess F] [--count N]."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ins", required=True, help="matricule INS (15 caractères) du patient")
        parser.add_argument("--type", default="11488-4", help=f"code LOINC du type ({', '.join(KINDS)})")
        parser.add_argument("--invisible", action="store_true", help="invisible au patient (INVISIBLE_PATIENT)")
        parser.add_argument("--masked", action="store_true", help="masqué aux professionnels (MASQUE_PS)")
        parser.add_argument(
            "--author-finess",
            help=f"FINESS de la structure de l'auteur ({', '.join(e.finess for e in ESTABLISHMENTS)})",
        )
        parser.add_argument("--count", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        dmp = PatientDmp.objects.filter(ins=options["ins"]).first()
        if dmp is None:
            raise CommandError(f"Aucun DMP simulé pour l'INS {options['ins']} (make demo le crée pour la démo).")
        author = None
        if options["author_finess"]:
            author = next((p for p in PROFESSIONALS if p.establishment.finess == options["author_finess"]), None)
            if author is None:
                raise CommandError(f"Aucun auteur connu pour le FINESS {options['author_finess']}.")
        visibility = Visibility(masked_to_professionals=options["masked"], invisible_to_patient=options["invisible"])
        for _number in range(max(options["count"], 1)):
            entry = add_document(dmp, options["type"], author=author, visibility=visibility)
            self.stdout.write(f"Ajouté : {entry.title} ({entry.unique_id}) de {entry.author_institution}")

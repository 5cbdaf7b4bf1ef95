from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.models import PatientDmp


class Command(BaseCommand):
    help = "Bloque (ou débloque avec --unblock) un professionnel sur le DMP simulé d'un patient (démo, tests)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ins", required=True, help="matricule INS du patient")
        parser.add_argument("--national-id", required=True, help="identifiant national du professionnel (8 + RPPS)")
        parser.add_argument("--unblock", action="store_true")

    def handle(self, *args: Any, ins: str, national_id: str, unblock: bool, **options: Any) -> None:
        dmp = PatientDmp.objects.filter(ins=ins).first()
        if dmp is None:
            raise CommandError(f"Aucun DMP simulé pour l'INS {ins}.")
        blocked = [value for value in dmp.blocked_professionals if value != national_id]
        dmp.blocked_professionals = blocked if unblock else [*blocked, national_id]
        dmp.save(update_fields=["blocked_professionals"])
        state = "débloqué" if unblock else "bloqué"
        self.stdout.write(f"{national_id} {state} sur le DMP de {dmp}.")

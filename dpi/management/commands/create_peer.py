from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dpi.models import Peer
from dpi.services import create_peer


class Command(BaseCommand):
    help = "Create an API peer (a system of the hospital information system) and print its token once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument(
            "--scope",
            action="append",
            choices=Peer.Scope.values,
            help="Scope granted (repeatable). Default: patients:read.",
        )

    def handle(self, *args: Any, name: str, scope: list[str] | None, **options: Any) -> None:
        if Peer.objects.filter(name=name).exists():
            raise CommandError(f"Le partenaire {name} existe déjà.")
        _peer, token = create_peer(name=name, scopes=scope or [Peer.Scope.PATIENTS_READ])
        self.stdout.write(token)

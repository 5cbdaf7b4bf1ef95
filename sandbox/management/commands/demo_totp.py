from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dpi.models import User
from sandbox.demo import current_totp_code


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo user (demo only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"Utilisateur inconnu : {username}")
        self.stdout.write(current_totp_code(user))

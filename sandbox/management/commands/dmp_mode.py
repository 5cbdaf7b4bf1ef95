from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sandbox.models import DmpBehaviour


class Command(BaseCommand):
    help = "Show or set how the sandbox DMP answers (demo and tests only): dmp_mode [mode] [--slow-seconds N]."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("mode", nargs="?", choices=DmpBehaviour.Mode.values)
        parser.add_argument("--slow-seconds", type=float, help="wait before the answer in slow mode")

    def handle(self, *args: Any, mode: str | None, slow_seconds: float | None, **options: Any) -> None:
        behaviour = DmpBehaviour.current()
        if mode:
            behaviour.mode = mode
        if slow_seconds is not None:
            behaviour.slow_seconds = max(slow_seconds, 0.0)
        behaviour.save()
        self.stdout.write(
            f"DMP simulé : {behaviour.mode} ({behaviour.get_mode_display()}), mode lent {behaviour.slow_seconds:g} s."
        )

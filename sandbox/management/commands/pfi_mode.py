from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.models import PfiBehaviour


class Command(BaseCommand):
    help = "Show or set how the simulated PFI answers (demo and tests only): pfi_mode [mode] [--slow-seconds N]."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("mode", nargs="?", choices=PfiBehaviour.Mode.values)
        parser.add_argument("--slow-seconds", type=float, help="wait before the ACK in slow mode")
        parser.add_argument("--zam-delay", help="seconds before the ZAMs, or 'default' for the setting")

    def handle(self, *args: Any, mode: str | None, slow_seconds: float | None, zam_delay: str | None, **options: Any):
        behaviour = PfiBehaviour.current()
        if mode:
            behaviour.mode = mode
        if slow_seconds is not None:
            behaviour.slow_seconds = max(slow_seconds, 0.0)
        if zam_delay is not None:
            behaviour.zam_delay_seconds = None if zam_delay == "default" else self._seconds(zam_delay)
        behaviour.save()
        delay = "défaut" if behaviour.zam_delay_seconds is None else f"{behaviour.zam_delay_seconds:g} s"
        self.stdout.write(
            f"PFI simulée : {behaviour.mode} ({behaviour.get_mode_display()}), "
            f"mode lent {behaviour.slow_seconds:g} s, délai des ZAM {delay}."
        )

    @staticmethod
    def _seconds(value: str) -> float:
        try:
            return max(float(value), 0.0)
        except ValueError as exc:
            raise CommandError(f"--zam-delay: nombre de secondes ou 'default', pas {value!r}") from exc

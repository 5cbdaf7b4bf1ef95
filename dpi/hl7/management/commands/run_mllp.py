"""``manage.py run_mllp``: the MLLP listener, until SIGINT or SIGTERM."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from dpi.hl7 import mllp


class Command(BaseCommand):
    help = "Écoute les messages HL7 v2 en MLLP (arrêt propre sur SIGINT/SIGTERM)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.MLLP_HOST, help="adresse d'écoute (MLLP_HOST)")
        parser.add_argument("--port", type=int, default=settings.MLLP_PORT, help="port, 0 = libre (MLLP_PORT)")
        parser.add_argument(
            "--processes",
            type=int,
            default=settings.MLLP_PROCESSES,
            help="processus d'écoute sur le même port, SO_REUSEPORT (MLLP_PROCESSES)",
        )

    def handle(self, *args: Any, host: str, port: int, processes: int, **options: Any) -> None:
        if processes <= 1:
            mllp.run(host=host, port=port)
            return
        status = mllp.run_processes(host=host, port=port, processes=processes)
        if status:
            raise SystemExit(status)

import asyncio
import signal
from typing import Any

from django.core.management.base import BaseCommand

from sandbox.simulators import SIMULATORS, run_all


class Command(BaseCommand):
    help = "Run the simulators of the national services (demo and tests only) until Ctrl-C."

    def handle(self, *args: Any, **options: Any) -> None:
        names = ", ".join(simulator.name for simulator in SIMULATORS) or "aucun pour l'instant"
        self.stdout.write(f"Bac à sable : simulateurs {names}.")
        asyncio.run(self._serve())
        self.stdout.write("Bac à sable arrêté.")

    async def _serve(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_all(stop)

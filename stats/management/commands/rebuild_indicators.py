"""Recompute every document's outcome from the orders and acks, e.g. after a bulk load or a restore that
bypassed the model's saves (the usual path needs no rebuild: saves mark documents stale)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.db import connection

from stats.models import DocumentOutcome
from stats.services import rebuild_outcomes


class Command(BaseCommand):
    help = "Recalcule le devenir de chaque document (indicateurs d'usage) depuis les ordres et accusés."

    def handle(self, *args: object, **options: object) -> None:
        started = time.perf_counter()
        rows = rebuild_outcomes()
        with connection.cursor() as cursor:  # the visibility map, for the stay rates' index-only scan
            cursor.execute(f"VACUUM ANALYZE {DocumentOutcome._meta.db_table}")
        self.stdout.write(f"{rows} documents recalculés en {time.perf_counter() - started:.1f} s.")

"""``manage.py hl7_ingest FILE...``: feed HL7 files through the same path as the MLLP listener."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dpi.audit_context import bind
from dpi.hl7.engine import process_inbound
from dpi.hl7.parsing import decode_leniently, split_batch, split_segments


class Command(BaseCommand):
    help = (
        "Traite des fichiers de messages HL7 v2 (un message commence à chaque ligne « MSH| ») "
        "comme s'ils arrivaient en MLLP et affiche chaque acquittement."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")

    def handle(self, *args: Any, files: list[Path], **options: Any) -> None:
        unreadable = [path for path in files if not self._ingest(path)]
        if unreadable:
            raise CommandError(f"Fichier(s) illisible(s) : {', '.join(map(str, unreadable))}")

    def _ingest(self, path: Path) -> bool:
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.stderr.write(f"{path} : {exc.strerror or exc}")
            return False
        messages = split_batch(data)
        self.stdout.write(self.style.MIGRATE_HEADING(f"== {path} : {len(messages)} message(s)"))
        for number, raw in enumerate(messages, start=1):
            with bind():  # one audit request id per message
                ack = process_inbound(raw, peer=f"file:{path.name}")
            self.stdout.write(f"-- message {number}, acquittement :")
            self.stdout.write("\n".join(split_segments(decode_leniently(ack))))
        return True

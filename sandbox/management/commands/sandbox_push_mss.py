"""Push an inbound MSSanté MDM to the DPI's MLLP listener, as the PFI would (demo and tests only)."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dpi.hl7.client import TransportError
from sandbox import mss_push


class Command(BaseCommand):
    help = (
        "Envoie au DPI (MLLP_HOST:MLLP_PORT) un MDM du volet « LPS courriel MSSanté » : un exemple national "
        "(--sample) ou un document généré pour un patient (--patient IPP, --alter trait pour le faire refuser)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--sample", help="fichier lpsmss_MDM_*.er7 (nom dans DPI_SAMPLES_DIR/hl7v2, ou chemin)")
        source.add_argument("--patient", metavar="IPP", help="IPP d'un patient de la base")
        parser.add_argument("--alter", choices=mss_push.TRAITS, help="trait modifié dans le document envoyé")
        parser.add_argument("--recipient", default="dpi@hopital.mssante.fr", help="BAL destinataire (PRT RCT)")
        parser.add_argument("--title", default="Compte rendu de consultation de cardiologie")
        parser.add_argument("--control-id", default="", help="MSH-10 (par défaut : un identifiant nouveau)")
        parser.add_argument("--host", default=settings.MLLP_HOST)
        parser.add_argument("--port", type=int, default=settings.MLLP_PORT)

    def handle(self, *args: object, **options: object) -> None:
        message = self._message(options)
        try:
            ack = mss_push.push(message, host=options["host"], port=options["port"])
        except TransportError as exc:
            if exc.ack is None:
                raise CommandError(f"Envoi impossible : {exc}") from exc
            ack = exc.ack
        self.stdout.write(mss_push.describe(ack))

    def _message(self, options: dict) -> str:
        control_id = options["control_id"] or uuid.uuid4().hex[:20]
        if options["sample"]:
            path = Path(options["sample"])
            if not path.exists():
                path = Path(settings.SAMPLES_DIR) / "hl7v2" / options["sample"]
            if not path.exists():
                raise CommandError(f"Exemple introuvable : {options['sample']}")
            return mss_push.sample_text(path, control_id)
        from patients.models import Patient

        patient = Patient.objects.filter(ipp=options["patient"], merged_into__isnull=True).first()
        if patient is None:
            raise CommandError(f"Aucun patient d'IPP {options['patient']}")
        identity = mss_push.patient_identity(patient, options["alter"] or "")
        id_root, cda = mss_push.patient_document(identity, title=options["title"])
        mdm = mss_push.mdm_for(identity, cda, id_root, control_id=control_id, recipient=options["recipient"])
        return mdm.text()

from typing import Any

from cryptography import x509
from django.conf import settings
from django.core.management.base import BaseCommand

from sandbox.pki import ensure_test_pki

FILES = ("ca", "server", "structure", "other-structure", "rogue-ca", "rogue")


class Command(BaseCommand):
    help = "Create (once) and describe the sandbox's test PKI under DMP_PKI_DIR (demo and tests only)."

    def handle(self, *args: Any, **options: Any) -> None:
        pki = ensure_test_pki(settings.DMP_PKI_DIR)
        self.stdout.write(f"PKI de test : {pki.folder}")
        for stem in FILES:
            certificate = x509.load_pem_x509_certificate(pki.path(f"{stem}.crt").read_bytes())
            subject, issuer = certificate.subject.rfc4514_string(), certificate.issuer.rfc4514_string()
            until = f"{certificate.not_valid_after_utc:%d/%m/%Y}"
            self.stdout.write(f"  {stem + '.crt':<22} {subject} (émis par {issuer}, jusqu'au {until})")

"""The INS assigning authorities: which number an OID stands for, and whether it is a real one.

One table for the PAM feed (which OIDs it accepts), the documents (the authority named in the PDF and the
CDA) and the screens ("INS (NIR)", "INS (NIA)", flagged "test" or "démonstration", never a raw OID).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InsAuthority:
    kind: str  # NIR or NIA
    trial: str = ""  # "test" or "démonstration" for the OIDs that are not real INS

    @property
    def label(self) -> str:
        """As the documents name the authority: ``INS-NIR``, ``INS-NIR de test``."""
        return f"INS-{self.kind}" + (f" de {self.trial}" if self.trial else "")

    @property
    def short_label(self) -> str:
        """As the screens name the identifier: ``INS (NIR)``."""
        return f"INS ({self.kind})"


INS_AUTHORITIES: dict[str, InsAuthority] = {
    "1.2.250.1.213.1.4.8": InsAuthority("NIR"),
    "1.2.250.1.213.1.4.9": InsAuthority("NIA"),
    "1.2.250.1.213.1.4.10": InsAuthority("NIR", "test"),
    "1.2.250.1.213.1.4.11": InsAuthority("NIR", "démonstration"),
}
TEST_INS_OIDS = frozenset(oid for oid, authority in INS_AUTHORITIES.items() if authority.trial)

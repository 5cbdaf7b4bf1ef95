"""Who can sign in at the sandbox providers: the demo professionals, one unknown to the DPI, hospital accounts.

The PSC claims follow the ANS ``UserInfos`` model (``SubjectNameID``, ``SubjectRefPro.exercices[].activities[]``);
the demo professionals practise at the demo hospital's two sites (FINESS EG of ``sandbox.demo``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.demo import USERS

DEMO_SITES = {"000897406": "Hôpital Nord", "000897422": "Hôpital Sud"}
DEMO_FINESS_EJ = "000897414"
UNKNOWN_RPPS = "10000000991"  # valid Luhn key, no DPI account: the sign-in is refused


@dataclass(frozen=True)
class Person:
    """One identity at a sandbox provider: ``sub`` is the provider's subject, ``login`` what its page shows."""

    sub: str
    login: str
    given_name: str
    family_name: str
    email: str = ""
    rpps: str = ""
    profession: str = ""
    specialty: str = ""
    groups: tuple[str, ...] = field(default=())

    @property
    def national_id(self) -> str:
        return f"8{self.rpps}" if self.rpps else ""

    def psc_claims(self) -> dict[str, Any]:
        """Userinfo of PSC: ``SubjectNameID`` is the national identifier (8 + RPPS)."""
        activities = [
            {
                "codeModeExercice": "S",
                "codeSecteurDactivite": "SA01",
                "codeRole": "FON-01",
                "numeroFinessSite": finess,
                "numeroFinessetablissementJuridique": DEMO_FINESS_EJ,
                "raisonSocialeSite": name,
                "codePostal": "75013",
            }
            for finess, name in DEMO_SITES.items()
        ]
        exercise = {
            "codeProfession": self.profession,
            "codeCategorieProfessionnelle": "C",
            "codeTypeSavoirFaire": "S" if self.specialty else "",
            "codeSavoirFaire": self.specialty,
            "codeCiviliteDexercice": "DR" if self.profession == "10" else "",
            "nomDexercice": self.family_name.upper(),
            "prenomDexercice": self.given_name,
            "activities": activities,
        }
        return {
            "SubjectNameID": self.national_id,
            "preferred_username": self.national_id,
            "given_name": self.given_name,
            "family_name": self.family_name.upper(),
            "SubjectRefPro": {"codeCivilite": "M", "exercices": [exercise]},
            "otherIds": [{"identifiant": self.national_id, "origine": "RPPS", "qualite": 1}],
        }

    def hospital_claims(self) -> dict[str, Any]:
        """Userinfo of the hospital provider: e-mail and directory groups, no national identifier."""
        return {
            "preferred_username": self.login,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "email": self.email,
            "email_verified": True,
            "groups": list(self.groups),
        }


def psc_people() -> list[Person]:
    """The demo professionals with an RPPS, then one whom the DPI does not know."""
    people = [
        Person(
            sub=f"psc-{spec.rpps}",
            login=f"{spec.first_name} {spec.last_name.upper()}",
            given_name=spec.first_name,
            family_name=spec.last_name,
            rpps=spec.rpps or "",
            profession=spec.profession,
            specialty=spec.specialty,
        )
        for spec in USERS
        if spec.rpps
    ]
    unknown = Person("psc-unknown", "Jean INCONNU", "Jean", "Inconnu", rpps=UNKNOWN_RPPS, profession="10")
    return [*people, unknown]


def hospital_people() -> list[Person]:
    """Accounts of the hospital's directory: the demo users (e-mail, groups) and one with no DPI account."""
    people = [
        Person(
            sub=f"hop-{spec.username}",
            login=spec.username,
            given_name=spec.first_name,
            family_name=spec.last_name,
            email=f"{spec.username}@hopital-demo.fr",
            groups=("dpi-utilisateurs", f"uf-{spec.units[0]}" if spec.units else "direction"),
        )
        for spec in USERS
    ]
    stranger = Person("hop-stagiaire", "stagiaire", "Tom", "Stagiaire", email="stagiaire@hopital-demo.fr")
    return [*people, stranger]

"""The document categories the "new documents in the DMP" count is made of (SC.DMP/UX.15, UX.17).

The DSR asks for at least: lettre de liaison, hospital documents, synthèse médicale (VSM), biology,
imaging, prescription/dispensation, vaccination history, RCP and "other". Each category is a set
of XDS typeCodes (LOINC, or TRE_A05 codes for the national ones) from JDV_J07-XdsTypeCode-CISIS;
a typeCode in no category counts as "other".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    type_codes: frozenset[str]


CATEGORIES: tuple[Category, ...] = (
    Category("ldl", "Lettres de liaison", frozenset({"11490-0", "18761-7", "96349-6", "74207-2"})),
    Category(
        "hospital",
        "Documents hospitaliers",
        frozenset(
            {
                "34112-3",  # CR hospitalier (séjour)
                "34874-8",  # CR opératoire
                "15507-7",  # CR de passage aux urgences
                "11488-4",  # CR ou fiche de consultation ou de visite
                "34749-2",  # CR de consultation pré-anesthésique
                "77436-4",  # CR d'anesthésie
                "15508-5",  # CR d'accouchement
                "67851-6",  # CR d'admission
                "60280-5",  # fiche de retour du service des urgences
                "11505-5",  # CR d'acte thérapeutique
                "70004-7",  # CR d'acte diagnostique
                "34875-5",  # évaluation postopératoire
            }
        ),
    ),
    Category("vsm", "Synthèse médicale (VSM)", frozenset({"60591-5", "34133-9"})),
    Category("biology", "Biologie", frozenset({"11502-2", "51969-4"})),
    Category("imaging", "Imagerie", frozenset({"18748-4", "IMG-KOS"})),
    Category(
        "prescription",
        "Prescriptions et dispensations",
        frozenset(
            {
                "57833-6",
                "57828-6",
                "57832-8",
                "60593-1",
                "75468-9",
                "DISP_AUT",
                "PRESC-BIO",
                "PRESC-KINE",
                "PRESC-INF",
                "PRESC-PEDI",
                "PRESC-ORTHOPHO",
                "PRESC-ORTHOPTIE",
            }
        ),
    ),
    Category("vaccination", "Vaccinations", frozenset({"11369-6", "87273-9", "96874-3"})),
    Category("rcp", "Fiches de RCP", frozenset({"34794-8"})),
    Category("other", "Autres documents", frozenset()),
)
BY_KEY = {category.key: category for category in CATEGORIES}
CHOICES = [(category.key, category.label) for category in CATEGORIES]
_OF_TYPE = {code: category.key for category in CATEGORIES for code in category.type_codes}


def category_of(type_code: str) -> str:
    """The key of the category a typeCode belongs to ("other" when none names it)."""
    return _OF_TYPE.get(type_code, "other")

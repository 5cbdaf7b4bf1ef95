"""The usage indicators of the DSR vague 2, 3.2.7 (REM SC.STAT/ES.01), computed with set-based SQL from
the operational tables, per FINESS géographique, document type (or profession) and Paris month.

Definitions, numerators and denominators: ``docs/statistics.md``; one module per family.
"""

from __future__ import annotations

from stats import services
from stats.indicators import consultation, correspondents, information, received, sending, stay_rates
from stats.indicators.common import Period, Row

# Every code produced, in the order of the DSR, with its label in the CSV.
CATALOGUE: dict[str, str] = {
    "DMP_OK": "Documents transmis au DMP en flux – réussi",
    "DMP_KO": "Documents transmis au DMP en flux – en échec",
    "DMP_HISTO_OK": "Documents historiques transmis au DMP – réussi",
    "DMP_SEJOURS_TAUX": "Taux de séjours clôturés dont le document a été versé au DMP",
    "DMP_CONSULT_UTILISATEURS": "Utilisateurs ayant consulté le DMP / utilisateurs du profil",
    "DMP_INTEGRES": "Documents intégrés depuis le DMP",
    "DMP_TELECHARGES": "Documents téléchargés depuis le DMP (TD3.2)",
    "DMP_INTEGRATION_SEJOURS_TAUX": "Taux de séjours clôturés avec un document intégré du DMP",
    "DMP_INTEGRATION_CONSULTATIONS_TAUX": "Taux de consultations avec un document intégré du DMP",
    "MSS_PRO_OK": "Documents envoyés aux correspondants par MSSanté – réussi",
    "MSS_PRO_KO": "Documents envoyés aux correspondants par MSSanté – en échec",
    "MSS_PRO_INS_OK": "Documents avec INS qualifiée envoyés aux correspondants par MSSanté – réussi",
    "MSS_PRO_INS_KO": "Documents avec INS qualifiée envoyés aux correspondants par MSSanté – en échec",
    "MSS_PRO_SEJOURS_TAUX": "Taux de séjours clôturés dont le document a été envoyé par MSSanté",
    correspondents.CODE: "Taux de correspondants ayant une adresse MSSanté à qui le document a été envoyé",
    "MSS_PATIENT_OK": "Documents transmis au patient par MSSanté – réussi",
    "MSS_PATIENT_KO": "Documents transmis au patient par MSSanté – en échec",
    "MSS_PATIENT_INS_OK": "Documents avec INS qualifiée transmis au patient par MSSanté – réussi",
    "MSS_PATIENT_INS_KO": "Documents avec INS qualifiée transmis au patient par MSSanté – en échec",
    "MSS_PATIENT_SEJOURS_TAUX": "Taux de séjours clôturés dont le document a été envoyé au patient par MSSanté",
    "MSS_PATIENT_PATIENTS_TAUX": "Taux de patients à qui le document a été envoyé par MSSanté",
    "MSS_RECU_AUTO_OK": "Documents CDA reçus par MSSanté intégrés automatiquement – réussi",
    "MSS_RECU_AUTO_KO": "Documents CDA reçus par MSSanté intégrés automatiquement – en échec",
    "MSS_RECU_MANUEL_CDA": "Documents CDA reçus par MSSanté intégrés manuellement",
    received.NON_CDA: "Documents non CDA reçus par MSSanté intégrés manuellement",
    **{
        f"INFO_{subject}_{visits}_{answer}": (
            f"Taux de {'séjours clôturés' if visits == 'SEJOURS' else 'consultations'} où le patient a été "
            f"informé ({'alimentation' if subject == 'ALIM' else 'consultation'} du DMP) et "
            f"{'ne s’est pas opposé' if answer == 'NON_OPPOSE' else 's’est opposé'}"
        )
        for visits in information.FAMILIES
        for subject in information.SUBJECTS
        for answer in ("NON_OPPOSE", "OPPOSE")
    },
}
_ORDER = {code: position for position, code in enumerate(CATALOGUE)}


def compute(period: Period) -> list[Row]:
    """Every indicator of the period, sorted by indicator, FINESS, type, profession and month; the stale
    document outcomes are refreshed first, so the figures equal the operational tables."""
    services.refresh_outcomes()
    rows = [
        *sending.rows(period),
        *correspondents.rows(period),
        *stay_rates.rows(period),
        *consultation.rows(period),
        *received.rows(period),
        *information.rows(period),
    ]
    return sorted(rows, key=lambda row: (_ORDER[row.code], row.finess, row.type_code, row.profession, row.month))


__all__ = ["CATALOGUE", "Period", "Row", "compute"]

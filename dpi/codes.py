"""Nomenclatures of the national directory used on users (TRE_G15 professions, TRE_R38 specialties)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class NationalIdType(models.TextChoices):
    RPPS = "RPPS", _("RPPS")
    ADELI = "ADELI", _("ADELI")
    NONE = "NONE", _("aucun (personnel non professionnel de santé)")


class Profession(models.TextChoices):
    """TRE_G15-ProfessionSante (subset found in hospitals)."""

    MEDECIN = "10", _("Médecin")
    PHARMACIEN = "21", _("Pharmacien")
    CHIRURGIEN_DENTISTE = "40", _("Chirurgien-dentiste")
    SAGE_FEMME = "50", _("Sage-femme")
    INFIRMIER = "60", _("Infirmier")
    MASSEUR_KINE = "70", _("Masseur-kinésithérapeute")
    MANIPULATEUR_ERM = "98", _("Manipulateur ERM")


class Specialty(models.TextChoices):
    """TRE_R38-SpecialiteOrdinale (subset for physicians in hospitals)."""

    ANESTHESIE = "SM02", _("Anesthésie-réanimation")
    CARDIOLOGIE = "SM04", _("Cardiologie et maladies vasculaires")
    CHIRURGIE_GENERALE = "SM05", _("Chirurgie générale")
    CHIRURGIE_ORTHO = "SM08", _("Chirurgie orthopédique et traumatologie")
    CHIRURGIE_VISCERALE = "SM14", _("Chirurgie viscérale et digestive")
    GERIATRIE = "SM18", _("Gériatrie")
    GYNECO_OBSTETRIQUE = "SM20", _("Gynécologie-obstétrique")
    GASTRO = "SM24", _("Gastro-entérologie et hépatologie")
    MEDECINE_GENERALE = "SM26", _("Qualifié en médecine générale")
    MEDECINE_INTERNE = "SM27", _("Médecine interne")
    NEUROLOGIE = "SM32", _("Neurologie")
    PEDIATRIE = "SM40", _("Pédiatrie")
    PNEUMOLOGIE = "SM41", _("Pneumologie")
    PSYCHIATRIE = "SM42", _("Psychiatrie")
    RADIOLOGIE = "SM44", _("Radio-diagnostic")
    MEDECINE_URGENCE = "SM59", _("Médecine d'urgence")

"""The multicriteria search of the patient's DMP (SC.DMP/UX.27, UX.14.BIS) on the TD3.1 criteria."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dmp.categories import BY_KEY, CATEGORIES, category_of
from dmp.clients.types import (
    APPROVED,
    ARCHIVED,
    DEPRECATED,
    INVISIBLE_TO_PATIENT,
    VISIBILITY_SYSTEM,
    Code,
    DocumentEntry,
    DocumentQuery,
)

LOINC = "2.16.840.1.113883.6.1"
NATIONAL_TYPES = "1.2.250.1.213.1.1.4.12"  # TRE_A05: the typeCodes that are not LOINC
CLASS_SYSTEM = "1.2.250.1.213.1.1.4.1"  # TRE_A03
PRACTICE_SETTING_SYSTEM = "1.2.250.1.213.1.1.4.9"  # TRE_A01 (cadre d'exercice)
CLASSES = [
    ("10", _("Compte rendu")),
    ("11", _("Synthèse")),
    ("42", _("Prescription")),
    ("43", _("Dispensation")),
    ("45", _("Traitement administré")),
    ("90", _("Autre document")),
]
PRACTICE_SETTINGS = [
    ("ETABLISSEMENT", _("Établissement de santé")),
    ("AMBULATOIRE", _("Ambulatoire")),
    ("LABORATOIRE", _("Laboratoire")),
]
STATUSES = {"approved": (APPROVED,), "deprecated": (DEPRECATED,), "archived": (ARCHIVED,)}
STATUSES["all"] = STATUSES["approved"] + STATUSES["deprecated"] + STATUSES["archived"]
PERIODS = {"3m": 92, "1y": 366, "2y": 731, "5y": 1827}
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def type_code(code: str) -> Code:
    """A typeCode with its scheme: LOINC codes look like ``11490-0``, the national ones do not."""
    return Code(code, LOINC if code.replace("-", "").isdigit() else NATIONAL_TYPES)


def _start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


def _end(day: date | None) -> datetime | None:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) if day else None


class DmpSearchForm(forms.Form):
    category = forms.ChoiceField(
        label=_("Type de document"),
        required=False,
        choices=[("", _("tous les types"))] + [(c.key, c.label) for c in CATEGORIES],
    )
    class_code = forms.ChoiceField(label=_("Classe"), required=False, choices=[("", _("toutes"))] + CLASSES)
    practice_setting = forms.ChoiceField(
        label=_("Cadre d'exercice"), required=False, choices=[("", _("tous"))] + PRACTICE_SETTINGS
    )
    author = forms.CharField(label=_("Auteur (nom)"), required=False, max_length=60)
    period = forms.ChoiceField(
        label=_("Période de l'acte"),
        required=False,
        initial="2y",
        choices=[
            ("3m", _("3 derniers mois")),
            ("1y", _("12 derniers mois")),
            ("2y", _("2 dernières années")),
            ("5y", _("5 dernières années")),
            ("", _("toute la période")),
        ],
    )
    act_from = forms.DateField(widget=DATE, label=_("Acte du"), required=False)
    act_to = forms.DateField(widget=DATE, label=_("au"), required=False)
    created_from = forms.DateField(widget=DATE, label=_("Créé du"), required=False)
    created_to = forms.DateField(widget=DATE, label=_("au"), required=False)
    status = forms.ChoiceField(
        label=_("Statut"),
        required=False,
        choices=[
            ("approved", _("documents en vigueur")),
            ("deprecated", _("versions remplacées")),
            ("archived", _("archivés")),
            ("all", _("tous")),
        ],
    )
    visibility = forms.ChoiceField(
        label=_("Visibilité pour le patient"),
        required=False,
        choices=[
            ("", _("tous les documents")),
            ("invisible", _("invisibles pour le patient")),
            ("visible", _("visibles par le patient")),
        ],
    )

    def clean_author(self) -> str:
        """Letters, spaces, hyphens and apostrophes: the XDS LIKE wildcards are the DPI's to add."""
        author = " ".join(self.cleaned_data["author"].split())
        if any(not (ch.isalpha() or ch in " -'") for ch in author):
            raise forms.ValidationError(_("Le nom de l'auteur ne peut contenir que des lettres, espaces et tirets."))
        return author

    def clean(self) -> dict:
        data = super().clean()
        for start, end in (("act_from", "act_to"), ("created_from", "created_to")):
            if data.get(start) and data.get(end) and data[start] > data[end]:
                self.add_error(end, _("La fin de la période précède son début."))
        return data

    def query(self) -> DocumentQuery:
        data = self.cleaned_data
        category = BY_KEY.get(data.get("category") or "")
        act_from = _start(data.get("act_from"))
        if act_from is None and data.get("period") in PERIODS:
            act_from = timezone.now() - timedelta(days=PERIODS[data["period"]])
        return DocumentQuery(
            statuses=STATUSES.get(data.get("status") or "approved", STATUSES["approved"]),
            type_codes=tuple(type_code(code) for code in sorted(category.type_codes)) if category else (),
            class_codes=(Code(data["class_code"], CLASS_SYSTEM),) if data.get("class_code") else (),
            practice_settings=(
                (Code(data["practice_setting"], PRACTICE_SETTING_SYSTEM),) if data.get("practice_setting") else ()
            ),
            confidentiality_codes=(
                (Code(INVISIBLE_TO_PATIENT, VISIBILITY_SYSTEM),) if data.get("visibility") == "invisible" else ()
            ),
            author_person=f"%{data['author']}%" if data.get("author") else "",
            service_start_from=act_from,
            service_start_to=_end(data.get("act_to")),
            creation_from=_start(data.get("created_from")),
            creation_to=_end(data.get("created_to")),
        )

    def keep(self, entry: DocumentEntry) -> bool:
        """What TD3.1 cannot ask: "other" documents (in no category), and documents visible to the patient."""
        data = self.cleaned_data
        if data.get("category") == "other" and category_of(entry.type_code.code if entry.type_code else "") != "other":
            return False
        return not (data.get("visibility") == "visible" and entry.invisible_to_patient)

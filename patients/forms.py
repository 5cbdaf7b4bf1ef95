from django import forms
from django.utils.translation import gettext_lazy as _

from dpi.validators import clean_ins_matricule


class PatientSearchForm(forms.Form):
    """The identity search (patients.selectors.search_patients): names as keys, birth date alone or with
    initials (REM INS/va1.02), IPP, INS matricule only when complete with a key that matches (va1.41)."""

    name = forms.CharField(
        label=_("Nom, prénom"),
        required=False,
        max_length=100,
        help_text=_("Début du nom (de naissance ou utilisé) et du prénom ; accents, apostrophes, tirets indifférents."),
    )
    birth_date = forms.DateField(
        label=_("Date de naissance"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ipp = forms.CharField(label=_("IPP"), required=False, max_length=64)
    ins = forms.CharField(
        label=_("Matricule INS"),
        required=False,
        max_length=25,
        help_text=_("Les 15 caractères, clé comprise."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_ins(self) -> str:
        value = self.cleaned_data["ins"]
        return clean_ins_matricule(value) if value.strip() else ""

    def has_criteria(self) -> bool:
        return any(self.cleaned_data.get(field) for field in self.fields)


class EmergencyAccessForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de l'accès d'urgence"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text=_("Obligatoire. L'accès est tracé et limité dans le temps."),
    )

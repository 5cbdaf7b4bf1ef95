from django import forms
from django.utils.translation import gettext_lazy as _


class PatientSearchForm(forms.Form):
    name = forms.CharField(label=_("Nom, prénom"), required=False, max_length=100)
    birth_date = forms.DateField(
        label=_("Date de naissance"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ipp = forms.CharField(label=_("IPP"), required=False, max_length=64)
    ins = forms.RegexField(
        label=_("Matricule INS"),
        required=False,
        regex=r"^[0-9AB]{15}$",
        error_messages={"invalid": _("Le matricule INS compte 15 caractères (clé comprise).")},
    )

    def has_criteria(self) -> bool:
        return any(self.cleaned_data.get(field) for field in self.fields)


class EmergencyAccessForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de l'accès d'urgence"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text=_("Obligatoire. L'accès est tracé et limité dans le temps."),
    )

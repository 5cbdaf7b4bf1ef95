from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from directory.models import Correspondent, PatientCorrespondent


class NameCorrespondentForm(forms.Form):
    """One click of the patient's correspondents panel: who, and in which role."""

    correspondent = forms.ModelChoiceField(queryset=Correspondent.objects.filter(active=True))
    role = forms.ChoiceField(choices=PatientCorrespondent.Role.choices)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Rechercher un correspondant"), max_length=200, required=False)
    pour = forms.ChoiceField(choices=[("patient", "patient"), ("document", "document")], required=False)

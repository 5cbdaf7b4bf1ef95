from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from directory.clients.annuaire import Criteria
from directory.models import Correspondent, PatientCorrespondent
from dpi import codes


class NameCorrespondentForm(forms.Form):
    """One click of the patient's correspondents panel: who, and in which role."""

    correspondent = forms.ModelChoiceField(queryset=Correspondent.objects.filter(active=True))
    role = forms.ChoiceField(choices=PatientCorrespondent.Role.choices)


QUALIFICATIONS = [("", "—"), (_("Profession"), codes.Profession.choices), (_("Spécialité"), codes.Specialty.choices)]


class SearchForm(forms.Form):
    """The correspondent search: the free text, or the detailed criteria (both search locally, then the
    Annuaire Santé)."""

    q = forms.CharField(label=_("Rechercher un correspondant"), max_length=200, required=False)
    pour = forms.ChoiceField(choices=[("patient", "patient"), ("document", "document")], required=False)
    nom = forms.CharField(label=_("Nom"), max_length=100, required=False)
    prenom = forms.CharField(label=_("Prénom"), max_length=100, required=False)
    rpps = forms.RegexField(label=_("RPPS"), regex=r"^\d{11}$", required=False)
    qualification = forms.ChoiceField(label=_("Profession ou spécialité"), choices=QUALIFICATIONS, required=False)
    lieu = forms.CharField(label=_("Commune ou code postal"), max_length=100, required=False)
    structure = forms.CharField(label=_("Structure"), max_length=200, required=False)

    def local_query(self) -> str:
        """The words of the local search: the free text and the detailed criteria but the qualification code."""
        data = self.cleaned_data
        return " ".join(data[name] for name in ("q", "nom", "prenom", "rpps", "lieu", "structure") if data[name])

    def criteria(self) -> Criteria:
        """The Annuaire Santé criteria; a free text alone is an RPPS (11 digits), a postal code (5 digits) or
        the start of a name."""
        data = self.cleaned_data
        criteria = Criteria(
            family_name=data["nom"], given_name=data["prenom"], rpps=data["rpps"],
            qualification=data["qualification"], place=data["lieu"], organization=data["structure"],
        )  # fmt: skip
        text = data["q"].strip()
        if not criteria.empty or not text:
            return criteria
        if text.isdigit() and len(text) in (5, 11):
            return Criteria(rpps=text) if len(text) == 11 else Criteria(place=text)
        return Criteria(family_name=text)


class PickForm(forms.Form):
    """One MSSanté address chosen in the Annuaire Santé's results."""

    rpps = forms.RegexField(regex=r"^\d{11}$")
    adresse = forms.EmailField(max_length=254)
    role = forms.ChoiceField(choices=PatientCorrespondent.Role.choices, required=False)

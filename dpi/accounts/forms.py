"""Forms of the "Mon compte" page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ContactForm(forms.Form):
    use_required_attribute = False
    email = forms.EmailField(label=_("Adresse électronique de récupération"), max_length=254)


class CodeForm(forms.Form):
    use_required_attribute = False
    code = forms.CharField(
        label=_("Code reçu"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

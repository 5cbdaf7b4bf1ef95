"""The period of the indicators: a month, the current year, the previous year or a range of days."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from documents.types import SEGUR_TYPE_CHOICES
from dpi.models import Site
from stats.indicators import Period

LONGEST_RANGE_DAYS = 5 * 366


class PeriodForm(forms.Form):
    KINDS = (
        ("mois", _("Un mois")),
        ("annee", _("L'année en cours")),
        ("annee_precedente", _("L'année précédente")),
        ("intervalle", _("Du … au …")),
    )
    periode = forms.ChoiceField(label=_("Période"), choices=KINDS, initial="annee")
    mois = forms.CharField(label=_("Mois (AAAA-MM)"), required=False, widget=forms.DateInput(attrs={"type": "month"}))
    du = forms.DateField(label=_("Du"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    au = forms.DateField(label=_("Au (inclus)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, object]:
        data = super().clean()
        kind = data.get("periode")
        if kind == "mois":
            data["period"] = self._month(data.get("mois") or "")
        elif kind in ("annee", "annee_precedente"):
            year = timezone.localdate().year
            data["period"] = Period.year(year if kind == "annee" else year - 1)
        elif kind == "intervalle":
            first, last = data.get("du"), data.get("au")
            if not first or not last or first > last:
                raise forms.ValidationError(_("Indiquez une date de début et une date de fin, dans cet ordre."))
            if (last - first).days > LONGEST_RANGE_DAYS:
                raise forms.ValidationError(_("La période ne peut dépasser cinq ans."))
            data["period"] = Period.from_dates(first, last)
        return data

    def _month(self, text: str) -> Period:
        try:
            first = date.fromisoformat(f"{text}-01")
        except ValueError:
            raise forms.ValidationError(_("Indiquez le mois sous la forme AAAA-MM.")) from None
        return Period.month(first.year, first.month)


class IndicatorsForm(PeriodForm):
    """The period, and optionally one site (FINESS géographique) and one Ségur type: what the dashboard
    shows, what its CSV link downloads."""

    finess = forms.ChoiceField(label=_("Site (FINESS géographique)"), required=False)
    type = forms.ChoiceField(label=_("Type de document"), required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        sites = Site.objects.order_by("finess_eg").values_list("finess_eg", "name")
        self.fields["finess"].choices = [("", _("Tous les sites"))] + [(f, f"{f} – {name}") for f, name in sites]
        self.fields["type"].choices = [("", _("Tous les types")), *SEGUR_TYPE_CHOICES]

"""Forms of the foundation's pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dpi.models import NoticeAcknowledgement


class NoticeAcknowledgementForm(forms.Form):
    """The mandatory box under the notice, and the version the user was shown."""

    # The error is shown by the server, the same in every browser and read by screen readers.
    use_required_attribute = False

    notice = forms.CharField(widget=forms.HiddenInput)
    acknowledged = forms.BooleanField(
        label=_("J'ai pris connaissance de cette information sur l'utilisation de mon identifiant national."),
        error_messages={
            "required": _("Cochez la case « J'ai pris connaissance… » pour continuer : elle est obligatoire."),
        },
    )

    def clean_notice(self) -> str:
        notice = self.cleaned_data["notice"]
        if notice != NoticeAcknowledgement.CURRENT:
            raise forms.ValidationError(
                _("Cette information vient d'être mise à jour : lisez sa nouvelle version ci-dessus, puis confirmez.")
            )
        return notice

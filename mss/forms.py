from django import forms
from django.utils.translation import gettext_lazy as _

from mss.xdm import MAX_ARCHIVE_BYTES


class XdmUploadForm(forms.Form):
    archive = forms.FileField(
        label=_("Archive IHE_XDM reçue par MSSanté (.zip)"),
        help_text=_("Le fichier IHE_XDM.zip joint au courriel : seuls les documents CDA sont extraits."),
    )

    def clean_archive(self) -> bytes:
        upload = self.cleaned_data["archive"]
        if upload.size > MAX_ARCHIVE_BYTES:
            raise forms.ValidationError(
                _("Archive trop volumineuse (%(max)d octets au plus).") % {"max": MAX_ARCHIVE_BYTES}
            )
        self.archive_name = upload.name
        return upload.read()


class ImportConfirmForm(forms.Form):
    patient = forms.IntegerField(widget=forms.HiddenInput)
    accept_identity_differences = forms.BooleanField(
        label=_("J'ai vérifié : le document concerne bien ce patient malgré les différences d'identité"),
        required=False,
    )

"""The writing form of a Ségur document: title, act date, one field per structured section, options."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from documents.models import Document
from documents.services import FLAGS, Recipients
from documents.types import SegurType
from dpi.xmlsafe import DEFAULT_MAX_BYTES as MAX_IMPORT_BYTES
from dpi.xmlsafe import InvalidXML, parse_xml


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("Titre"), max_length=250)
    act_date = forms.DateTimeField(
        label=_("Date de l'acte"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    hold_sending = forms.BooleanField(
        label=_("Bloquer l'envoi de ce document (DMP et MSSanté)"),
        required=False,
        help_text=_("Exceptionnel : l'envoi est sinon automatique après validation."),
    )
    masked_to_professionals = forms.BooleanField(label=_("Masqué aux professionnels dans le DMP"), required=False)
    invisible_to_patient = forms.BooleanField(label=_("Invisible pour le patient"), required=False)
    invisible_to_legal_representatives = forms.BooleanField(
        label=_("Invisible pour les représentants légaux"), required=False
    )
    mss_recipients = forms.CharField(
        label=_("Destinataires MSSanté (professionnels)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Une adresse de messagerie sécurisée de santé par ligne."),
        max_length=5000,
    )
    mss_to_patient = forms.BooleanField(
        label=_("Envoyer au patient (messagerie de Mon espace santé)"),
        required=False,
        help_text=_("Nécessite un INS ; jamais si le document est invisible pour le patient."),
    )

    def __init__(self, *args: object, segur: SegurType, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.segur = segur
        for spec in segur.fields:
            help_text = (
                _("Une ligne par élément : %(columns)s, séparés par « ; ».") % {"columns": " ; ".join(spec.columns)}
                if spec.is_table
                else ""
            )
            # Required fields are checked at validation: a draft can be saved incomplete.
            if spec.is_choice:
                self.fields[spec.name] = forms.ChoiceField(
                    label=spec.label + (" *" if spec.required else ""),
                    required=False,
                    choices=[("", "—"), *spec.choices],
                )
                continue
            self.fields[spec.name] = forms.CharField(
                label=spec.label + (" *" if spec.required else ""),
                required=False,
                widget=forms.Textarea(attrs={"rows": 4}),
                help_text=help_text,
                max_length=20000,
            )

    @classmethod
    def initial_for(cls, document: Document) -> dict:
        return {
            "title": document.title,
            "act_date": timezone.localtime(document.act_date).replace(tzinfo=None),
            **{name: getattr(document, name) for name in FLAGS},
            "mss_recipients": "\n".join(document.mss_recipients),
            "mss_to_patient": document.mss_to_patient,
            **document.fields,
        }

    def draft_values(self) -> dict[str, Any]:
        """The arguments of create_draft/update_draft the form collected."""
        return {
            "title": self.cleaned_data["title"],
            "act_date": self.cleaned_data["act_date"],
            "fields": {spec.name: self.cleaned_data.get(spec.name, "") for spec in self.segur.fields},
            "flags": {name: self.cleaned_data[name] for name in FLAGS},
            "recipients": Recipients(self.cleaned_data["mss_recipients"], self.cleaned_data["mss_to_patient"]),
        }

    def clean_mss_recipients(self) -> tuple[str, ...]:
        addresses = tuple(line.strip().lower() for line in self.cleaned_data["mss_recipients"].splitlines())
        addresses = tuple(address for address in addresses if address)
        bad = [address for address in addresses if not _is_email(address)]
        if bad:
            raise forms.ValidationError(_("Adresse invalide : %(addresses)s") % {"addresses": ", ".join(bad)})
        return addresses


class ImportForm(forms.Form):
    """A CDA file received outside the DPI (mail, CD, another software), with its producer's stylesheet."""

    cda = forms.FileField(label=_("Document CDA (XML)"))
    stylesheet = forms.FileField(label=_("Feuille de style du producteur (XSL, facultative)"), required=False)
    accept_identity_differences = forms.BooleanField(
        label=_("Importer malgré les différences d'identité signalées"), required=False
    )

    def clean_cda(self) -> bytes:
        return _read_limited(self.cleaned_data["cda"])

    def clean_stylesheet(self) -> bytes:
        upload = self.cleaned_data.get("stylesheet")
        if not upload:
            return b""
        data = _read_limited(upload)
        try:
            parse_xml(data)
        except InvalidXML as exc:
            raise forms.ValidationError(_("Feuille de style illisible : %(reason)s") % {"reason": exc}) from exc
        return data


def _is_email(address: str) -> bool:
    try:
        validate_email(address)
    except forms.ValidationError:
        return False
    return True


def _read_limited(upload: UploadedFile) -> bytes:
    if upload.size > MAX_IMPORT_BYTES:
        raise forms.ValidationError(
            _("Fichier trop volumineux (%(size)d octets, %(max)d au plus).")
            % {"size": upload.size, "max": MAX_IMPORT_BYTES}
        )
    return upload.read()

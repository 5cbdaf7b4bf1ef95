"""The writing form of a Ségur document: title, act date, one field per structured section, options."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from directory.models import Correspondent
from directory.selectors import patient_correspondents
from documents.models import Document
from documents.received_files import MAX_FILE_BYTES, check_pdf
from documents.recipients import chosen_ids, recipient_addresses
from documents.services import FLAGS, Recipients
from documents.types import SEGUR_TYPE_CHOICES, SegurType
from dpi.validators import is_database_id
from dpi.xmlsafe import DEFAULT_MAX_BYTES as MAX_IMPORT_BYTES
from dpi.xmlsafe import InvalidXML, parse_xml
from patients.models import Patient


class RecipientsForm(forms.Form):
    """The recipients box (HOP/va1.05): correspondents (the patient's planned first), other addresses, the
    patient's mailbox and whether they may reply. Used to write a document and to send one later."""

    correspondents = forms.ModelMultipleChoiceField(
        label=_("Destinataires prévus"), queryset=Correspondent.objects.none(), required=False
    )
    mss_recipients = forms.CharField(
        label=_("Autres adresses MSSanté (professionnels)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Une adresse de messagerie sécurisée de santé par ligne : envoyée, non nommée dans le document."),
        max_length=5000,
    )
    mss_to_patient = forms.BooleanField(
        label=_("Envoyer au patient (messagerie de Mon espace santé)"),
        required=False,
        help_text=_("Nécessite un INS ; jamais si le document est invisible pour le patient."),
    )
    patient_may_reply = forms.BooleanField(
        label=_("Le patient peut répondre à ce message"),
        required=False,
        help_text=_("Sinon sa messagerie de Mon espace santé ne lui permet pas de répondre (défaut du type)."),
    )

    RECIPIENT_FIELDS = ("correspondents", "mss_recipients", "mss_to_patient", "patient_may_reply")

    def __init__(self, *args: object, patient: Patient, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.patient = patient
        self._init_correspondents(patient)
        if patient.refuses_patient_mailbox_since:  # MSS/va1.20: never on that channel
            self.fields["mss_to_patient"].disabled = True
            self.fields["mss_to_patient"].help_text = _(
                "Le patient a refusé l'envoi dans sa messagerie de Mon espace santé (recueilli le %(date)s)."
            ) % {"date": timezone.localtime(patient.refuses_patient_mailbox_since).strftime("%d/%m/%Y")}

    def _init_correspondents(self, patient: Patient) -> None:
        """Correspondents already chosen stay acceptable when deactivated since; new ones must be active."""
        chosen = [int(pk) for pk in self.initial.get("correspondents", ())]
        field = self.fields["correspondents"]
        field.queryset = Correspondent.objects.filter(Q(active=True) | Q(pk__in=chosen))
        checked = set(self.data.getlist("correspondents") if self.is_bound else map(str, chosen))
        roles = {link.correspondent_id: link.get_role_display() for link in patient_correspondents(patient)}
        shown = [*chosen, *(pk for pk in roles if pk not in chosen)]
        posted = [int(pk) for pk in checked if is_database_id(pk) and int(pk) not in shown]
        by_id = field.queryset.in_bulk([*shown, *posted])
        self.recipient_rows = [
            (by_id[pk], roles.get(pk, ""), str(pk) in checked) for pk in [*shown, *posted] if pk in by_id
        ]

    def recipients(self) -> Recipients:
        return Recipients(
            self.cleaned_data["mss_recipients"],
            self.cleaned_data["mss_to_patient"],
            tuple(self.cleaned_data["correspondents"]),
            self.cleaned_data["patient_may_reply"],
        )

    def clean_mss_recipients(self) -> tuple[str, ...]:
        addresses = tuple(line.strip().lower() for line in self.cleaned_data["mss_recipients"].splitlines())
        addresses = tuple(address for address in addresses if address)
        bad = [address for address in addresses if not _is_email(address)]
        if bad:
            raise forms.ValidationError(_("Adresse invalide : %(addresses)s") % {"addresses": ", ".join(bad)})
        return addresses


class DocumentForm(RecipientsForm):
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

    def __init__(self, *args: object, segur: SegurType, patient: Patient, **kwargs: object) -> None:
        super().__init__(*args, patient=patient, **kwargs)
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

    @property
    def content_fields(self) -> list[forms.BoundField]:
        """Every field but the recipients, which the page shows in their own box."""
        return [field for field in self if field.name not in self.RECIPIENT_FIELDS]

    @classmethod
    def initial_for(cls, document: Document) -> dict:
        named = recipient_addresses(document)
        return {
            "title": document.title,
            "act_date": timezone.localtime(document.act_date).replace(tzinfo=None),
            **{name: getattr(document, name) for name in FLAGS},
            "correspondents": chosen_ids(document),
            "mss_recipients": "\n".join(a for a in document.mss_recipients if a not in named),
            "mss_to_patient": document.mss_to_patient,
            "patient_may_reply": document.patient_may_reply,
            **document.fields,
        }

    def draft_values(self) -> dict[str, Any]:
        """The arguments of create_draft/update_draft the form collected."""
        return {
            "title": self.cleaned_data["title"],
            "act_date": self.cleaned_data["act_date"],
            "fields": {spec.name: self.cleaned_data.get(spec.name, "") for spec in self.segur.fields},
            "flags": {name: self.cleaned_data[name] for name in FLAGS},
            "recipients": self.recipients(),
        }


class FileImportForm(forms.Form):
    """A received PDF that is not a CDA (a letter mailed by MSSanté, a scan), filed by hand."""

    file = forms.FileField(label=_("Document PDF"))
    title = forms.CharField(label=_("Titre"), max_length=250)
    type_code = forms.ChoiceField(label=_("Type de document"), choices=SEGUR_TYPE_CHOICES)
    received_by_mss = forms.BooleanField(label=_("Reçu par MSSanté"), required=False, initial=True)

    def clean_file(self) -> bytes:
        data = _read_limited(self.cleaned_data["file"], MAX_FILE_BYTES)
        check_pdf(data)
        return data


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


def _read_limited(upload: UploadedFile, limit: int = MAX_IMPORT_BYTES) -> bytes:
    """The upload's bytes, refused beyond ``limit`` before they are read."""
    if upload.size > limit:
        raise forms.ValidationError(
            _("Fichier trop volumineux (%(size)d octets, %(max)d au plus).") % {"size": upload.size, "max": limit}
        )
    return upload.read()

from django import forms

from consent.models import State, Subject

BOTH = "both"


class ConsentForm(forms.Form):
    """One click: a subject (or both) and the state the patient expressed."""

    subject = forms.ChoiceField(choices=[*Subject.choices, (BOTH, "les deux")])
    state = forms.ChoiceField(choices=State.choices)

    def subjects(self) -> list[str]:
        subject = self.cleaned_data["subject"]
        return list(Subject.values) if subject == BOTH else [subject]


class PatientMailboxForm(forms.Form):
    """The patient refuses ("1") or accepts again ("0") sendings to their Mon espace santé mailbox."""

    refuses = forms.TypedChoiceField(choices=[("1", "refuse"), ("0", "accepte")], coerce=lambda value: value == "1")

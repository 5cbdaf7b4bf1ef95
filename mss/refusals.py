"""Why an inbound MSSanté document is refused: the ERR segment of the ACK the PFI turns into an MDN."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dpi.hl7.errors import ApplicationError, ErrorCode, ErrorDetail

if TYPE_CHECKING:
    from patients.models import Patient

# Spec 4.6: ERR-5 codes and labels, kept exactly as the volet writes them.
APPLICATION_ERRORS = {
    "900": "Version du document incorrecte lors d'une demande de remplacement/suppression",
    "901": "Auteur non autorisé à remplacer ou supprimer un document",
    "902": "Identifiant patient inconnu",
    "903": "INS non présent dans le document",
    "904": "L'INS transmis ne correspond pas exactement à celui stocké dans la base du consommateur",
    "905": "L'INS transmis n'est pas complet",
    "906": "Erreur 'Autre'",
}


class Refusal(Exception):
    """A refused request: ``detail`` is the ERR segment; ``patient`` the local identity when one was found."""

    def __init__(self, detail: ErrorDetail, patient: Patient | None = None, private: str = "") -> None:
        super().__init__(detail.text)
        self.detail = detail
        self.patient = patient
        self.private = private

    @classmethod
    def application(
        cls, code: str, text: str, location: str = "", *, patient: Patient | None = None, private: str = ""
    ) -> Refusal:
        """An applicative error: ERR-3 207 and ERR-5 ``code^label^applicationErrorCode``.

        ``text`` goes back to the sender (ERR-8, then the MDN): never the local identity's values;
        ``private`` (kept in the trace only) may show them.
        """
        detail = ErrorDetail(
            code=str(int(ErrorCode.APPLICATION_ERROR)),
            text=text,
            location=location,
            application_error=ApplicationError(code, APPLICATION_ERRORS[code]),
        )
        return cls(detail, patient, private)

    @classmethod
    def technical(cls, code: int, text: str, location: str = "") -> Refusal:
        """A message the volet does not allow: the precise table 0357 code in ERR-3, ERR-5 empty."""
        return cls(ErrorDetail(code=str(int(code)), text=text, location=location))

    @property
    def code(self) -> str:
        """The code shown in traces: the 90x application code, else the table 0357 code."""
        error = self.detail.application_error
        return error.code if error else self.detail.code

"""Typed errors of the DMP clients, each with a French message for the user.

A :class:`DmpError` is a :class:`dpi.integrations.TransportError`: ``permanent`` says whether
asking again could help (a refusal of the DMP: no; a timeout: yes). ``code`` is the DMP's own
fault code, kept in the traces; ``detail`` is the DMP's own reason text (or the technical cause),
for the traces too: the user reads ``str(error)``, the DPI's message for that code.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from dpi.integrations import TransportError


class DmpError(TransportError):
    """A DMP transaction failed."""

    def __init__(self, text: str, *, permanent: bool, code: str = "", detail: str = "") -> None:
        super().__init__(text, permanent=permanent, code=code)
        self.detail = detail


class DmpUnavailable(DmpError):
    """Transient: connection refused or reset, TLS failure, timeout, HTTP 5xx without a SOAP fault."""

    def __init__(self, text: str, *, code: str = "", detail: str = "") -> None:
        super().__init__(text, permanent=False, code=code, detail=detail)


class DmpRefused(DmpError):
    """Permanent: the DMP answered a SOAP fault or an XDS error (no DMP, closed, not authorised,
    professional blocked by the patient, bad signature, bad INS, bad request...)."""

    def __init__(self, text: str, *, code: str, detail: str = "") -> None:
        super().__init__(text, permanent=True, code=code, detail=detail)


class DmpProtocolError(DmpError):
    """Permanent: the answer cannot be read (not SOAP, not the expected message, broken MTOM)."""

    def __init__(self, text: str, *, detail: str = "") -> None:
        super().__init__(text, permanent=True, code="protocol", detail=detail)


class DmpConfigurationError(DmpError):
    """Permanent: this installation cannot talk to the DMP (certificate or key missing or unreadable)."""

    def __init__(self, text: str, *, detail: str = "") -> None:
        super().__init__(text, permanent=True, code="configuration", detail=detail)


# What the user reads for each code the DMP may answer: SOAP fault subcodes (docs/dmp-protocol.md §4)
# and XDS registry error codes (§6-8). The DMP's own text stays in ``detail``.
MESSAGES = {
    "wsse:InvalidSecurity": _("Le DMP n'a pas pu lire l'identification de l'utilisateur jointe à la demande."),
    "wsse:FailedCheck": _(
        "Le DMP n'a pas reconnu la signature de l'établissement : certificat invalide ou non reconnu."
    ),
    "dmp:VIHFExpired": _(
        "Le DMP a refusé la demande : l'identification de l'utilisateur a expiré ou l'horloge du serveur du DPI "
        "est décalée."
    ),
    "dmp:VIHFInvalid": _(
        "Le DMP a refusé l'identification de l'utilisateur : une information obligatoire est absente ou erronée "
        "(profession, spécialité, structure)."
    ),
    "dmp:VIHFGenericAccount": _(
        "Le DMP n'accepte que des professionnels identifiés personnellement (RPPS ou ADELI), jamais un compte "
        "générique."
    ),
    "dmp:AuthenticationModeRefused": _(
        "Le DMP exige que l'utilisateur se soit connecté avec une authentification à deux facteurs."
    ),
    "dmp:InvalidINS": _("Le DMP a refusé l'INS du patient (matricule, clé ou type d'identifiant invalide)."),
    "dmp:PatientMismatch": _("La demande ne concerne pas le patient pour lequel l'accès au DMP a été demandé."),
    "dmp:DMPNotFound": _("Ce patient n'a pas de DMP."),
    "dmp:DMPClosed": _("Le DMP de ce patient est fermé."),
    "dmp:AccessNotAuthorized": _("Vous n'avez pas d'autorisation d'accès valide au DMP de ce patient."),
    "dmp:ProfessionalBlocked": _("Le patient a bloqué votre accès à son DMP."),
    "dmp:RequestTooLarge": _("La demande envoyée au DMP est trop volumineuse."),
    "dmp:MalformedRequest": _("Le DMP n'a pas pu lire la demande du DPI."),
    "dmp:ServiceUnavailable": _("Le DMP est momentanément indisponible. Réessayez dans quelques minutes."),
    "wsa:ActionNotSupported": _(
        "Le DMP ne reconnaît pas cette transaction : l'adresse du service DMP est sans doute mal configurée."
    ),
    "XDSStoredQueryParamNumber": _("La recherche envoyée au DMP est incomplète ou contradictoire."),
    "XDSRegistryError": _("Le DMP n'a pas pu traiter la recherche."),
    "XDSDocumentUniqueIdError": _(
        "Ce document n'est pas ou plus accessible dans le DMP (supprimé, masqué ou inconnu)."
    ),
    "XDSUnknownRepositoryId": _("L'entrepôt de documents indiqué est inconnu du DMP."),
    "XDSMetadataVersionError": _(
        "Le document a été modifié entre-temps dans le DMP : rechargez la liste puis recommencez."
    ),
    "XDSMetadataUpdateError": _("Le DMP a refusé la modification de ce document."),
    "XDSPatientIdDoesNotMatch": _("Ce document n'appartient pas au DMP de ce patient."),
}
UNKNOWN_REFUSAL = _("Le DMP a refusé la demande (code %(code)s).")
UNAVAILABLE = _("Le DMP ne répond pas pour le moment. Réessayez dans quelques minutes.")
UNREADABLE = _("La réponse du DMP est illisible ; l'incident a été enregistré.")


def message_for(code: str) -> str:
    """The French message the user reads for a DMP fault or registry error code."""
    message = MESSAGES.get(code)
    return str(message) if message is not None else str(UNKNOWN_REFUSAL) % {"code": code}


def refused(code: str, detail: str = "") -> DmpRefused:
    """A refusal of the DMP for ``code``, with the DMP's own reason kept in ``detail``."""
    return DmpRefused(message_for(code), code=code, detail=detail)


def unavailable(detail: str, *, code: str = "") -> DmpUnavailable:
    """The DMP could not be reached or is overloaded (transient)."""
    message = message_for(code) if code in MESSAGES else str(UNAVAILABLE)
    return DmpUnavailable(message, code=code, detail=detail)


def unreadable(detail: str) -> DmpProtocolError:
    """The answer could not be read; ``detail`` says why, for the traces."""
    return DmpProtocolError(str(UNREADABLE), detail=detail)

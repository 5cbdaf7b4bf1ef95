"""What the simulator checks MDMs against and answers with: the volet's events, metadata, error codes."""

from __future__ import annotations

APPLICATION = "PFI"
FACILITY = "SANDBOX"
VERSION = "2.6"
PROFILE = "2.1^CISIS_CDA_HL7_V2"
CHARSET = "UNICODE UTF-8"
POLL_SECONDS = 0.2
PATIENT_MAIL_DOMAIN = "patient.mssante.fr"
PS_OID = "1.2.250.1.71.4.2.1"  # national identifiers of professionals (ASIP-SANTE-PS)
INS_OIDS = ("1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11")
VISIT_CLASSES = ("E", "I", "O", "R")  # PV1-2 values whose message must carry the visit (PV1-19)
ASSIGNING_ID_TYPES = ("ISO", "M", "N", "L")  # HD-3 in PAM.fr: OID, FINESS EJ, FINESS EG, local

# Trigger -> (ORC-1, OBX-11 of the document OBX) the volet requires (section 3.1).
EVENTS = {"T02": ("NW", "F"), "T10": ("RO", "C"), "T04": ("CA", "D")}

# The DMP/MSSanté metadata OBX, in the order the volet imposes (section 3.7); the first eight are
# required, ACK_RECEPTION and ACK_LECTURE_MSS default to N, the mail bodies are optional.
METADATA_CODES = (
    "MASQUE_PS",
    "INVISIBLE_PATIENT",
    "INVISIBLE_REP_LEGAUX",
    "CONNEXION_SECRETE",
    "MODIF_CONF_CODE",
    "DESTDMP",
    "DESTMSSANTEPS",
    "DESTMSSANTEPAT",
    "ACK_RECEPTION",
    "ACK_LECTURE_MSS",
    "CORPSMAIL_PS",
    "CORPSMAIL_PATIENT",
)
REQUIRED_METADATA = METADATA_CODES[:8]
TEXT_METADATA = ("CORPSMAIL_PS", "CORPSMAIL_PATIENT")

# Errors the simulated services report in the ZAM ERR-5 (section 3.10).
DMP_ERROR = ("DMPClosed", "DMP fermé", "DMP_ERROR_CODE")
SMTP_ERROR = ("550", "Mailbox unavailable", "SMTPERRORCODE")

"""The sandbox's models, one module per simulator, all re-exported here (``from sandbox.models import ...``)."""

from sandbox.models.dmp import (
    DmpAssociation,
    DmpAuthorisation,
    DmpBehaviour,
    DmpCall,
    DmpDocument,
    DmpSubmissionSet,
    PatientDmp,
)
from sandbox.models.pfi import PfiBehaviour, PfiMessage, PfiZam

__all__ = [
    "DmpAssociation",
    "DmpAuthorisation",
    "DmpBehaviour",
    "DmpCall",
    "DmpDocument",
    "DmpSubmissionSet",
    "PatientDmp",
    "PfiBehaviour",
    "PfiMessage",
    "PfiZam",
]

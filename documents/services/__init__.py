"""Write use cases on documents, one module per use: ``writing`` (drafts, validation as PDF/A + CDA R2,
correction, deletion), ``integration`` (a CDA received from outside: manual import, the DMP, MSSanté),
``visibility`` (the DMP visibility the DMP reports). Callers import from ``documents.services``."""

from documents.services.integration import (
    IdentityComparison,
    Integration,
    compare_identity,
    identity_differences,
    integrate_cda,
)
from documents.services.visibility import record_dmp_visibility
from documents.services.writing import (
    FLAGS,
    Recipients,
    audit_document,
    create_draft,
    delete_document,
    produced_level,
    start_correction,
    update_draft,
    validate_document,
)

__all__ = [
    "FLAGS",
    "IdentityComparison",
    "Integration",
    "Recipients",
    "audit_document",
    "compare_identity",
    "create_draft",
    "delete_document",
    "identity_differences",
    "integrate_cda",
    "produced_level",
    "record_dmp_visibility",
    "start_correction",
    "update_draft",
    "validate_document",
]

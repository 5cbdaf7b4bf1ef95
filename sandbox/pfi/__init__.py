"""Simulated intermediation platform (PFI): the MLLP peer the DPI sends its documents to.

It receives MDM^T02/T10/T04 (CI-SIS volet *Transmission de document(s) CDA en HL7v2* v2.1),
checks them against the rules of the volet, answers a technical ACK, records what it understood
(:class:`sandbox.models.PfiMessage`), then sends the business acknowledgements the message asked
for (ZAM^Z01 DMP receipt, ZAM^Z02 MSSanté delivery, ZAM^Z03 MSSanté read, one per recipient) to
the DPI's own listener, correlated by OBX-4 = MSH-10 of the MDM. A document accepted for the DMP
(DESTDMP=Y) is filed in the sandbox DMP (:mod:`sandbox.dmp.feeding`). How it answers is set in the
admin (:class:`sandbox.models.PfiBehaviour`), so a demo user can make it fail.

One module per use: ``reading`` (the MDM and its conformance), ``replies`` (ACK, ZAM), ``storage`` (the
simulator's database thread), ``simulator`` (the server); ``common`` holds the volet's constants.
"""

from sandbox.pfi.reading import Mdm, Problem, Recipient, conformance_problems, read_mdm
from sandbox.pfi.replies import PlannedZam, build_ack, build_zam, plan_zams
from sandbox.pfi.simulator import PfiSimulator, start_pfi_in_thread

__all__ = [
    "Mdm",
    "PfiSimulator",
    "PlannedZam",
    "Problem",
    "Recipient",
    "build_ack",
    "build_zam",
    "conformance_problems",
    "plan_zams",
    "read_mdm",
    "start_pfi_in_thread",
]

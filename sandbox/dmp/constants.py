"""Names and codes of the DMP contract (``docs/dmp-protocol.md``): namespaces, actions, XDS identifiers."""

from __future__ import annotations

NS = {
    "env": "http://www.w3.org/2003/05/soap-envelope",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "query": "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0",
    "rim": "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0",
    "rs": "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0",
    "lcm": "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0",
    "xdsb": "urn:ihe:iti:xds-b:2007",
    "xop": "http://www.w3.org/2004/08/xop/include",
    "hl7": "urn:hl7-org:v3",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "dmp": "urn:dpi-segur:dmp:patients:1",  # [assumed] element names of TD0.2/TD0.3
}


def qname(prefix: str, local: str) -> str:
    """``{namespace}local`` for lxml."""
    return f"{{{NS[prefix]}}}{local}"


MAX_REQUEST_BYTES = 10 * 1024 * 1024
PATH_PREFIX = "/si-dmp-server/v2/services/"
REPOSITORY_UNIQUE_ID = "1.2.250.1.213.1.1.9.2"
ANONYMOUS = "http://www.w3.org/2005/08/addressing/anonymous"

# wsa:Action of each transaction, per endpoint: request -> (transaction label, response action)
ACTIONS: dict[str, dict[str, tuple[str, str]]] = {
    "patients": {
        "urn:dpi-segur:dmp:TD0.2": ("TD0.2", "urn:dpi-segur:dmp:TD0.2Response"),
        "urn:dpi-segur:dmp:TD0.3": ("TD0.3", "urn:dpi-segur:dmp:TD0.3Response"),
    },
    "registry": {
        "urn:ihe:iti:2007:RegistryStoredQuery": ("ITI-18", "urn:ihe:iti:2007:RegistryStoredQueryResponse"),
        "urn:ihe:iti:2010:UpdateDocumentSet": ("ITI-57", "urn:ihe:iti:2010:UpdateDocumentSetResponse"),
    },
    "repository": {
        "urn:ihe:iti:2007:RetrieveDocumentSet": ("ITI-43", "urn:ihe:iti:2007:RetrieveDocumentSetResponse"),
    },
}

# ebRS statuses
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
PARTIAL_SUCCESS = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
SEVERITY_ERROR = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"

# XDS object types and identification schemes (IHE ITI TF-3 §4.2.5)
DOCUMENT_ENTRY_TYPE = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
SUBMISSION_SET_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
CLASS_CODE = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
CONFIDENTIALITY_CODE = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
EVENT_CODE = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4"
FORMAT_CODE = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
FACILITY_TYPE_CODE = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
PRACTICE_SETTING_CODE = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
TYPE_CODE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
DOCUMENT_AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
DOCUMENT_PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
DOCUMENT_UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
SUBMISSION_AUTHOR = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d"
CONTENT_TYPE_CODE = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
SUBMISSION_UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
SUBMISSION_SOURCE_ID = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
SUBMISSION_PATIENT_ID = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"

# Code systems
LOINC = "2.16.840.1.113883.6.1"
CLASS_SYSTEM = "1.2.250.1.213.1.1.4.1"  # TRE_A03
HL7_CONFIDENTIALITY = "2.16.840.1.113883.5.25"
VISIBILITY_SYSTEM = "1.2.250.1.213.1.1.4.13"  # TRE_A07
VISIBILITY_CODES = ("MASQUE_PS", "INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX")
PRACTICE_SETTING_SYSTEM = "1.2.250.1.213.1.1.4.9"
FACILITY_TYPE_SYSTEM = "1.2.250.1.71.4.2.4"
CONTENT_TYPE_SYSTEM = "1.2.250.1.213.2.2"
SPECIALTY_SYSTEM = "1.2.250.1.213.1.1.4.5"
PROFESSIONAL_ID_ROOT = "1.2.250.1.71.4.2.1"
STUDY_REFERENCE = "urn:ihe:iti:xds:2016:studyInstanceUID"

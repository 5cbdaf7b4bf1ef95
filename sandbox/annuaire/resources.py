"""The FHIR R4 resources of the sandbox Annuaire Santé, built from the same people as the extract.

Practitioner (the person: RPPS, names, profession and specialty, the personal PER mailbox), PractitionerRole
(one per activity, with a PER mailbox tied to the structure for the second activity), Organization (one
per structure: FINESS or SIRET, address, an ORG mailbox, an APP mailbox for hospitals, and a plain
contact e-mail that is not an MSSanté box), shaped as the API v2 serves them (docs/annuaire.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.annuaire.people import Person, Structure, person

MAILBOX_EXTENSION = "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata"
MAILBOX_TYPE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R257-TypeBAL/FHIR/TRE-R257-TypeBAL"
EMAIL_TYPE_EXTENSION = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-contact-point-email-type"
EMAIL_TYPE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R256-TypeMessagerie/FHIR/TRE-R256-TypeMessagerie"
IDNPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
IDNST_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
RPPS_SYSTEM = "https://rpps.esante.gouv.fr"
FINESS_SYSTEM = "https://finess.esante.gouv.fr"
PROFESSION_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
SPECIALTY_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
ROLE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R21-Fonction/FHIR/TRE-R21-Fonction"


@dataclass
class Directory:
    """Every resource of the sandbox directory, by type, in a stable order."""

    practitioners: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    organizations: dict[str, dict[str, Any]] = field(default_factory=dict)
    index: dict[str, dict[str, Any]] = field(default_factory=dict)  # "Type/id" -> resource

    def by_type(self, resource_type: str) -> list[dict[str, Any]]:
        return {
            "Practitioner": self.practitioners,
            "PractitionerRole": self.roles,
            "Organization": list(self.organizations.values()),
        }[resource_type]


def build_directory(people: int, seed: int = 0) -> Directory:
    """The resources of the first ``people`` persons of the sandbox under ``seed``."""
    directory = Directory()
    for index in range(people):
        someone = person(index, seed)
        directory.practitioners.append(practitioner(someone))
        for number, activity in enumerate(someone.activities):
            place = activity.structure
            directory.organizations.setdefault(f"org-{place.index}", organization(place))
            directory.roles.append(role(someone, number))
    for resource in (*directory.practitioners, *directory.roles, *directory.organizations.values()):
        directory.index[f"{resource['resourceType']}/{resource['id']}"] = resource
    return directory


def mailbox(address: str, kind: str, description: str = "") -> dict[str, Any]:
    """An MSSanté mailbox in ``telecom``: the mailbox metadata and the MSSANTE e-mail type."""
    metadata: list[dict[str, Any]] = [
        {"url": "type", "valueCodeableConcept": {"coding": [{"system": MAILBOX_TYPE_SYSTEM, "code": kind}]}}
    ]
    if description:
        metadata.append({"url": "description", "valueString": description})
    return {
        "extension": [
            {"url": MAILBOX_EXTENSION, "extension": metadata},
            {"url": EMAIL_TYPE_EXTENSION, "valueCoding": {"system": EMAIL_TYPE_SYSTEM, "code": "MSSANTE"}},
        ],
        "system": "email",
        "value": address,
    }


def practitioner(someone: Person) -> dict[str, Any]:
    code, label, _category, specialty = someone.profession
    qualifications = [{"code": {"coding": [{"system": PROFESSION_SYSTEM, "code": code, "display": label}]}}]
    if specialty:
        qualifications.append(
            {"code": {"coding": [{"system": SPECIALTY_SYSTEM, "code": specialty[0], "display": specialty[1]}]}}
        )
    name: dict[str, Any] = {"family": someone.family_name, "given": [someone.given_name]}
    if someone.title:
        name["prefix"] = [someone.title]
    return {
        "resourceType": "Practitioner",
        "id": f"pra-{someone.rpps}",
        "meta": {"profile": ["https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-dp-practitioner"]},
        "identifier": [
            {"system": IDNPS_SYSTEM, "value": someone.national_id, "type": {"coding": [{"code": "IDNPS"}]}},
            {"system": RPPS_SYSTEM, "value": someone.rpps, "type": {"coding": [{"code": "RPPS"}]}},
        ],
        "active": True,
        "name": [name],
        "telecom": [mailbox(someone.mss_address, "PER")],
        "qualification": qualifications,
    }


def role(someone: Person, number: int) -> dict[str, Any]:
    activity = someone.activities[number]
    place = activity.structure
    resource: dict[str, Any] = {
        "resourceType": "PractitionerRole",
        "id": f"role-{someone.rpps}-{number}",
        "active": True,
        "practitioner": {"reference": f"Practitioner/pra-{someone.rpps}"},
        "organization": {"reference": f"Organization/org-{place.index}"},
        "code": [{"coding": [{"system": ROLE_SYSTEM, "code": activity.role[0], "display": activity.role[1]}]}],
    }
    if number:  # the second activity has its own box in the structure's domain
        local = f"{someone.given_name.lower()}.{someone.family_name.lower()}"
        resource["telecom"] = [mailbox(f"{local}@{place.mss_domain}", "PER")]
    return resource


def organization(place: Structure) -> dict[str, Any]:
    identifiers = [{"system": IDNST_SYSTEM, "value": place.technical_id, "type": {"coding": [{"code": "IDNST"}]}}]
    if place.finess_site:
        identifiers.append(
            {"system": FINESS_SYSTEM, "value": place.finess_site, "type": {"coding": [{"code": "FINEG"}]}}
        )
    telecom = [mailbox(f"secretariat@{place.mss_domain}", "ORG", "Secrétariat")]
    if place.finess_site:
        telecom.append(mailbox(f"dpi@{place.mss_domain}", "APP", "Logiciel de dossier patient"))
    telecom.append({"system": "email", "value": f"contact@{place.mss_domain.replace('.mssante.fr', '.fr')}"})
    town = place.town
    street = f"{place.street_number} {place.street[1]} {place.street[2]}"
    return {
        "resourceType": "Organization",
        "id": f"org-{place.index}",
        "identifier": identifiers,
        "active": True,
        "name": place.name,
        "telecom": telecom,
        "address": [{"line": [street], "postalCode": town[1], "city": town[2], "country": "FR"}],
    }

"""Clients of the external services the directory talks to (the Annuaire Santé FHIR API)."""

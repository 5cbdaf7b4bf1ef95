"""Write use cases of the directory: a patient's correspondents, the national directory's loads."""

from directory.services.correspondents import name_patient_correspondent, remove_patient_correspondent

__all__ = ["name_patient_correspondent", "remove_patient_correspondent"]

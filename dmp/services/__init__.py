"""Write use cases of the DMP app, one module per use case: ``feeding`` (orders through the PFI),
``consultation`` (reading the patient's DMP from the file, AIR simplifié)."""

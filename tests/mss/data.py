"""The MSSanté tests' mailbox and the national identifier of their qualified patient."""

MAILBOX = "dpi@hopital.mssante.fr"
NIR = "279035121518989"
NIR_OID = "1.2.250.1.213.1.4.8"
TEST_OID = "1.2.250.1.213.1.4.10"

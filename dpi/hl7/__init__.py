"""HL7 v2 engine: MLLP listener and client, message journal, handler registry, ACKs."""

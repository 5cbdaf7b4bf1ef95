"""The sandbox Annuaire Santé server's API key and size in the directory tests."""

KEY = "cle-de-test"
PEOPLE = 300

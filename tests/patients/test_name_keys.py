"""The search keys of the names (patients/names.py) follow every write of a name, the migration fills
those of the identities already there, and PostgreSQL serves the prefix searches from their indexes."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import F

from patients.models import Patient
from patients.names import name_key
from patients.selectors import filter_identities
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Lefèbvre", "LEFEBVRE"),
        ("D'ARC", "DARC"),
        ("d’Arc", "DARC"),
        ("JEAN-PIERRE", "JEANPIERRE"),
        ("jean  pierre", "JEANPIERRE"),
        ("GARCÍA", "GARCIA"),
        ("Œillet", "OEILLET"),
        ("Straße", "STRASSE"),
        ("Łukasz", "LUKASZ"),
        ("Ñúñez", "NUNEZ"),
        ("", ""),
    ],
)
def test_a_key_keeps_letters_and_digits_without_marks_in_capitals(name, key):
    assert name_key(name) == key


def keys(patient: Patient) -> tuple[str, str, str, str]:
    patient.refresh_from_db()
    return patient.birth_name_key, patient.used_name_key, patient.first_names_key, patient.first_name_key


def test_save_sets_the_keys_even_with_update_fields():
    patient = PatientFactory(birth_name="D'ARC", used_name="Lévêque", first_names="JEAN-PIERRE MARIE")
    assert keys(patient) == ("DARC", "LEVEQUE", "JEANPIERREMARIE", "JEANPIERRE")
    patient.birth_name = "Hélène"
    patient.save(update_fields=["birth_name"])
    assert keys(patient)[0] == "HELENE"


def test_bulk_writes_set_the_keys_and_an_update_by_expression_is_refused():
    (created,) = Patient.objects.bulk_create([Patient(ipp="B1", birth_name="GARCÍA", first_names="LUCÍA")])
    assert keys(created) == ("GARCIA", "", "LUCIA", "LUCIA")
    created.first_names = "ANDRÉ"
    Patient.objects.bulk_update([created], ["first_names"])
    assert keys(created)[2:] == ("ANDRE", "ANDRE")
    Patient.objects.filter(pk=created.pk).update(used_name="Ñúñez")
    assert keys(created)[1] == "NUNEZ"
    with pytest.raises(TypeError):
        Patient.objects.filter(pk=created.pk).update(birth_name=F("used_name"))


def test_the_migration_fills_the_keys_of_identities_already_there():
    patient = PatientFactory(birth_name="LE GOFF", used_name="D'ARC", first_names="HÉLÈNE MARIE")
    Patient.objects.update(birth_name_key="", used_name_key="", first_names_key="", first_name_key="")
    migration = importlib.import_module("patients.migrations.0003_name_search_keys")
    migration.fill_name_keys(apps, None)
    assert keys(patient) == ("LEGOFF", "DARC", "HELENEMARIE", "HELENE")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the operator class of the indexes is PostgreSQL's")
@pytest.mark.parametrize(
    ("criteria", "index"),
    [
        ({"name": "lefèbvre"}, "patient_birth_name_key"),
        ({"name": "lefèbvre"}, "patient_used_name_key"),
        ({"name": "jean-pierre"}, "patient_first_names_key"),
        ({"birth_date": "1980-05-04", "name": "du"}, "patient_homonyms"),
    ],
)
def test_postgresql_serves_the_prefix_searches_from_the_key_indexes(criteria, index):
    """Whatever the database's collation: without the pattern operator class, LIKE 'KEY%' reads the table."""
    queryset = filter_identities(Patient.objects.all(), **criteria)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert index in plan, plan

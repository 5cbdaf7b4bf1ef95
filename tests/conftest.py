"""Fixtures shared by the whole suite (structures, users, a qualified patient); the shared test support is
loaded from ``tests/support/`` as plugins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from dpi.models import Role
from patients.models import IdentityStatus
from tests.factories import (
    CareUnitFactory,
    EpisodeFactory,
    MembershipFactory,
    PatientFactory,
    RoleFactory,
    UserFactory,
)

pytest_plugins = [
    "tests.support.browser",
    "tests.support.hl7",
    "tests.support.feeding",
    "tests.support.sandbox_dmp",
]


@pytest.fixture(autouse=True)
def _clear_cache(request: pytest.FixtureRequest) -> None:
    """Login throttling and single-use TOTP codes live in the cache: start each test clean.

    The database cache (the embedded default) is only touched by tests that use the database.
    """
    database_cache = settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache")
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames)
    if not database_cache or uses_db:
        cache.clear()


@pytest.fixture
def editable_audit_trail(db) -> Iterator[None]:
    """For the few tests that clear or backdate audit rows: the database's append-only trigger (PostgreSQL,
    migration ``dpi.0012``) is off for this test only."""
    statement = "ALTER TABLE dpi_auditevent {} TRIGGER dpi_audit_event_append_only"
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE waits for no deferred foreign-key check
        cursor.execute(statement.format("DISABLE"))
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(statement.format("ENABLE"))


@pytest.fixture
def care_unit(db):
    return CareUnitFactory()


@pytest.fixture
def doctor(care_unit):
    """A physician with a membership in ``care_unit`` and a TOTP second factor."""
    membership = MembershipFactory(care_unit=care_unit, role=RoleFactory())
    return membership.user


@pytest.fixture
def nurse(care_unit):
    role = RoleFactory(code="infirmier", label="Infirmier", may_break_glass=False)
    return MembershipFactory(care_unit=care_unit, role=role).user


@pytest.fixture
def site_pharmacist(care_unit):
    role = RoleFactory(code="pharmacien", label="Pharmacien", scope=Role.Scope.SITE, may_break_glass=False)
    return MembershipFactory(care_unit=care_unit, role=role).user


@pytest.fixture
def qualified_episode(care_unit):
    """A visit in ``care_unit`` of a patient whose identity is qualified (test INS of the national samples)."""
    patient = PatientFactory(
        ins="279035121518989",
        ins_oid="1.2.250.1.213.1.4.10",
        identity_status=IdentityStatus.QUALIFIEE,
        birth_name="PAT-TROIS",
        first_names="DOMINIQUE",
        sex="F",
        birth_place_insee="63220",
    )
    return EpisodeFactory(patient=patient, care_unit=care_unit, nda="NDA001")


@pytest.fixture
def user_without_unit(db):
    return UserFactory()


@pytest.fixture(scope="session")
def test_pki() -> object:
    """The sandbox's test PKI (CA, DMP server, structure certificates) where the DMP_* settings point."""
    from sandbox.pki import ensure_test_pki

    return ensure_test_pki(settings.DMP_PKI_DIR)

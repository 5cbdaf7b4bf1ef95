"""Fixtures shared by the whole suite (PostgreSQL, Redis broker, Debian's chromium)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache

from dpi.models import Role
from tests.factories import CareUnitFactory, MembershipFactory, RoleFactory, UserFactory


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
def user_without_unit(db):
    return UserFactory()

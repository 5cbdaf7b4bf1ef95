"""Fixtures of the DMP client tests: the test PKI, an actor and a patient, and the fake DMP of
``tests/dmp/clients/fakes.py`` (the sandbox DMP's fixtures: ``tests.support.sandbox_dmp``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from dmp.clients.config import DmpClientConfig
from dmp.clients.types import Actor, PatientRef
from sandbox.pki import Pki
from tests.dmp.clients.fakes import TOTP, FakeDmp, config_for, server_context, start_fake_dmp


@pytest.fixture
def pki(test_pki: Pki) -> Pki:
    return test_pki


@pytest.fixture
def fake_dmp(pki: Pki) -> Iterator[FakeDmp]:
    dmp, stop = start_fake_dmp(server_context(pki))
    yield dmp
    stop()


@pytest.fixture
def config(pki: Pki, fake_dmp: FakeDmp) -> DmpClientConfig:
    return config_for(pki, fake_dmp.url)


@pytest.fixture
def actor() -> Actor:
    return Actor(
        national_id="810100001236",
        display_name="MARTIN Claire",
        profession="10",
        specialty="SM26",
        structure_id="1000897406",
        authn_instant=datetime(2026, 12, 1, 8, 30, tzinfo=UTC),
        authn_class=TOTP,
    )


@pytest.fixture
def patient() -> PatientRef:
    return PatientRef(ins="279035121518989", oid="1.2.250.1.213.1.4.10")

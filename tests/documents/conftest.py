"""Fixtures of the documents tests."""

from __future__ import annotations

import pytest

from documents.schema import cda_schema_path


@pytest.fixture
def schema_available() -> None:
    """Skip, with the reason shown, where the CI-SIS CDA schema is not installed (``DPI_CDA_SCHEMA_PATH``)."""
    if not cda_schema_path().is_file():
        pytest.skip(f"Schéma CDA absent ({cda_schema_path()}) : validation XSD non testée")

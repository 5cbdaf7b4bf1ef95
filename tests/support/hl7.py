"""The HL7 engine's side of interface tests: the DPI's MLLP listener on a free port, a minimal ADT message,
the national HL7 v2 samples."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

from dpi.hl7.mllp import ServerHandle, start_server_in_thread


def adt_message(
    control_id: str = "1",
    *,
    message_type: str = "ADT^A01^ADT_A01",
    family: str = "PAT-TROIS",
    given: str = "DOMINIQUE",
    ipp: str = "000003",
    charset: str = "UNICODE UTF-8",
    sender: str = "GAM",
    separator: str = "\r",
) -> str:
    """A minimal PAM.fr-like ADT message."""
    segments = [
        f"MSH|^~\\&|{sender}|CHU-X|DPI|CHU-X|20240306111154||{message_type}|{control_id}|P|2.5^FRA^2.11"
        f"|||||FRA|{charset}",
        "EVN||20240306111154",
        f"PID|1||{ipp}^^^CHU-X&000897406&N^PI~279035121518989^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.10&ISO^INS"
        f"||{family}^{given}^{given}^^^^L||19790328|F",
        "PV1|1|I",
    ]
    return separator.join(segments) + separator


@pytest.fixture
def start_listener(transactional_db) -> Iterator[Callable[..., ServerHandle]]:
    """Start MLLP listeners (options as for ``start_server_in_thread``), stopped after the test.

    Their worker threads use their own database connections, hence ``transactional_db``.
    """
    handles: list[ServerHandle] = []

    def start(port: int = 0, **options: float) -> ServerHandle:
        handles.append(start_server_in_thread("127.0.0.1", port, **options))
        return handles[-1]

    yield start
    for handle in handles:
        handle.stop()


@pytest.fixture
def samples_dir() -> Path:
    directory = Path(settings.SAMPLES_DIR) / "hl7v2"
    if not directory.is_dir():
        pytest.skip(f"HL7 v2 samples not found in {directory} (set DPI_SAMPLES_DIR)")
    return directory

"""Registry of the simulators of national services run by ``manage.py run_sandbox``.

A simulator is an object with a ``name`` and an ``async def serve(stop: asyncio.Event)``
that speaks the real protocol on loopback until ``stop`` is set. Each integration issue adds
its simulator here (the PFI over MLLP: ``sandbox.pfi``; the DMP over HTTPS: ``sandbox.dmp.server``; the identity
providers over HTTP: ``sandbox.oidc.server``).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from sandbox.annuaire.server import AnnuaireSimulator
from sandbox.dmp.server import DmpSimulator
from sandbox.oidc.server import SIMULATORS as IDENTITY_PROVIDERS
from sandbox.pfi import PfiSimulator


class Simulator(Protocol):
    name: str

    async def serve(self, stop: asyncio.Event) -> None: ...


SIMULATORS: list[Simulator] = []
SIMULATORS.append(PfiSimulator())  # PFI_HOST:PFI_PORT, ZAM to MLLP_HOST:MLLP_PORT
SIMULATORS.append(DmpSimulator())  # SANDBOX_DMP_HOST:SANDBOX_DMP_PORT (HTTPS), SANDBOX_DMP_WEB_PORT (pages)
SIMULATORS.extend(IDENTITY_PROVIDERS)  # PSC on SANDBOX_PSC_PORT, the hospital's on SANDBOX_HOSPITAL_IDP_PORT
SIMULATORS.append(AnnuaireSimulator())  # SANDBOX_ANNUAIRE_HOST:SANDBOX_ANNUAIRE_PORT (FHIR over HTTP)


async def run_all(stop: asyncio.Event, simulators: list[Simulator] | None = None) -> None:
    """Run every simulator until ``stop`` is set."""
    chosen = SIMULATORS if simulators is None else simulators
    await asyncio.gather(*(simulator.serve(stop) for simulator in chosen), stop.wait())

"""Where the DMP is, with which certificates, and what the DPI says about itself in the VIHF.

One frozen :class:`DmpClientConfig` per installation, read from the ``DMP_*`` settings; tests pass
their own (the sandbox's ephemeral URLs, a short timeout). Being frozen, it is hashable: the
transport and the signing material are cached per configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

import dpi


@dataclass(frozen=True)
class DmpClientConfig:
    patients_url: str  # TD0.2, TD0.3
    registry_url: str  # TD3.1 (ITI-18), TD3.3 (ITI-57)
    repository_url: str  # TD3.2 (ITI-43)
    webps_url: str  # TD0.10, posted by the user's browser
    drimbox_url: str  # consumer DRIMbox, posted by the user's browser
    client_cert: Path  # the structure's TLS client certificate (PEM)
    client_key: Path
    signing_cert: Path  # the certificate that signs the VIHF (PEM)
    signing_key: Path
    ca_bundle: Path  # the authorities the DMP's server certificate is checked against
    timeout_seconds: float  # each read of the answer
    connect_timeout_seconds: float
    max_response_bytes: int
    vihf_version: str
    secteur_activite: str  # JDV_J61 code of the hospital's activity sector (without its OID)
    lps_name: str
    lps_version: str
    lps_homologation_id: str
    oid_root: str  # the hospital's OID root: sourceId of its submission sets, root of their uniqueIds

    @classmethod
    def from_settings(cls) -> DmpClientConfig:
        return cls(
            patients_url=settings.DMP_PATIENTS_URL,
            registry_url=settings.DMP_REGISTRY_URL,
            repository_url=settings.DMP_REPOSITORY_URL,
            webps_url=settings.DMP_WEBPS_URL,
            drimbox_url=settings.DRIMBOX_URL,
            client_cert=Path(settings.DMP_CLIENT_CERT),
            client_key=Path(settings.DMP_CLIENT_KEY),
            signing_cert=Path(settings.DMP_SIGNING_CERT),
            signing_key=Path(settings.DMP_SIGNING_KEY),
            ca_bundle=Path(settings.DMP_CA_BUNDLE),
            timeout_seconds=float(settings.DMP_TIMEOUT_SECONDS),
            connect_timeout_seconds=float(settings.DMP_CONNECT_TIMEOUT_SECONDS),
            max_response_bytes=int(settings.DMP_MAX_RESPONSE_BYTES),
            vihf_version=settings.DMP_VIHF_VERSION,
            secteur_activite=settings.DMP_SECTEUR_ACTIVITE,
            lps_name=settings.DMP_LPS_NAME,
            lps_version=dpi.__version__,
            lps_homologation_id=settings.DMP_LPS_HOMOLOGATION_ID,
            oid_root=settings.DPI_OID_ROOT,
        )


def resolve(config: DmpClientConfig | None) -> DmpClientConfig:
    """The configuration a public client function was given, or the installation's one."""
    return config if config is not None else DmpClientConfig.from_settings()

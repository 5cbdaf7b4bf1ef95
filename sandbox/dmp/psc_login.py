"""The sandbox web PS opened through ProSanté Connect: the PSC variant of the contextual access (TD0.10,
DPI.AUTH.01/02), where the DMP identifies the professional itself instead of trusting a VIHF.

The DPI sends the browser to ``/webps/psc?ins=…&oid=…&page=…``; the web PS, a client of PSC like any
national service, redirects it to PSC's authorize endpoint. A professional who signed in to the DPI with PSC
has a PSC session in that browser: PSC answers at once (single sign-on), without asking again. The web PS
exchanges the code (PKCE S256, client secret), verifies the userinfo JWT against PSC's keys and opens the
patient's DMP for the ``SubjectNameID`` it carries, under the DMP's usual rules.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from sandbox.dmp.identifiers import Ins
from sandbox.dmp.soap import DmpFault
from sandbox.dmp.vihf import PROFESSION_SYSTEM, SPECIALTY_SYSTEM, Caller, Role

TIMEOUT = 10.0
WEBPS_PSC_CLIENT = ("dmp-web-ps", "secret-dmp-web-ps-bac-a-sable")  # registered at the sandbox PSC


@dataclass
class PscClient:
    """The web PS as a client of (the sandbox) PSC."""

    discovery_url: str
    client_id: str
    secret: str
    redirect_uri: str
    pending: dict[str, tuple[str, Ins, str]] = field(default_factory=dict)  # state: verifier, patient, page
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _discovery(self) -> dict:
        return httpx.get(self.discovery_url, timeout=TIMEOUT).raise_for_status().json()

    def authorize_url(self, patient: Ins, page: str) -> str:
        """Where to send the browser: PSC's authorize endpoint, this request remembered under its state."""
        state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        with self.lock:
            self.pending[state] = (verifier, patient, page)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid scope_all",
            "acr_values": "eidas1",
            "state": state,
            "nonce": secrets.token_hex(16),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return f"{self._discovery()['authorization_endpoint']}?{urlencode(query)}"

    def caller(self, code: str, state: str) -> tuple[Caller, str]:
        """The professional PSC authenticated, as the DMP's rules see them, and the page asked."""
        with self.lock:
            remembered = self.pending.pop(state, None)
        if remembered is None or not code:
            raise DmpFault(
                "wsse:InvalidSecurity", "Retour de ProSanté Connect inattendu : rouvrez la page depuis le DPI."
            )
        verifier, patient, page = remembered
        config = self._discovery()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
        tokens = httpx.post(
            config["token_endpoint"],
            data=form | {"code_verifier": verifier},
            auth=(self.client_id, self.secret),
            timeout=TIMEOUT,
        )
        if tokens.status_code != 200:
            raise DmpFault("wsse:FailedAuthentication", f"ProSanté Connect a refusé le code ({tokens.text[:200]}).")
        answer = httpx.get(
            config["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {tokens.json()['access_token']}"},
            timeout=TIMEOUT,
        )
        claims = self._verified(answer.text, config)
        return _caller(claims, patient), page

    def _verified(self, token: str, config: dict) -> dict:
        keys = KeySet.import_key_set(httpx.get(config["jwks_uri"], timeout=TIMEOUT).raise_for_status().json())
        try:
            claims = jwt.decode(token, keys).claims
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": config["issuer"]}, aud={"essential": True, "value": self.client_id}
            ).validate(claims)
        except (JoseError, ValueError) as error:
            raise DmpFault("wsse:FailedAuthentication", f"Jeton ProSanté Connect invalide : {error}") from error
        return claims


def _caller(claims: dict, patient: Ins) -> Caller:
    exercise = ((claims.get("SubjectRefPro") or {}).get("exercices") or [{}])[0]
    roles = [Role(exercise.get("codeProfession", ""), PROFESSION_SYSTEM)]
    if exercise.get("codeSavoirFaire"):
        roles.append(Role(exercise["codeSavoirFaire"], SPECIALTY_SYSTEM))
    activities = exercise.get("activities") or [{}]
    return Caller(
        national_id=claims.get("SubjectNameID", ""),
        subject_name=f"{exercise.get('nomDexercice', '')} {exercise.get('prenomDexercice', '')}".strip(),
        roles=tuple(roles),
        structure_id=f"3{activities[0].get('numeroFinessSite', '')}",
        authentication_mode="PSC",
        authentication_class="eidas1",
        purpose="normal",
        patient=patient,
    )

"""The OpenID provider itself, on Authlib's server components: clients, codes, tokens, sessions, CIBA requests.

Everything lives in memory (a sandbox provider restarts empty, as a real one forgets its sessions): one
:class:`Provider` per issuer, shared by the threads of its HTTP listener under one lock. The HTTP side is
:mod:`sandbox.oidc.server`; this module knows no socket.

Strict like ProSanté Connect: exact redirect URIs, PKCE S256 required, single-use codes, client secrets
checked (``client_secret_basic`` or ``client_secret_post``), ``acr=eidas1`` only when ``acr_values`` asks it.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, OAuth2Request, TokenMixin
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.rpinitiated import EndSessionEndpoint, EndSessionRequest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from sandbox.oidc.people import Person

CODE_SECONDS = 60
TOKEN_SECONDS = 300
SESSION_SECONDS = 8 * 3600
EIDAS1 = "eidas1"


@dataclass(frozen=True)
class Flavour:
    """What sets PSC apart from a generic provider (``docs/identity.md``, quirks)."""

    name: str
    cookie: str  # the provider's single sign-on cookie (cookies do not tell ports apart)
    realm_path: str  # the issuer is http://host:port + realm_path
    discovery_name: str
    algorithm: str
    userinfo_as_jwt: bool
    ciba: bool
    scopes: tuple[str, ...]
    acr_values: tuple[str, ...]


PSC = Flavour(
    name="ProSanté Connect (bac à sable)",
    cookie="sandbox_psc_session",
    realm_path="/auth/realms/esante-wallet",
    discovery_name="wallet-openid-configuration",
    algorithm="ES256",
    userinfo_as_jwt=True,
    ciba=True,
    scopes=("openid", "scope_all", "profile", "email", "rpps", "eidas1"),
    acr_values=(EIDAS1,),
)
HOSPITAL = Flavour(
    name="Annuaire de l'hôpital (bac à sable)",
    cookie="sandbox_hopital_session",
    realm_path="/realms/hopital",
    discovery_name="openid-configuration",
    algorithm="RS256",
    userinfo_as_jwt=False,
    ciba=False,
    scopes=("openid", "profile", "email", "groups"),
    acr_values=("mfa",),
)


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]

    @property
    def client_metadata(self) -> dict[str, Any]:
        return {"post_logout_redirect_uris": self.post_logout_redirect_uris}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # redirect_uri is required: several are registered

    def get_allowed_scope(self, scope: str) -> str:
        return scope

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return True


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    person: Person
    nonce: str | None
    acr: str | None
    code_challenge: str
    code_challenge_method: str
    auth_time: int
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return self.acr

    def get_amr(self) -> list[str] | None:
        return None


@dataclass
class Token(TokenMixin):
    access_token: str
    client: Client
    person: Person
    scope: str
    expires_at: float

    def check_client(self, client: ClientMixin) -> bool:
        return client.get_client_id() == self.client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return TOKEN_SECONDS

    def is_expired(self) -> bool:
        return time.time() >= self.expires_at

    def is_revoked(self) -> bool:
        return False

    def get_user(self) -> Person:
        return self.person

    def get_client(self) -> Client:
        return self.client


@dataclass
class BackchannelRequest:
    """A CIBA request (poll mode): pending until the professional accepts or refuses it in the e-CPS app."""

    auth_req_id: str
    client: Client
    person: Person
    scope: str
    binding_message: str
    acr: str | None
    expires_at: float
    status: str = "pending"  # pending, accepted, refused

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at


@dataclass
class Session:
    """The provider's single sign-on session (a cookie in the user's browser)."""

    sid: str
    person: Person
    auth_time: int
    acr: str | None
    expires_at: float


class Provider(AuthorizationServer):
    """One OpenID provider: a PSC-like one or a hospital one (:class:`Flavour`)."""

    def __init__(self, flavour: Flavour, people: list[Person], clients: list[Client]) -> None:
        super().__init__(scopes_supported=list(flavour.scopes))
        self.flavour = flavour
        self.people = {person.sub: person for person in people}
        self.clients = {client.client_id: client for client in clients}
        self.base_url = ""  # set by the listener once its port is known
        self.key = _signing_key(flavour.algorithm)
        self.lock = threading.Lock()
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, Token] = {}
        self.sessions: dict[str, Session] = {}
        self.backchannel: dict[str, BackchannelRequest] = {}
        self.ended_sessions: list[dict[str, Any]] = []  # what end-session received, for the tests
        self.tamper_userinfo = False  # failure mode: userinfo JWTs with a broken signature
        self.register_token_generator(
            "default", BearerTokenGenerator(lambda **_: secrets.token_urlsafe(32), expires_generator=_token_lifetime)
        )
        self.register_grant(CodeGrant, [StrictCodeChallenge(required=True), IdToken(self)])
        self.register_endpoint(EndSession(self))

    # -- addresses

    @property
    def issuer(self) -> str:
        return self.base_url + self.flavour.realm_path

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/{self.flavour.discovery_name}"

    def endpoint(self, name: str) -> str:
        return f"{self.issuer}/protocol/openid-connect/{name}"

    @property
    def authorization_endpoint(self) -> str:
        # PSC's authorize page lives on another host (wallet.*) than its realm (auth.*): here another path.
        return f"{self.base_url}/auth" if self.flavour.ciba else self.endpoint("auth")

    def discovery(self) -> dict[str, Any]:
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.endpoint("token"),
            "userinfo_endpoint": self.endpoint("userinfo"),
            "end_session_endpoint": self.endpoint("logout"),
            "jwks_uri": self.endpoint("certs"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [self.flavour.algorithm],
            "scopes_supported": list(self.flavour.scopes),
            "acr_values_supported": list(self.flavour.acr_values),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_parameter_supported": False,
        }
        if self.flavour.userinfo_as_jwt:
            document["userinfo_signing_alg_values_supported"] = [self.flavour.algorithm]
        if self.flavour.ciba:
            document["grant_types_supported"].append(CIBA_GRANT)
            document["backchannel_authentication_endpoint"] = self.endpoint("ext/ciba/auth")
            document["backchannel_token_delivery_modes_supported"] = ["poll"]
            document["backchannel_user_code_parameter_supported"] = False
        return document

    def jwks(self) -> dict[str, Any]:
        return KeySet([self.key]).as_dict(private=False)

    # -- Authlib's hooks

    def query_client(self, client_id: str) -> Client | None:
        return self.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        with self.lock:
            self.tokens[token["access_token"]] = Token(
                token["access_token"], request.client, request.user, token["scope"], time.time() + TOKEN_SECONDS
            )

    def send_signal(self, name: str, *args: object, **kwargs: object) -> None:
        """Authlib's signals (token issued...) have no listener here."""

    # -- what the handlers call

    def bearer(self, access_token: str) -> Token | None:
        with self.lock:
            token = self.tokens.get(access_token)
        return token if token is not None and not token.is_expired() else None

    def claims(self, person: Person) -> dict[str, Any]:
        fields = person.psc_claims() if self.flavour.ciba else person.hospital_claims()
        return {"sub": person.sub, **fields}

    def userinfo(self, token: Token) -> tuple[str, bytes]:
        """The userinfo answer: a signed JWT for PSC (``application/jwt``), JSON otherwise."""
        claims = self.claims(token.person)
        if not self.flavour.userinfo_as_jwt:
            return "application/json", json.dumps(claims).encode()
        claims |= {"iss": self.issuer, "aud": token.client.client_id, "iat": int(time.time())}
        signed = self.sign(claims)
        if self.tamper_userinfo:
            head, _dot, signature = signed.rpartition(".")
            signed = f"{head}.{signature[:10]}{'B' if signature[10] == 'A' else 'A'}{signature[11:]}"
        return "application/jwt", signed.encode()

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": self.flavour.algorithm, "kid": self.key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, self.key, algorithms=[self.flavour.algorithm])

    def open_session(self, person: Person, acr: str | None) -> Session:
        session = Session(secrets.token_urlsafe(24), person, int(time.time()), acr, time.time() + SESSION_SECONDS)
        with self.lock:
            self.sessions[session.sid] = session
        return session

    def current_session(self, sid: str) -> Session | None:
        with self.lock:
            session = self.sessions.get(sid)
        return session if session is not None and session.expires_at > time.time() else None

    def end_sessions_of(self, sub: str) -> None:
        with self.lock:
            for sid in [sid for sid, session in self.sessions.items() if session.person.sub == sub]:
                del self.sessions[sid]


def _token_lifetime(client: Client, grant_type: str) -> int:
    return TOKEN_SECONDS


def _signing_key(algorithm: str) -> ECKey | RSAKey:
    parameters = {"use": "sig", "alg": algorithm, "kid": secrets.token_hex(8)}
    if algorithm == "ES256":
        return ECKey.generate_key("P-256", parameters=parameters)
    return RSAKey.generate_key(2048, parameters=parameters)


CIBA_GRANT = "urn:openid:params:grant-type:ciba"


class StrictCodeChallenge(CodeChallenge):
    """PKCE is required of every client, confidential ones too, and only with S256."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: AuthorizationCodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge' (PKCE S256 required)")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Unsupported 'code_challenge_method' (S256 required)")
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    @property
    def provider(self) -> Provider:
        return self.server

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        session: Session = request.user
        stored = Code(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.payload.scope,
            person=session.person,
            nonce=data.get("nonce"),
            acr=session.acr if session.acr in requested_acr(data.get("acr_values", "")) else None,
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
            auth_time=session.auth_time,
            expires_at=time.time() + CODE_SECONDS,
        )
        with self.provider.lock:
            self.provider.codes[code] = stored

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        with self.provider.lock:
            stored = self.provider.codes.get(code)
        if stored is None or stored.client_id != client.client_id or stored.expires_at < time.time():
            return None
        return stored

    def delete_authorization_code(self, authorization_code: Code) -> None:
        with self.provider.lock:
            self.provider.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: Code) -> Person:
        return authorization_code.person


def requested_acr(acr_values: str) -> list[str]:
    return acr_values.split()


class IdToken(OpenIDCode):
    def __init__(self, provider: Provider) -> None:
        super().__init__(require_nonce=False)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return False

    def resolve_client_private_key(self, client: Client) -> KeySet:
        return KeySet([self.provider.key])

    def get_client_algorithm(self, client: Client) -> str:
        return self.provider.flavour.algorithm

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": self.provider.flavour.algorithm, "kid": self.provider.key.kid}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": self.provider.issuer, "aud": [client.client_id]}

    def generate_user_info(self, user: Person, scope: str) -> UserInfo:
        return UserInfo(self.provider.claims(user))


class EndSession(EndSessionEndpoint):
    """RP-initiated logout: the id_token_hint must be one of ours; the provider's session of that person ends."""

    def __init__(self, provider: Provider) -> None:
        super().__init__(provider)
        self.provider = provider

    def get_server_jwks(self) -> KeySet:
        return KeySet([self.provider.key])

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        claims = end_session_request.id_token_claims or {}
        with self.provider.lock:
            self.provider.ended_sessions.append(
                {"sub": claims.get("sub"), "client_id": claims.get("aud"), "at": time.time()}
            )
        if claims.get("sub"):
            self.provider.end_sessions_of(claims["sub"])

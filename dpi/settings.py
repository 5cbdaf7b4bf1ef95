"""Django settings.

Every knob comes from an environment variable (documented in the README's configuration
table). With none set, the product runs on the *embedded default*: SQLite and a Celery
broker on the filesystem under ``var/``, so ``make demo`` needs no server.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from dpi.oidc.config import provider_origins, socialaccount_providers

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


# A parallel test run (pytest-xdist) gives each worker process gwN its own var directory and its own
# Redis databases (below); pytest-django gives it its own PostgreSQL test database (suffix _gwN).
TEST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
VAR_DIR = Path(env("DPI_VAR_DIR", str(BASE_DIR / "var"))) / TEST_WORKER
VAR_DIR.mkdir(parents=True, exist_ok=True)


def per_test_worker(url: str) -> str:
    """A Redis URL moved to this test worker's database: worker gwN takes database d + 2N, so the
    broker and the cache of the test settings (10 and 11 by default) never meet across workers."""
    if not TEST_WORKER or not url.startswith(("redis://", "rediss://")):
        return url
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0) + 2 * int(TEST_WORKER.removeprefix("gw"))
    if number > 15:
        raise ImproperlyConfigured(f"{url}: too many test workers for Redis' 16 databases (worker {TEST_WORKER})")
    return urlunsplit(parts._replace(path=f"/{number}"))


def _secret_key() -> str:
    """The secret key from the environment, or one generated once and kept under var/."""
    from_env = env("DJANGO_SECRET_KEY")
    if from_env:
        return from_env
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DJANGO_DEBUG")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.socialaccount",
    "dpi.oidc.apps.OidcConfig",
    "dpi.apps.DpiConfig",
    "dpi.hl7.apps.Hl7Config",
    "patients",
    "consent",
    "directory",
    "documents",
    "dmp",
    "mss",
    "stats",
    "sandbox",
]

MIDDLEWARE = [
    "dpi.middleware.AuditContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "patients.access.RefusalBeforeTheDoorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "dpi.middleware.RequireSecondFactorMiddleware",
    "dpi.accounts.passwords.RequirePasswordChangeMiddleware",
    "dpi.middleware.RequireNoticeAcknowledgementMiddleware",
    "dpi.middleware.IdleExpiryMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "dpi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dpi.context_processors.shell",
            ],
        },
    },
]

# --- Data stores -------------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'dpi.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes share the embedded database: wait for locks instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _cache(url: str) -> dict:
    if url.startswith(("redis://", "rediss://")):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if url == "locmem://":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    # Default: a table in the main database, shared by every process (login throttling
    # and single-use TOTP codes must be seen by all web workers).
    return {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "dpi_cache"}


CACHES = {"default": _cache(per_test_worker(env("CACHE_URL", "db://")))}

# --- Authentication, sessions, security --------------------------------------------------

AUTH_USER_MODEL = "dpi.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("PASSWORD_MIN_LENGTH", 12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "dpi.accounts.passwords.PrivilegedMinimumLengthValidator"},
    {"NAME": "dpi.accounts.passwords.PrivilegedComplexityValidator"},
    {"NAME": "dpi.accounts.passwords.PasswordHistoryValidator"},
]
# Administrator (staff, superuser) accounts (REM SC.SSI/IAM.92): length, character classes (of minuscule,
# majuscule, digit, special), expiry forcing a change at the next sign-in (0: never). Every account: no reuse
# of the last N passwords.
PRIVILEGED_PASSWORD_MIN_LENGTH = env_int("PRIVILEGED_PASSWORD_MIN_LENGTH", 15)
PRIVILEGED_PASSWORD_CHARACTER_CLASSES = env_int("PRIVILEGED_PASSWORD_CHARACTER_CLASSES", 4)
PRIVILEGED_PASSWORD_MAX_AGE_DAYS = env_int("PRIVILEGED_PASSWORD_MAX_AGE_DAYS", 90)
PASSWORD_HISTORY_COUNT = env_int("PASSWORD_HISTORY_COUNT", 5)

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "dpi.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
# Temporary lock after repeated failures: LOGIN_ATTEMPTS_LIMIT failures per account within
# LOGIN_LOCK_MINUTES lock that account for the rest of the window (allauth's "login_failed", per key only:
# the password step keys it on the login, the second-factor step on the user). Per address, no lock that
# would shut out everyone behind a NAT or a proxy: after LOGIN_ADDRESS_FREE_FAILURES failures, a backoff of
# LOGIN_ADDRESS_BACKOFF_SECONDS doubling with each failure, during which the password step also asks for
# the TOTP code (dpi.login). allauth's "login" limit (every POST per address) is off for the same reason.
LOGIN_ATTEMPTS_LIMIT = env_int("LOGIN_ATTEMPTS_LIMIT", 5)
LOGIN_LOCK_MINUTES = env_int("LOGIN_LOCK_MINUTES", 15)
LOGIN_ADDRESS_FREE_FAILURES = env_int("LOGIN_ADDRESS_FREE_FAILURES", 20)
LOGIN_ADDRESS_BACKOFF_SECONDS = env_int("LOGIN_ADDRESS_BACKOFF_SECONDS", 30)
ACCOUNT_FORMS = {
    "login": "dpi.login.LoginForm",
    "change_password": "dpi.accounts.passwords.ChangePasswordForm",
    "reset_password": "dpi.accounts.contacts.ResetPasswordForm",
}
ACCOUNT_RATE_LIMITS = {
    "login": "",
    "login_failed": f"{LOGIN_ATTEMPTS_LIMIT}/{LOGIN_LOCK_MINUTES * 60}s/key",
    "dpi_ciba": "10/900s/ip",  # e-CPS sign-in requests (CIBA) from one address: each one reaches PSC
    "reset_password": "20/m/ip,5/m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env("MFA_TOTP_ISSUER", "DPI")
MFA_ADAPTER = "dpi.mfa.MFAAdapter"
USERSESSIONS_TRACK_ACTIVITY = True

# --- Sign-in through OpenID Connect providers: ProSanté Connect and the hospital's (docs/identity.md) ---
# Each provider: its discovery document (every endpoint is read from it), the client registered there,
# the scope and acr_values sent, the acr values that count as strong authentication (no TOTP on top) and
# how an identity finds its DPI account ("rpps": SubjectNameID = 8 + RPPS; "linked": an identity linked
# beforehand by its owner from "Mon compte" or by an administrator; never by e-mail).
SANDBOX_PSC_PORT = env_int("SANDBOX_PSC_PORT", 8450)
SANDBOX_HOSPITAL_IDP_PORT = env_int("SANDBOX_HOSPITAL_IDP_PORT", 8451)
SANDBOX_OIDC_RP_BASE_URLS = env_list("SANDBOX_OIDC_RP_BASE_URLS", "http://127.0.0.1:8000,http://localhost:8000")
_PSC_SANDBOX = f"http://127.0.0.1:{SANDBOX_PSC_PORT}/auth/realms/esante-wallet"
_HOSPITAL_SANDBOX = f"http://127.0.0.1:{SANDBOX_HOSPITAL_IDP_PORT}/realms/hopital"
OIDC_PROVIDERS = {
    "psc": {
        "enabled": env_bool("PSC_ENABLED", True),
        "name": "ProSanté Connect",
        "discovery_url": env("PSC_DISCOVERY_URL", f"{_PSC_SANDBOX}/.well-known/wallet-openid-configuration"),
        "client_id": env("PSC_CLIENT_ID", "dpi-bac-a-sable"),
        "secret": env("PSC_CLIENT_SECRET", "secret-psc-bac-a-sable"),
        "scope": env("PSC_SCOPE", "openid scope_all"),
        "acr_values": env("PSC_ACR_VALUES", "eidas1"),
        "strong_acr": ["eidas1"],
        "required_acr": "eidas1",
        "uid_field": "SubjectNameID",
        "link_by": "rpps",
        "ciba": env_bool("PSC_CIBA_ENABLED", True),
    },
    "hopital": {
        "enabled": env_bool("HOSPITAL_OIDC_ENABLED", True),
        "name": env("HOSPITAL_OIDC_NAME", "Compte de l'hôpital"),
        "discovery_url": env("HOSPITAL_OIDC_DISCOVERY_URL", f"{_HOSPITAL_SANDBOX}/.well-known/openid-configuration"),
        "client_id": env("HOSPITAL_OIDC_CLIENT_ID", "dpi-bac-a-sable"),
        "secret": env("HOSPITAL_OIDC_CLIENT_SECRET", "secret-hopital-bac-a-sable"),
        "scope": env("HOSPITAL_OIDC_SCOPE", "openid profile email groups"),
        "acr_values": env("HOSPITAL_OIDC_ACR_VALUES", "mfa"),
        "strong_acr": env_list("HOSPITAL_OIDC_STRONG_ACR", "mfa"),
        "required_acr": "",
        "uid_field": "sub",
        "link_by": "linked",
        "ciba": False,
    },
}
OIDC_TIMEOUT_SECONDS = env_int("OIDC_TIMEOUT_SECONDS", 5)
SOCIALACCOUNT_ADAPTER = "dpi.oidc.adapter.SocialAccountAdapter"
SOCIALACCOUNT_REQUESTS_TIMEOUT = OIDC_TIMEOUT_SECONDS
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # never find an account by e-mail
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_PROVIDERS = socialaccount_providers(OIDC_PROVIDERS)

# How patients are named on screens: the four birth traits and the used names always; these extras
# besides (patients.templatetags.identity.IDENTITY_EXTRAS: age, ipp, ins, first_names, birth_place).
PATIENT_IDENTITY_EXTRAS = env_list("PATIENT_IDENTITY_EXTRAS", "age,ipp")

SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
# The age counts from the last request the user made (dpi.middleware.IdleExpiryMiddleware): background
# polls (htmx, marked X-DPI-Background) do not keep an unattended screen signed in.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

HTTPS = env_bool("DPI_HTTPS")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "SAMEORIGIN"
if env_bool("DPI_BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
TRUST_X_FORWARDED_FOR = env_bool("DPI_BEHIND_PROXY")
# Proxies in front of the DPI that append to X-Forwarded-For: the client address is the entry the
# outermost of them wrote, DPI_PROXY_COUNT from the right (entries further left come from the client).
DPI_PROXY_COUNT = env_int("DPI_PROXY_COUNT", 1) if TRUST_X_FORWARDED_FOR else 0
ALLAUTH_TRUSTED_PROXY_COUNT = DPI_PROXY_COUNT

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "frame-ancestors": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        # The sign-in and logout forms are redirected to the providers' pages (authorize, end-session).
        "form-action": [
            "'self'",
            *env_list("OIDC_FORM_ACTION_ORIGINS", ",".join(provider_origins(OIDC_PROVIDERS))),
        ],
    }
}

# Episode of care ("épisode de soins") the information/opposition applies to: visits sharing the
# administrative file number (NDA), and consultations starting within N days after a visit.
CARE_EPISODE_BY_NDA = env_bool("CARE_EPISODE_BY_NDA", True)
CARE_EPISODE_FOLLOW_UP_DAYS = env_int("CARE_EPISODE_FOLLOW_UP_DAYS", 30)

# Emergency access ("bris de glace") to a patient file outside one's care relationships.
BREAK_GLASS_HOURS = env_int("BREAK_GLASS_HOURS", 4)
# The header badge and the "documents intégrés non vus" list cover the last N days (REM SC.MSS/UX.40).
MSS_UNSEEN_DAYS = env_int("MSS_UNSEEN_DAYS", 30)

# --- Mail (recovery contact verification, notifications of account changes) --------------

# The hospital's SMTP relay; the demo prints the mails on the console (EMAIL_BACKEND).
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT_SECONDS", 10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "dpi@localhost")
# A code sent to verify a recovery address is valid this long, for this many tries (REM SC.SSI/IE.31).
CONTACT_CODE_MINUTES = env_int("CONTACT_CODE_MINUTES", 15)
CONTACT_CODE_MAX_ATTEMPTS = env_int("CONTACT_CODE_MAX_ATTEMPTS", 5)
CONTACT_CODES_PER_HOUR = env_int("CONTACT_CODES_PER_HOUR", 5)  # codes one account may ask for in an hour

# --- Hospital directory (LDAP, Active Directory): REM SC.SSI/IAM.83, see docs/accounts.md --------------

DIRECTORY_LDAP_URL = env("DIRECTORY_LDAP_URL")  # empty: no synchronisation
DIRECTORY_BIND_DN = env("DIRECTORY_BIND_DN")
DIRECTORY_BIND_PASSWORD = env("DIRECTORY_BIND_PASSWORD")
DIRECTORY_USER_BASE = env("DIRECTORY_USER_BASE")
DIRECTORY_USER_FILTER = env("DIRECTORY_USER_FILTER", "(objectClass=inetOrgPerson)")
DIRECTORY_GROUP_BASE = env("DIRECTORY_GROUP_BASE")
DIRECTORY_GROUP_FILTER = env("DIRECTORY_GROUP_FILTER", "(|(objectClass=groupOfNames)(objectClass=group))")
# Attribute names (Active Directory: sAMAccountName, objectGUID).
DIRECTORY_ATTR_USERNAME = env("DIRECTORY_ATTR_USERNAME", "uid")
DIRECTORY_ATTR_RPPS = env("DIRECTORY_ATTR_RPPS", "employeeNumber")
DIRECTORY_ATTR_ID = env("DIRECTORY_ATTR_ID", "entryUUID")
DIRECTORY_TIMEOUT_SECONDS = env_int("DIRECTORY_TIMEOUT_SECONDS", 10)
# ldaps:// or StartTLS on ldap://: the server's certificate is checked against these CAs (empty: the system's).
DIRECTORY_START_TLS = env_bool("DIRECTORY_START_TLS")
DIRECTORY_CA_FILE = env("DIRECTORY_CA_FILE")
DIRECTORY_SYNC_MINUTES = env_int("DIRECTORY_SYNC_MINUTES", 60)

# --- Backups (manage.py backup_database, check_backup; docs/operations.md) ---------------------------

BACKUP_DIR = Path(env("BACKUP_DIR", str(VAR_DIR / "backups")))
BACKUP_OFFLINE_DIR = env("BACKUP_OFFLINE_DIR")  # a removable or write-once medium; empty: no offline copy
BACKUP_MAX_AGE_HOURS = env_int("BACKUP_MAX_AGE_HOURS", 26)  # check_backup fails when the latest is older

# --- Internationalisation ----------------------------------------------------------------

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Static files -------------------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", str(VAR_DIR / "staticfiles")))

# --- REST API -----------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "dpi.api.PeerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DPI API",
    "DESCRIPTION": "REST API of the DPI module for the peer systems of the hospital.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery -------------------------------------------------------------------------------

BROKER_DIR = VAR_DIR / "broker"


def _broker_url() -> str:
    """The broker; a test worker's moves to its own Redis database. Celery reads a ``CELERY_BROKER_URL``
    environment variable before its configuration, so a test worker writes its broker back there (marking it
    done, for the worker and beat processes a test starts with this environment): otherwise every test
    process's Celery worker consumed the first one's queue."""
    url = env("CELERY_BROKER_URL", "filesystem://")
    if TEST_WORKER and os.environ.get("DPI_TEST_BROKER_OF") != TEST_WORKER:
        url = per_test_worker(url)
        os.environ["CELERY_BROKER_URL"], os.environ["DPI_TEST_BROKER_OF"] = url, TEST_WORKER
    return url


CELERY_BROKER_URL = _broker_url()
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {}

if DIRECTORY_LDAP_URL and DIRECTORY_SYNC_MINUTES > 0:
    CELERY_BEAT_SCHEDULE["directory-sync"] = {
        "task": "dpi.sync_directory",
        "schedule": DIRECTORY_SYNC_MINUTES * 60.0,
    }

# --- HL7 v2 engine ------------------------------------------------------------------------

MLLP_HOST = env("MLLP_HOST", "127.0.0.1")
MLLP_PORT = env_int("MLLP_PORT", 2575)
MLLP_MAX_MESSAGE_BYTES = env_int("MLLP_MAX_MESSAGE_BYTES", 20 * 1024 * 1024)
MLLP_IDLE_TIMEOUT_SECONDS = env_int("MLLP_IDLE_TIMEOUT_SECONDS", 600)
MLLP_WORKERS = env_int("MLLP_WORKERS", 8)
# Listener processes sharing MLLP_PORT (SO_REUSEPORT): the engine is Python, one process uses one core.
# A connection stays on one process; the bounds below and MLLP_WORKERS are per process.
MLLP_PROCESSES = env_int("MLLP_PROCESSES", 1)
# Bounds against a flood: connections open at once (one more is closed at once), and bytes of frames
# held, being received or processed, over all connections (a frame beyond is answered AR, resend later).
MLLP_MAX_CONNECTIONS = env_int("MLLP_MAX_CONNECTIONS", 64)
MLLP_MAX_BYTES_IN_FLIGHT = env_int("MLLP_MAX_BYTES_IN_FLIGHT", 64 * 1024 * 1024)
# The intermediation platform (PFI) the DPI sends its MDM messages to; the sandbox simulator listens
# there by default and sends its business acknowledgements (ZAM) to MLLP_HOST:MLLP_PORT.
PFI_HOST = env("PFI_HOST", "127.0.0.1")
PFI_PORT = env_int("PFI_PORT", 2576)
SANDBOX_PFI_ZAM_DELAY_SECONDS = float(env("SANDBOX_PFI_ZAM_DELAY_SECONDS", "2.0"))
HL7_APPLICATION = env("HL7_APPLICATION", "DPI")
HL7_FACILITY = env("HL7_FACILITY", "DPI")
HL7_DEFAULT_CHARSET = env("HL7_DEFAULT_CHARSET", "UNICODE UTF-8")
HL7_PROCESSING_ID = env("HL7_PROCESSING_ID", "P")  # MSH-11 of the messages the DPI sends: P, T or D

# --- DMP and MSSanté feeding through the PFI ------------------------------------------------

PFI_APPLICATION = env("PFI_APPLICATION", "PFI")
PFI_FACILITY = env("PFI_FACILITY", "PFI")
PFI_TIMEOUT_SECONDS = float(env("PFI_TIMEOUT_SECONDS", "30"))
DMP_FEEDING_DELAY_MINUTES = env_int("DMP_FEEDING_DELAY_MINUTES", 60)  # unless a FeedingDelay rule says otherwise
DMP_FEEDING_MAX_ATTEMPTS = env_int("DMP_FEEDING_MAX_ATTEMPTS", 8)
DMP_FEEDING_BACKOFF_SECONDS = float(env("DMP_FEEDING_BACKOFF_SECONDS", "30"))
DMP_FEEDING_MAX_BACKOFF_SECONDS = float(env("DMP_FEEDING_MAX_BACKOFF_SECONDS", "3600"))
DMP_FEEDING_LEASE_SECONDS = float(env("DMP_FEEDING_LEASE_SECONDS", "120"))
DMP_FEEDING_SWEEP_SECONDS = float(env("DMP_FEEDING_SWEEP_SECONDS", "15"))
CELERY_BEAT_SCHEDULE["dmp-dispatch-due-orders"] = {
    "task": "dmp.dispatch_due_orders",
    "schedule": DMP_FEEDING_SWEEP_SECONDS,
}

# --- Usage indicators (SC.STAT/ES.01): the per-document outcomes refreshed in the background ---

STATS_REFRESH_SECONDS = float(env("STATS_REFRESH_SECONDS", "300"))
CELERY_BEAT_SCHEDULE["stats-refresh-outcomes"] = {"task": "stats.refresh_outcomes", "schedule": STATS_REFRESH_SECONDS}

# --- DMP consultation (AIR simplifié): SOAP 1.2 over HTTPS with mutual TLS, see docs/dmp-consultation.md ---

DMP_CONSULTATION_ENABLED = env_bool("DMP_CONSULTATION_ENABLED", True)
# The DMP's endpoints; by default the sandbox DMP on loopback (run_sandbox).
SANDBOX_DMP_HOST = env("SANDBOX_DMP_HOST", "127.0.0.1")
SANDBOX_DMP_PORT = env_int("SANDBOX_DMP_PORT", 8443)  # SOAP over HTTPS, client certificate required
SANDBOX_DMP_WEB_PORT = env_int("SANDBOX_DMP_WEB_PORT", 8444)  # web PS and DRIMbox pages, for the browser
_DMP_SANDBOX = f"https://{SANDBOX_DMP_HOST}:{SANDBOX_DMP_PORT}/si-dmp-server/v2/services"
_WEB_SANDBOX = f"http://{SANDBOX_DMP_HOST}:{SANDBOX_DMP_WEB_PORT}"
DMP_PATIENTS_URL = env("DMP_PATIENTS_URL", f"{_DMP_SANDBOX}/patients")  # TD0.2, TD0.3
DMP_REGISTRY_URL = env("DMP_REGISTRY_URL", f"{_DMP_SANDBOX}/registry")  # TD3.1 (ITI-18), TD3.3 (ITI-57)
DMP_REPOSITORY_URL = env("DMP_REPOSITORY_URL", f"{_DMP_SANDBOX}/repository")  # TD3.2 (ITI-43)
DMP_WEBPS_URL = env("DMP_WEBPS_URL", f"{_WEB_SANDBOX}/webps/contexte")  # TD0.10, opened in the user's browser
DRIMBOX_URL = env("DRIMBOX_URL", f"{_WEB_SANDBOX}/drimbox/contexte")  # consumer DRIMbox, contextual call
# The structure's certificates (IGC-Santé in production; the sandbox's test PKI by default, made by
# `manage.py sandbox_pki` under var/pki/): TLS client authentication, VIHF signature, DMP server trust.
DMP_PKI_DIR = Path(env("DMP_PKI_DIR", str(VAR_DIR / "pki")))
DMP_CLIENT_CERT = env("DMP_CLIENT_CERT", str(DMP_PKI_DIR / "structure.crt"))
DMP_CLIENT_KEY = env("DMP_CLIENT_KEY", str(DMP_PKI_DIR / "structure.key"))
DMP_SIGNING_CERT = env("DMP_SIGNING_CERT", DMP_CLIENT_CERT)
DMP_SIGNING_KEY = env("DMP_SIGNING_KEY", DMP_CLIENT_KEY)
DMP_CA_BUNDLE = env("DMP_CA_BUNDLE", str(DMP_PKI_DIR / "ca.crt"))
DMP_TIMEOUT_SECONDS = float(env("DMP_TIMEOUT_SECONDS", "8"))
DMP_CONNECT_TIMEOUT_SECONDS = float(env("DMP_CONNECT_TIMEOUT_SECONDS", "3"))
DMP_MAX_RESPONSE_BYTES = env_int("DMP_MAX_RESPONSE_BYTES", 64 * 1024 * 1024)  # a larger answer is refused
# VIHF (the SAML assertion every request carries): version and the software's identity.
DMP_VIHF_VERSION = env("DMP_VIHF_VERSION", "3.0")
DMP_SECTEUR_ACTIVITE = env("DMP_SECTEUR_ACTIVITE", "SA01")  # JDV_J61 code of the hospital's activity sector
DMP_LPS_NAME = env("DMP_LPS_NAME", "DPI Segur open source")
DMP_LPS_HOMOLOGATION_ID = env("DMP_LPS_HOMOLOGATION_ID", "")
# How long a patient's DMP answers (existence, authorisation, lists) are reused while the user stays
# on the file; "Actualiser" asks again at once. The first automatic search spans this many years.
DMP_CACHE_MINUTES = env_int("DMP_CACHE_MINUTES", 15)
DMP_FIRST_SEARCH_YEARS = env_int("DMP_FIRST_SEARCH_YEARS", 2)
# The web PS opened through ProSanté Connect (DPI.AUTH.01/02) for a user signed in with PSC: the DMP asks PSC
# itself, whose session answers without a new sign-in. Empty: the VIHF form (AIR) for everyone.
DMP_WEBPS_PSC_URL = env("DMP_WEBPS_PSC_URL", f"{_WEB_SANDBOX}/webps/psc")
CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"] += sorted(
    {"/".join(url.split("/", 3)[:3]) for url in (DMP_WEBPS_URL, DRIMBOX_URL)}
)  # the contextual accesses are forms posted to these origins

# --- Sample data published by the national agency (tests only) ----------------------------

SAMPLES_DIR = Path(env("DPI_SAMPLES_DIR", str(BASE_DIR.parent / "shared" / "samples")))
# The national CDA validation chain (ANS TestContenuCDA 3.0 kit with validate_cda.py) the conformance tests
# run on every document the DPI produces; beside the samples by default.
CDA_VALIDATORS_DIR = Path(env("DPI_CDA_VALIDATORS_DIR", str(SAMPLES_DIR.parent / "validators" / "cda-ans")))

# --- Documents ----------------------------------------------------------------------------

# OID root of the hospital's document identifiers (setId = ROOT.1.n, version ids = ROOT.2.n.v) and
# of its IPP domain. Each hospital registers its own OID; the default is for the demo and tests.
DPI_OID_ROOT = env("DPI_OID_ROOT", "1.2.250.1.999.1")
DPI_IPP_OID = env("DPI_IPP_OID", f"{DPI_OID_ROOT}.3")

# The CDA R2 schema (CDA_extended.xsd, published with the CI-SIS test kit) used to validate the
# CDA documents the DPI produces; the hospital installs it, by default the national samples folder.
CDA_SCHEMA_PATH = Path(env("DPI_CDA_SCHEMA_PATH", str(SAMPLES_DIR / "cda-schema" / "CDA_extended.xsd")))

# The national agency's CDA display stylesheet (XSLT 1.0, e.g. cda_asip.xsl with its imports, cda_l10n.xml
# and cda.css), installed by the hospital in one folder; empty: only the DPI's own stylesheet is offered.
CDA_AGENCY_STYLESHEET_DIR = env("DPI_CDA_AGENCY_STYLESHEET_DIR", "")
CDA_AGENCY_STYLESHEET_NAME = env("DPI_CDA_AGENCY_STYLESHEET_NAME", "cda_asip.xsl")

# Every CDA rendering (ours, the agency's, a producer's stylesheet) runs in a child process within these limits;
# a stylesheet that exceeds them on a document is shown as too costly, ours instead, and not run on it again.
CDA_XSLT_TIMEOUT_SECONDS = float(env("DPI_CDA_XSLT_TIMEOUT_SECONDS", "10"))
CDA_XSLT_MAX_MEMORY_MB = env_int("DPI_CDA_XSLT_MAX_MEMORY_MB", 1024)
CDA_XSLT_MAX_OUTPUT_BYTES = env_int("DPI_CDA_XSLT_MAX_OUTPUT_BYTES", 32 * 1024 * 1024)

# --- Annuaire Santé (national directory), see docs/annuaire.md ------------------------------------

# A load of the open-data extract that would deactivate more than this share of the active practice
# situations is refused (a truncated file must not empty the directory); the administrator loads it anyway
# by raising this value for one run.
DIRECTORY_MAX_DEACTIVATED_PERCENT = float(env("DIRECTORY_MAX_DEACTIVATED_PERCENT", "10"))
# How often beat checks the administrator's schedule of loads (DirectorySchedule in the admin).
DIRECTORY_SCHEDULE_SWEEP_SECONDS = float(env("DIRECTORY_SCHEDULE_SWEEP_SECONDS", "300"))
CELERY_BEAT_SCHEDULE["directory-start-due-load"] = {
    "task": "directory.start_due_load",
    "schedule": DIRECTORY_SCHEDULE_SWEEP_SECONDS,
}

# The Annuaire Santé FHIR API (v2) searched for correspondents and their MSSanté addresses. In production
# ANNUAIRE_FHIR_URL=https://gateway.api.esante.gouv.fr/fhir/v2 and ANNUAIRE_API_KEY the key of the
# hospital's application on the ANS portal; by default the sandbox server on loopback (run_sandbox).
SANDBOX_ANNUAIRE_HOST = env("SANDBOX_ANNUAIRE_HOST", "127.0.0.1")
SANDBOX_ANNUAIRE_PORT = env_int("SANDBOX_ANNUAIRE_PORT", 8452)
SANDBOX_ANNUAIRE_PEOPLE = env_int("SANDBOX_ANNUAIRE_PEOPLE", 2000)  # the first N people of the extract
SANDBOX_ANNUAIRE_SEED = env_int("SANDBOX_ANNUAIRE_SEED", 0)
SANDBOX_ANNUAIRE_API_KEY = env("SANDBOX_ANNUAIRE_API_KEY", "bac-a-sable-esante")
ANNUAIRE_FHIR_URL = env("ANNUAIRE_FHIR_URL", f"http://{SANDBOX_ANNUAIRE_HOST}:{SANDBOX_ANNUAIRE_PORT}/fhir/v2")
ANNUAIRE_API_KEY = env("ANNUAIRE_API_KEY", SANDBOX_ANNUAIRE_API_KEY)
ANNUAIRE_TIMEOUT_SECONDS = float(env("ANNUAIRE_TIMEOUT_SECONDS", "8"))
ANNUAIRE_RATE_PER_SECOND = float(env("ANNUAIRE_RATE_PER_SECOND", "17"))  # the gateway's limit per application
ANNUAIRE_MAX_RESULTS = env_int("ANNUAIRE_MAX_RESULTS", 20)  # professionals shown per search

# --- Logging ------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "weasyprint.progress": {"level": "WARNING"}},
}

SILENCED_SYSTEM_CHECKS: list[str] = []

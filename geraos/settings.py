"""GeraOS settings, read from the environment (twelve-factor).

Zero-setup default: SQLite, eager Celery and a local-memory cache. Production sets
DATABASE_URL (PostgreSQL), REDIS_URL and real secrets; see README "Configuration".
"""

import contextlib
import os
import re
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_EVAL, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from import_export.formats.base_formats import CSV

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.DOTALL)


def _pem_blocks(name: str, text: str) -> list[str]:
    """Each PEM block in the variable `name` (keys may be pasted one after another),
    whatever it holds: the deploy check (identity.E001) names a key that cannot sign,
    where skipping it would let the next key take its place."""
    if _PEM_BLOCK.sub("", text).strip():
        raise ImproperlyConfigured(f"{name} holds text that is not a PEM block.")
    return [match.group(0) + "\n" for match in _PEM_BLOCK.finditer(text)]


def _dev_oidc_key() -> str:
    """The development ID-token key: made on the first run and kept in var/, so tokens
    issued before a restart still verify. Never used with DEBUG off."""
    path = BASE_DIR / "var" / "oidc-dev-key.pem"
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(exist_ok=True)
        written = path.with_suffix(f".{os.getpid()}")
        written.unlink(missing_ok=True)  # left by a process of this pid that died here
        # Readable by its owner only, from the moment it exists (not the umask's 0644).
        with os.fdopen(os.open(written, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(pem)
        # Published whole or not at all: a second process starting now keeps the first key.
        with contextlib.suppress(FileExistsError):
            os.link(written, path)
        written.unlink()
    return path.read_text()


# ---------------------------------------------------------------------------
# Core
# ---------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
# A TLS-terminating proxy in front (production): it sets X-Forwarded-Proto and -For.
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=not DEBUG)

# The dev secret exists only in DEBUG, so a production process can never boot on it.
_DEV_SECRET_KEY = "django-insecure-geraos-local-development-only"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

GERAOS_HOME_CURRENCY = env.str("GERAOS_HOME_CURRENCY", default="GBP")

# Memory values are encrypted with these keys (see apps/memory/crypto.py). Like the
# secret key, a development default exists only in DEBUG.
_DEV_MEMORY_KEY = "dev:ZGV2ZWxvcG1lbnQtb25seS1tZW1vcnkta2V5LTMyYnk"
GERAOS_MEMORY_KEYS = env.str("GERAOS_MEMORY_KEYS", default=_DEV_MEMORY_KEY if DEBUG else "")
if not GERAOS_MEMORY_KEYS:
    raise ImproperlyConfigured("GERAOS_MEMORY_KEYS must be set when DEBUG is off.")

# Two-factor secrets and personal fields (payers' accounts, dispatch details) are sealed
# with the sealing keys; a sealed value that must be found again (a memory item's key) is
# found by its keyed hash under the lookup keys. Both are keyrings like the memory keys
# (apps/core/sealing.py), with development defaults only in DEBUG.
_DEV_SEALING_KEY = "dev:ZGV2ZWxvcG1lbnQtb25seS1zZWFsaW5nLWtleS0zMmI"
GERAOS_SEALING_KEYS = env.str("GERAOS_SEALING_KEYS", default=_DEV_SEALING_KEY if DEBUG else "")
if not GERAOS_SEALING_KEYS:
    raise ImproperlyConfigured("GERAOS_SEALING_KEYS must be set when DEBUG is off.")
_DEV_LOOKUP_KEY = "dev:ZGV2ZWxvcG1lbnQtb25seS1sb29rdXAta2V5LTMyYnk"
GERAOS_LOOKUP_KEYS = env.str("GERAOS_LOOKUP_KEYS", default=_DEV_LOOKUP_KEY if DEBUG else "")
if not GERAOS_LOOKUP_KEYS:
    raise ImproperlyConfigured("GERAOS_LOOKUP_KEYS must be set when DEBUG is off.")

# What `rotate_sealing_key` moves to the primary keys besides every model's SealedProperty
# columns (which it finds itself): values sealed or hashed another way. Each names the
# function that moves them and the one that counts those still under an old key.
GERAOS_RESEALERS = {
    "two-factor secrets": (
        "apps.identity.mfa.mfa_secrets_reseal",
        "apps.identity.mfa.mfa_secrets_under_old_keys",
    ),
    "memory keys' hashes": (
        "apps.memory.services.memory_keys_rehash",
        "apps.memory.services.memory_keys_hashed_under_old_keys",
    ),
    "sessions": (
        "apps.core.sessions.sessions_reseal",
        "apps.core.sessions.sessions_under_old_keys",
    ),
}

# Seals the trust layer's Ed25519 private keys at rest (32 bytes, base64); the origin
# names this GeraOS's transparency log in its checkpoints.
_DEV_TRUST_KEY_SECRET = "ZGV2ZWxvcG1lbnQtb25seS10cnVzdC1rZXktMzJieXQ"  # noqa: S105
GERAOS_TRUST_KEY_SECRET = env.str(
    "GERAOS_TRUST_KEY_SECRET", default=_DEV_TRUST_KEY_SECRET if DEBUG else ""
)
if not GERAOS_TRUST_KEY_SECRET:
    raise ImproperlyConfigured("GERAOS_TRUST_KEY_SECRET must be set when DEBUG is off.")
# Published with the source, so refused when DEBUG is off (apps.core.sealing.keys_check);
# every key setting is read as the process starts.
GERAOS_DEVELOPMENT_KEYS = [
    *(entry.partition(":")[2] for entry in (_DEV_MEMORY_KEY, _DEV_SEALING_KEY, _DEV_LOOKUP_KEY)),
    _DEV_TRUST_KEY_SECRET,
]
GERAOS_LOG_ORIGIN = env.str("GERAOS_LOG_ORIGIN", default="geraos.example/receipts")

# The currencies GeraOS keeps money in: the home currency, the rails' and the demo rates'.
# They are the money fields' choices, so they are written into the migrations: the names
# are spelled out here because babel's (django-money's default) change between releases.
# Prices asked in other ISO 4217 currencies still reach the API; without a rate they are
# refused as unsupported_currency.
CURRENCY_CHOICES = [
    ("AMD", "Armenian Dram"),
    ("BRL", "Brazilian Real"),
    ("GBP", "British Pound"),
    ("EUR", "Euro"),
    ("INR", "Indian Rupee"),
    ("JPY", "Japanese Yen"),
    ("KES", "Kenyan Shilling"),
    ("NGN", "Nigerian Naira"),
    ("USD", "US Dollar"),
]
if GERAOS_HOME_CURRENCY not in dict(CURRENCY_CHOICES):
    raise ImproperlyConfigured(
        f"GERAOS_HOME_CURRENCY must be one of {', '.join(dict(CURRENCY_CHOICES))}."
    )

# FX: django-money's exchange tables, filled from a rates file or URL (JSON: base, rates).
BASE_CURRENCY = GERAOS_HOME_CURRENCY
EXCHANGE_BACKEND = "apps.payments.fx.RatesSourceBackend"
GERAOS_FX_SOURCE = env.str(
    "GERAOS_FX_SOURCE", default=str(BASE_DIR / "apps/payments/demo_rates.json")
)
GERAOS_QUOTE_TTL_SECONDS = env.int("GERAOS_QUOTE_TTL_SECONDS", default=900)

# Sandbox rails run simulators and believe a webhook secret published in the source: with
# DEBUG off a deployment holding one refuses to serve unless this says it is a sandbox.
GERAOS_SANDBOX_ALLOWED = env.bool("GERAOS_SANDBOX_ALLOWED", default=DEBUG)

# Callbacks anyone can send (M-Pesa, PIX, Idram's precheck) per rail and source address.
GERAOS_RAIL_CALLBACK_RATE = env.str("GERAOS_RAIL_CALLBACK_RATE", default="300/min")

# The public base URL rails call back to (M-Pesa's CallBackURL, …).
GERAOS_PUBLIC_URL = env.str("GERAOS_PUBLIC_URL", default="http://127.0.0.1:8000")
# Provider endpoints and agent callbacks are URLs others choose: in production GeraOS
# refuses to send them to loopback, private or link-local addresses (no SSRF into the
# platform's own network). Development serves providers and agents on this machine.
GERAOS_OUTBOUND_PRIVATE_ALLOWED = env.bool("GERAOS_OUTBOUND_PRIVATE_ALLOWED", default=DEBUG)

# M-Pesa (Daraja). Sandbox rails ignore these and use the built-in simulator.
MPESA_BASE_URL = env.str("MPESA_BASE_URL", default="https://sandbox.safaricom.co.ke")
MPESA_CONSUMER_KEY = env.str("MPESA_CONSUMER_KEY", default="")
MPESA_CONSUMER_SECRET = env.str("MPESA_CONSUMER_SECRET", default="")
MPESA_SHORTCODE = env.str("MPESA_SHORTCODE", default="174379")
MPESA_PASSKEY = env.str("MPESA_PASSKEY", default="")
MPESA_INITIATOR = env.str("MPESA_INITIATOR", default="")
MPESA_SECURITY_CREDENTIAL = env.str("MPESA_SECURITY_CREDENTIAL", default="")

# PIX through a PSP's BACEN-standard API.
PIX_BASE_URL = env.str("PIX_BASE_URL", default="https://pix.sandbox.example")
PIX_ACCESS_TOKEN = env.str("PIX_ACCESS_TOKEN", default="")
PIX_KEY = env.str("PIX_KEY", default="pix@gera.example")

# Idram merchant account and the secret key its callbacks' EDP_CHECKSUM uses.
IDRAM_ACCOUNT = env.str("IDRAM_ACCOUNT", default="110000601")
IDRAM_SECRET_KEY = env.str(
    "IDRAM_SECRET_KEY", default="geraos-idram-sandbox-secret" if DEBUG else ""
)

# UPI through a PSP's collect API; callbacks carry HMAC-SHA256(body) in X-Signature.
UPI_BASE_URL = env.str("UPI_BASE_URL", default="https://upi.sandbox.example")
UPI_API_KEY = env.str("UPI_API_KEY", default="")
UPI_MERCHANT_ID = env.str("UPI_MERCHANT_ID", default="GERAOS")
UPI_WEBHOOK_SECRET = env.str(
    "UPI_WEBHOOK_SECRET", default="geraos-upi-sandbox-secret" if DEBUG else ""
)

# Studio billing. Without a secret key the upgrade button explains billing is off.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Payment events come to their own endpoint, signed with that endpoint's secret.
STRIPE_PAYMENTS_WEBHOOK_SECRET = env.str("STRIPE_PAYMENTS_WEBHOOK_SECRET", default="")

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.import_export",
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
    "drf_standardized_errors",
    "django_countries",
    "djmoney",
    "djmoney.contrib.exchange",
    "import_export",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.idp.oidc",
    "apps.core",
    "apps.identity",
    "apps.catalog",
    "apps.memory",
    "apps.payments",
    "apps.dispatch",
    "apps.trust",
]

MIDDLEWARE = [
    "apps.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy (see "Security" below).
    "apps.core.middleware.ContentSecurityPolicyMiddleware",
    "apps.core.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Staff reach /admin/ only with a second factor (README "Accounts").
    "apps.identity.middleware.StaffMFAMiddleware",
    # Forms on the way to a Sign in with Gera client may end there (README "Security").
    "apps.identity.middleware.ClientFormTargetsMiddleware",
]

ROOT_URLCONF = "geraos.urls"
WSGI_APPLICATION = "geraos.wsgi.application"
ASGI_APPLICATION = "geraos.asgi.application"

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
            ],
        },
    },
]

# ---------------------------------------------------------------------------
# Data stores
# ---------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Web processes are ASGI: Django serves each request in a thread of its own, so a
# connection kept after its request (CONN_MAX_AGE) is never used again, only left open
# until its thread is collected (a burst of requests took every PostgreSQL connection).
# So no connection outlives its request; on PostgreSQL it goes back to the process's
# pool, which bounds how many a process holds (a request past them waits up to the
# timeout, then fails as a database error) and checks one before handing it out, so one
# PostgreSQL closed (a restart) is replaced. Celery workers share these settings: Celery's
# Django fixup hands the connection back around every task, and under prefork closes the
# pool too, so a worker connects once per task, as it did before the pool.
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# The cache may live in its own Redis database, so flushing it never drops queued tasks.
REDIS_CACHE_URL = env.str("REDIS_CACHE_URL", default=REDIS_URL)

# allauth's limits that stop someone guessing a secret: failed sign-ins (passwords, and
# the code confirming a new authenticator app), two-factor codes (identity.two_factor),
# the password asked again of a signed-in user, and the password-reset link's key.
GERAOS_CREDENTIAL_LIMITS = ["login_failed", "mfa_code", "reauthenticate", "reset_password_from_key"]

if REDIS_CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "apps.core.cache.RedisCache",
            "LOCATION": REDIS_CACHE_URL,
            "KEY_PREFIX": "geraos",
            "TIMEOUT": 300,
            # While Redis is away the credential limits count in PostgreSQL, and allauth's
            # other limits (the login form's, sign-up, sending reset mails) admit, as the
            # API's do; every other key raises (README "Security").
            "FAIL_OVER_KEY_PREFIXES": [
                f"allauth:rl:allauth.account:{action}:" for action in GERAOS_CREDENTIAL_LIMITS
            ],
            "FAIL_OVER_CACHE": "limits_fallback",
            "FAIL_OPEN_KEY_PREFIXES": ["allauth:rl:"],
        },
        # Django's database cache; core 0006 creates its table.
        "limits_fallback": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "core_limits_fallback",
            "KEY_PREFIX": "geraos",
            # Past this many rows Django deletes a third of them, live counts included:
            # far more than an outage's sign-in attempts. Expired rows go as they are read.
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        },
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# ---------------------------------------------------------------------------
# Celery (read by geraos/celery.py through the CELERY_ namespace)
# ---------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
# Nothing reads a task's result (state lives in the database), and a process queueing a
# task while Redis is down must not wait on a result store to give up (a test that reads
# one asks for it).
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only after it ran, and re-queued if its worker dies mid-way.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
# Redis re-delivers an unacknowledged task only after this long, so it must exceed every
# task's time limit plus its longest countdown, or a slow task runs twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A Redis restart takes a second or two: a worker queueing a task waits out about 5 s of
# it, so a step that committed its move still queues the next one (past that, the
# stuck-order sweep does, within about 3 minutes). geraos/celery.py gives workers this
# policy; web processes keep Celery's short one, so a request is not held for 5 s when
# Redis is down (the sweeps queue its work).
GERAOS_WORKER_PUBLISH_RETRY_POLICY = {
    "max_retries": 8,
    "interval_start": 0,
    "interval_step": 0.25,
    "interval_max": 1,
}
# A worker that loses Redis lets its running step finish (Celery 6 would cancel it): the
# step records what the rail or provider answered instead of asking again.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "memory-purge-expired": {"task": "memory.purge_expired", "schedule": 3600.0},
    "core-purge-idempotency": {"task": "core.purge_idempotency_records", "schedule": 3600.0},
    "payments-import-fx-rates": {"task": "payments.import_fx_rates", "schedule": 3600.0},
    "payments-reconcile-stuck": {"task": "payments.reconcile_stuck", "schedule": 300.0},
    "dispatch-resume-stuck": {"task": "dispatch.resume_stuck", "schedule": 60.0},
    "dispatch-resume-lost-callbacks": {"task": "dispatch.resume_lost_callbacks", "schedule": 60.0},
    "trust-integrate-log": {"task": "trust.integrate_log", "schedule": 5.0},
}
# A receipt is in a signed checkpoint of the transparency log (has an inclusion proof)
# within this many seconds of its issue, as Certificate Transparency's maximum merge
# delay: its commit queues an integration, and beat runs one ("trust-integrate-log", at
# most half this) in case that was lost; receipts not yet integrated say so
# (docs/DESIGN.md "Receipts").
GERAOS_LOG_MAX_INTEGRATION_DELAY = 10

# ---------------------------------------------------------------------------
# Accounts: custom user, allauth, MFA, passwords
# ---------------------------------------------------------------------------
AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "identity:me"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_ADAPTER = "apps.identity.adapter.AccountAdapter"
# Failed sign-ins: 10 a minute from one address, and 5 in 5 minutes for one account from
# one address (the adapter keys `key` by account and address), so nobody elsewhere can
# lock an account. Two-factor codes (identity.two_factor, `key` likewise): the same, and
# at most 15 an hour for one account from one address, under 60 an hour for one account
# from anywhere, a ceiling one address alone never reaches (four do, and can keep it full).
# allauth's other limits keep their defaults.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "mfa_code": "10/m/ip,5/5m/key,15/h/key,60/h/user",
}
# Behind the TLS proxy the client's address is the last X-Forwarded-For entry, as for the
# API; without this every sign-in would count against the proxy's one address.
ALLAUTH_TRUSTED_PROXY_COUNT = 1 if BEHIND_TLS_PROXY else 0
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[GeraOS] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# Seals TOTP secrets and recovery-code seeds at rest (GERAOS_SEALING_KEYS).
MFA_ADAPTER = "apps.identity.mfa.MFAAdapter"
# The code forms remember used TOTP codes in the database, not the cache, the code that
# confirmed a new authenticator app among them.
MFA_FORMS = {
    "authenticate": "apps.identity.two_factor.AuthenticateForm",
    "reauthenticate": "apps.identity.two_factor.ReauthenticateForm",
    "activate_totp": "apps.identity.two_factor.ActivateTOTPForm",
}
MFA_TOTP_ISSUER = "GeraOS"

_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = "apps.core.email_backend.CeleryEmailBackend"
GERAOS_EMAIL_DELIVERY_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="GeraOS <no-reply@gera.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# ---------------------------------------------------------------------------
# Sign in with Gera: the OpenID Connect provider (allauth.idp.oidc; README "Sign in with Gera")
# ---------------------------------------------------------------------------
IDP_OIDC_ADAPTER = "apps.identity.oidc.adapter.OIDCAdapter"
# ID tokens are signed (RS256) with this RSA private key (PEM). Keys in the published
# keys are in the provider's JWKS too but sign nothing: the next key before it takes over,
# the previous one until what it signed expired (README "Sign in with Gera", rotating).
# Like the other keys, a development default exists only in DEBUG: made on first run.
GERAOS_OIDC_PRIVATE_KEY = env.str(
    "GERAOS_OIDC_PRIVATE_KEY", multiline=True, default=_dev_oidc_key() if DEBUG else ""
)
if not GERAOS_OIDC_PRIVATE_KEY:
    raise ImproperlyConfigured("GERAOS_OIDC_PRIVATE_KEY must be set when DEBUG is off.")
_OIDC_SIGNING_KEYS = _pem_blocks("GERAOS_OIDC_PRIVATE_KEY", GERAOS_OIDC_PRIVATE_KEY)
if len(_OIDC_SIGNING_KEYS) != 1:
    raise ImproperlyConfigured(
        "GERAOS_OIDC_PRIVATE_KEY must hold exactly one PEM private key, the one that signs "
        f"(it holds {len(_OIDC_SIGNING_KEYS)}); keys only published go in "
        "GERAOS_OIDC_PUBLISHED_KEYS."
    )
GERAOS_OIDC_PUBLISHED_KEYS = env.str("GERAOS_OIDC_PUBLISHED_KEYS", multiline=True, default="")
# The signing key first (adapter.get_signing_key takes it), then the published ones.
IDP_OIDC_PRIVATE_KEYS = [
    {"pem": pem}
    for pem in [
        *_OIDC_SIGNING_KEYS,
        *_pem_blocks("GERAOS_OIDC_PUBLISHED_KEYS", GERAOS_OIDC_PUBLISHED_KEYS),
    ]
]
IDP_OIDC_ACCESS_TOKEN_EXPIRES_IN = 3600
IDP_OIDC_ID_TOKEN_EXPIRES_IN = 300
# Rotated on every use; a product's lasts 30 days, an agent's never past its grant.
IDP_OIDC_ROTATE_REFRESH_TOKEN = True
IDP_OIDC_REFRESH_TOKEN_EXPIRES_IN = 30 * 24 * 3600
IDP_OIDC_INTROSPECTION_ENABLED = True
# Clients are registered by operators in the admin: no self-registration (README
# "Connect an agent" says why).
IDP_OIDC_DCR_ENABLED = False
IDP_OIDC_CIMD_ENABLED = False
# A product signing out with the ID token it was given signs the person out at once; one
# without it asks them first.
IDP_OIDC_RP_INITIATED_LOGOUT_ASKS_FOR_OP_LOGOUT = False
# allauth's own limits, and one on the token endpoint (apps.identity.oidc.views.token).
IDP_OIDC_RATE_LIMITS = {"token": env.str("GERAOS_OIDC_TOKEN_RATE", default="60/m/ip")}

# ---------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.identity.authentication.AgentTokenAuthentication",
        "apps.identity.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.strict_json.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "apps.core.api.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_CLASSES": ["apps.core.api.throttling.CallerRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "caller": env.str("GERAOS_API_RATE", default="1200/min"),
        "money": env.str("GERAOS_API_MONEY_RATE", default="120/min"),
    },
    # Behind the TLS proxy the client's address is the last one it appends; without one,
    # X-Forwarded-For is the client's own say-so and is ignored.
    "NUM_PROXIES": 1 if BEHIND_TLS_PROXY else 0,
}
DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "apps.core.api.exceptions.ExceptionHandler",
    "EXCEPTION_FORMATTER_CLASS": "apps.core.api.exceptions.ErrorFormatter",
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GeraOS API",
    "DESCRIPTION": "Identity, memory, payments, dispatch and trust for AI agents.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "CurrencyEnum": "apps.core.money.ISO_CURRENCY_CHOICES",
        "DispatchStatusEnum": "apps.dispatch.models.DispatchOrder.Status",
    },
}


# ---------------------------------------------------------------------------
# Operator admin (django-unfold)
# ---------------------------------------------------------------------------
def _nav(title: str, icon: str, link: str) -> dict:
    """A sidebar entry for a model's list, shown to staff the admin lets see it."""
    app_label, model_name = link.strip("/").split("/")[1:]
    return {
        "title": title,
        "icon": icon,
        "link": link,
        "permission": _may_see(app_label, model_name),
    }


def _may_see(app_label: str, model_name: str):
    # The admin's own rule: viewing needs the view or the change permission.
    names = [f"{app_label}.view_{model_name}", f"{app_label}.change_{model_name}"]
    return lambda request: any(request.user.has_perm(name) for name in names)


UNFOLD = {
    "SITE_TITLE": "GeraOS operator",
    "SITE_HEADER": "GeraOS",
    "SITE_SUBHEADER": "Operator portal",
    "SITE_SYMBOL": "hub",
    "SHOW_HISTORY": True,
    "ENVIRONMENT": "apps.payments.selectors.sandbox_environment",
    "DASHBOARD_CALLBACK": "apps.core.admin_dashboard.dashboard_callback",
    "STYLES": ["apps.core.admin_dashboard.badge_stylesheet"],
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": [
            {
                "title": "Identity",
                "items": [
                    _nav("Users", "person", "/admin/identity/user/"),
                    _nav("Email addresses", "mail", "/admin/account/emailaddress/"),
                    _nav("Two-factor devices", "phonelink_lock", "/admin/mfa/authenticator/"),
                    _nav("Roles", "badge", "/admin/auth/group/"),
                    _nav("Agent grants", "smart_toy", "/admin/identity/agentgrant/"),
                    _nav("Sign in with Gera clients", "login", "/admin/allauth_idp_oidc/client/"),
                ],
            },
            {
                "title": "Dispatch",
                "items": [
                    _nav("Orders", "local_shipping", "/admin/dispatch/dispatchorder/"),
                    _nav("Skills", "handyman", "/admin/catalog/skill/"),
                    _nav("Providers", "engineering", "/admin/catalog/provider/"),
                ],
            },
            {
                "title": "Memory and consent",
                "items": [
                    _nav("Scopes", "category", "/admin/memory/memoryscope/"),
                    _nav("Consents", "verified_user", "/admin/memory/consentgrant/"),
                    _nav("Access log", "history", "/admin/memory/accesslogentry/"),
                    _nav("Items (masked)", "lock", "/admin/memory/memoryitem/"),
                    _nav("Products", "storefront", "/admin/catalog/product/"),
                ],
            },
            {
                "title": "Trust",
                "items": [
                    _nav("Disputes", "gavel", "/admin/trust/dispute/"),
                    _nav("Receipts", "receipt_long", "/admin/trust/receipt/"),
                    _nav("Log checkpoints", "account_tree", "/admin/trust/treehead/"),
                    _nav("Signing keys", "key", "/admin/trust/signingkey/"),
                ],
            },
            {
                "title": "Payments",
                "items": [
                    _nav("Payments", "payments", "/admin/payments/payment/"),
                    _nav("Rails", "alt_route", "/admin/payments/rail/"),
                    _nav("Routing rules", "route", "/admin/payments/routingrule/"),
                    _nav("FX rates", "currency_exchange", "/admin/exchange/rate/"),
                    _nav("Quotes", "request_quote", "/admin/payments/quote/"),
                    _nav("Refunds", "undo", "/admin/payments/refund/"),
                    _nav("Rail notices", "notifications", "/admin/payments/providerevent/"),
                ],
            },
            {
                "title": "Audit",
                "items": [
                    _nav("Audit log", "policy", "/admin/core/auditevent/"),
                    _nav("Signed audit heads", "verified", "/admin/trust/auditcheckpoint/"),
                ],
            },
            {
                "title": "Billing",
                "items": [
                    _nav("Plans", "workspace_premium", "/admin/identity/plan/"),
                    _nav("Subscriptions", "autorenew", "/admin/identity/subscription/"),
                    _nav("Stripe events", "webhook", "/admin/identity/stripeevent/"),
                ],
            },
        ],
    },
}

# Exports of a changelist (django-import-export, export only): CSV, and only for staff
# holding `<app>.export_<model>` (apps.core.admin.Exported).
IMPORT_EXPORT_FORMATS = [CSV]
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"

# Each app contributes a section of headline numbers to the operator dashboard.
GERAOS_DASHBOARD_KPIS = {
    "Money (GBP)": "apps.payments.selectors.money_kpis",
    "Payment rails": "apps.payments.selectors.operator_kpis",
    "Money to look at": "apps.payments.selectors.money_to_look_at_kpis",
    "Dispatch": "apps.dispatch.selectors.operator_kpis",
    "Disputes": "apps.trust.selectors.dispute_kpis",
    "Identity": "apps.identity.selectors.operator_kpis",
}

# Each app contributes demo rows through a `seed` function; `manage.py seed_demo` runs
# them in this order.
GERAOS_DEMO_SEEDERS = [
    "apps.identity.demo.seed",
    "apps.catalog.demo.seed",
    "apps.memory.demo.seed",
    "apps.trust.demo.seed",
    "apps.payments.demo.seed",
]
# The demo accounts have published passwords and a published agent token: seed_demo runs
# only where this is on (development), never by accident in production.
GERAOS_DEMO_ALLOWED = env.bool("GERAOS_DEMO_ALLOWED", default=DEBUG)
GERAOS_DEMO_PASSWORD = env.str("GERAOS_DEMO_PASSWORD", default="gera-demo-2026")
# The demo operator's authenticator app secret (base32): the admin asks for its codes.
GERAOS_DEMO_TOTP_SECRET = env.str(
    "GERAOS_DEMO_TOTP_SECRET", default="GERADEMOOPERATORTOTPSECRET234567"
)
GERAOS_DEMO_AGENT_TOKEN = env.str(
    "GERAOS_DEMO_AGENT_TOKEN", default="gera_demo2026_DemoAgentTokenForLocalRunsOnly0000000"
)
# The seeded Gera products' Sign in with Gera client secret.
GERAOS_DEMO_CLIENT_SECRET = env.str(
    "GERAOS_DEMO_CLIENT_SECRET", default="gera-demo-client-secret-local-runs-only"
)

# ---------------------------------------------------------------------------
# Internationalisation, static files
# ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (dispute evidence) are private: stored here, never served as static media.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# ---------------------------------------------------------------------------
# Security: strict unless DEBUG; `manage.py check --deploy` is clean in production
# ---------------------------------------------------------------------------
# Trust X-Forwarded-Proto only where a TLS-terminating proxy sets it (never spoofable).
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
# Sessions stay in the database, sealed (GERAOS_SEALING_KEYS): Django only signs them, and
# allauth keeps an authenticator app's secret in one while it is being set up.
SESSION_ENGINE = "apps.core.sessions"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy (django-csp). User pages run only scripts from GeraOS's own
# static files, or inline ones carrying the response's nonce ({{ request.csp_nonce }}).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # data: for the TOTP QR code
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        # Studio's upgrade and billing buttons post here, then go on to Stripe.
        "form-action": [SELF, "https://checkout.stripe.com", "https://billing.stripe.com"],
        "frame-ancestors": [NONE],
    }
}
# What a part of the site adds to that policy, by the URL name of the part's root.
GERAOS_CSP_ADDS = {
    # django-unfold builds its screens with Alpine.js, whose standard build evaluates its
    # attributes with `new Function`, and styles elements inline (its <style> blocks,
    # style attributes, htmx's indicator styles).
    "admin:index": {"script-src": [UNSAFE_EVAL], "style-src": [UNSAFE_INLINE]},
    # Swagger UI sets styles inline; its script is a file (the split view), no eval.
    "api-docs": {"style-src": [UNSAFE_INLINE]},
}
# The rest of /api/ answers JSON, which nothing renders: it allows nothing.
GERAOS_CSP_API = {"default-src": [NONE], "frame-ancestors": [NONE]}
# Powerful browser features no GeraOS page uses.
GERAOS_PERMISSIONS_POLICY = {
    feature: []
    for feature in [
        "accelerometer", "camera", "display-capture", "geolocation", "gyroscope",
        "magnetometer", "microphone", "midi", "payment", "usb",
    ]
}  # fmt: skip

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Replaces Django's own console handler, which would print every line twice.
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

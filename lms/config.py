"""Configuration classes plus ``LMS_*`` environment variables.

Classes hold the defaults for each environment; environment variables override them so that one build runs
anywhere (a laptop with SQLite, several gunicorn processes on PostgreSQL and Redis).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

ENV_PREFIX = "LMS_"

#: Environment variables read by every configuration, mapped to Flask config keys.
ENV_KEYS: dict[str, str] = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY": "SECRET_KEY",
    "RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "SITE_NAME": "SITE_NAME",
    "PROVIDER_NAME": "PROVIDER_NAME",
    "SMTP_HOST": "SMTP_HOST",
    "SMTP_PORT": "SMTP_PORT",
    "SMTP_USERNAME": "SMTP_USERNAME",
    "SMTP_PASSWORD": "SMTP_PASSWORD",
    "SMTP_STARTTLS": "SMTP_STARTTLS",
    "MAIL_SENDER": "MAIL_SENDER",
    "MAIL_OUTBOX": "MAIL_OUTBOX",
    "BASE_URL": "BASE_URL",
    "LOGIN_LIMIT_PER_ADDRESS": "LOGIN_LIMIT_PER_ADDRESS",
    "LOGIN_LIMIT_PER_ACCOUNT": "LOGIN_LIMIT_PER_ACCOUNT",
    "MAX_UPLOAD_MB": "MAX_UPLOAD_MB",
    "COURSES_DIR": "COURSES_DIR",
    "REDIS_URL": "REDIS_URL",
    "JOBS_MODE": "JOBS_MODE",
    "CERT_SIGNATORY_NAME": "CERT_SIGNATORY_NAME",
    "CERT_SIGNATORY_TITLE": "CERT_SIGNATORY_TITLE",
    "CERT_PAPER": "CERT_PAPER",
    "SIGNING_KEY_FILE": "SIGNING_KEY_FILE",
    "KEYS_DIR": "KEYS_DIR",
    "EXPORTS_DIR": "EXPORTS_DIR",
    "REMEMBER_DAYS": "REMEMBER_DAYS",
    "TRUSTED_PROXIES": "TRUSTED_PROXIES",
    "TIMEZONE": "TIMEZONE",
    "RATELIMIT_PER_PROCESS": "RATELIMIT_PER_PROCESS",
    "REGISTER_LIMIT_PER_ADDRESS": "REGISTER_LIMIT_PER_ADDRESS",
}

_INT_KEYS = {"SMTP_PORT", "MAX_UPLOAD_MB", "REMEMBER_DAYS"}
_BOOL_KEYS = {"SMTP_STARTTLS", "RATELIMIT_PER_PROCESS", "DATABASE_LAZY_TRANSACTIONS"}


class ConfigError(RuntimeError):
    """Raised when the app cannot start safely with the configuration it was given."""


class Config:
    """Defaults shared by every environment."""

    ENV_NAME = "base"
    SITE_NAME = "Helix LMS"
    PROVIDER_NAME = "Helix Medical Education"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # filled from the instance folder when unset
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    #: PostgreSQL: plain reads run without BEGIN/ROLLBACK and the first write opens the transaction; the
    #: pre-ping becomes a ping after 5 s idle (lms/dbconn.py). False restores psycopg's defaults.
    DATABASE_LAZY_TRANSACTIONS = True
    SQLALCHEMY_RECORD_QUERIES = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
    #: The server-side session row expires a fixed time after login (lms.auth.services.start_session), so
    #: re-signing the cookie on every request to slide its expiry would buy nothing and cost a signature
    #: and a Set-Cookie per page; the cookie is rewritten only when the session changes.
    SESSION_REFRESH_EACH_REQUEST = False
    #: argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): about a third of the CPU of
    #: Werkzeug's scrypt default per login (see docs/deployment.md). Older hashes (scrypt, pbkdf2) still
    #: verify and are replaced by argon2id at the owner's next login.
    PASSWORD_HASH_METHOD = "argon2id"  # noqa: S105
    PASSWORD_ARGON2_MEMORY_KIB = 19 * 1024
    PASSWORD_ARGON2_TIME_COST = 2
    PASSWORD_ARGON2_PARALLELISM = 1
    #: how long "Keep me signed in" lasts (the remember-me cookie and its server-side session)
    REMEMBER_DAYS = 14
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 60 * 60 * 8
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    #: a moving window: no burst of twice the limit across a window boundary
    RATELIMIT_STRATEGY = "moving-window"
    #: a prefix of its own: counters left in Redis by the earlier fixed-window strategy have another type
    RATELIMIT_KEY_PREFIX = "lms-mw"
    #: Redis down: count in each process's memory meanwhile (limits stay on, per process) and log a warning,
    #: rather than refuse logins and autosaves during an exam; Flask-Limiter rechecks Redis and switches back
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    #: production refuses per-process (memory://) limit storage unless this is set on purpose
    RATELIMIT_PER_PROCESS = False
    LOGIN_LIMIT_PER_ADDRESS = "30 per 5 minutes"
    LOGIN_LIMIT_PER_ACCOUNT = "10 per 5 minutes"
    #: counts accounts created, not failed posts, so one hospital address is not locked out by typos
    REGISTER_LIMIT_PER_ADDRESS = "20 per hour"
    PASSWORD_RESET_HOURS = 2
    #: per account, so repeated requests cannot flood a mailbox
    RESET_MAILS_PER_HOUR = 3
    LOGIN_LINK_MINUTES = 15
    LOGIN_LINKS_PER_HOUR = 3
    CONFIRM_EMAIL_HOURS = 24
    CONFIRM_MAILS_PER_HOUR = 3
    #: the site's time zone for pages, mail and PDFs (an IANA name); times are stored in UTC
    TIMEZONE = "UTC"
    #: comma-separated addresses or networks of reverse proxies whose X-Forwarded-For is believed
    TRUSTED_PROXIES = ""
    SMTP_HOST: str | None = None
    SMTP_PORT = 587
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_STARTTLS = True
    MAIL_SENDER = "Helix LMS <no-reply@helix-lms.invalid>"
    MAIL_OUTBOX: str | None = None  # defaults to <instance>/outbox
    BASE_URL: str | None = None
    MAX_UPLOAD_MB = 25
    #: seconds of network slack allowed after a quiz's time limit
    QUIZ_GRACE_SECONDS = 5
    #: bundled course packages (one folder per course)
    COURSES_DIR = str(Path(__file__).resolve().parent.parent / "courses")
    # Start-up guard: fail if building the app touched the database (debug and testing).
    FORBID_QUERIES_AT_STARTUP = False
    #: Redis for the job queue (RQ) when several app processes run; unset: an in-process worker thread
    REDIS_URL: str | None = None
    #: rq | thread | eager | manual; empty picks rq when REDIS_URL is set, else thread (see lms/jobs.py)
    JOBS_MODE = ""
    #: printed on certificates (copied onto each certificate at issue)
    CERT_SIGNATORY_NAME = "Course Director"
    CERT_SIGNATORY_TITLE = "Helix Medical Education"
    CERT_PAPER = "A4"  # or Letter


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    FORBID_QUERIES_AT_STARTUP = True
    # BASE_URL defaults to http://127.0.0.1:<LMS_PORT or 5000> (see default_base_url)


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-production"  # noqa: S105
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    QUIZ_GRACE_SECONDS = 0
    FORBID_QUERIES_AT_STARTUP = True
    JOBS_MODE = "eager"
    BASE_URL = "http://localhost"
    # Tests fix the zone (never the machine's), and pick one that is not UTC so conversions show.
    TIMEZONE = "Europe/Berlin"
    # Fast hashes keep the suite quick; never in production.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # noqa: S105


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    #: Pool per worker process (see docs/deployment.md, "Workers and threads"): a sync worker uses one
    #: connection at a time, a gthread worker one per thread, so 5 + 5 covers up to 10 threads; 2 workers per
    #: core × cores × 10 must stay under PostgreSQL's max_connections (100 by default). On PostgreSQL the
    #: pre-ping is replaced by a ping of connections idle for 5 s (lms/dbconn.py): a busy connection is not
    #: pinged, and after a restart the first failed statement invalidates the whole pool
    #: (tests/test_database_outage.py). Recycling after 30 minutes keeps connections younger than any
    #: firewall or PgBouncer idle timeout.
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {
        "pool_size": 5,
        "max_overflow": 5,
        "pool_timeout": 10,
        "pool_recycle": 1800,
        "pool_pre_ping": True,
    }


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


#: pool options that only a server database's queue pool takes (SQLite in memory has a single connection)
_QUEUE_POOL_OPTIONS = ("pool_size", "max_overflow", "pool_timeout")


def engine_options_for(uri: str, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` minus the queue-pool sizes when ``uri`` is SQLite (a file or memory, one writer anyway)."""
    if not uri.startswith("sqlite"):
        return dict(options)
    return {k: v for k, v in options.items() if k not in _QUEUE_POOL_OPTIONS}


def config_from_env(environ: dict[str, str] | None = None) -> type[Config]:
    """Pick the configuration class named by ``LMS_CONFIG`` (development by default)."""
    env = os.environ if environ is None else environ
    name = env.get(ENV_PREFIX + "CONFIG", "development").lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigError(f"LMS_CONFIG={name!r} is not one of {', '.join(sorted(CONFIGS))}.") from None


def env_overrides(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Read the ``LMS_*`` variables that are set, converted to the types Flask expects."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for suffix, key in ENV_KEYS.items():
        raw = env.get(ENV_PREFIX + suffix)
        if raw is None or raw == "":
            continue
        if key in _INT_KEYS:
            values[key] = int(raw)
        elif key in _BOOL_KEYS:
            values[key] = raw.strip().lower() in {"1", "true", "yes", "on"}
        else:
            values[key] = raw
    return values


def check_production(config: dict[str, Any]) -> None:
    """Settings production cannot run safely without (besides the secret key)."""
    if config.get("ENV_NAME") != "production":
        return
    base = config.get("BASE_URL") or ""
    if not base.startswith(("https://", "http://")):
        raise ConfigError(
            "LMS_BASE_URL is not set (e.g. https://lms.example.org). Production builds the links in emails "
            "(password resets) from it, never from the request's Host header, which a client controls."
        )
    key_file = config.get("SIGNING_KEY_FILE") or ""
    if not key_file or not Path(key_file).is_file():
        problem = "is not set" if not key_file else f"names {key_file!r}, which is not a file"
        raise ConfigError(
            f"LMS_SIGNING_KEY_FILE {problem}. Production signs certificates (Open Badges credentials) with "
            "an RSA key the operator provides and backs up, so every process and host signs with the same "
            "key and it survives redeployment. Generate one with: openssl genpkey -algorithm RSA -pkeyopt "
            "rsa_keygen_bits:3072 -out signing-key.pem && chmod 600 signing-key.pem"
        )
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if storage.startswith("memory://") and not config.get("RATELIMIT_PER_PROCESS"):
        raise ConfigError(
            "LMS_RATELIMIT_STORAGE_URI is memory:// (or unset): each gunicorn process would count login "
            "attempts on its own, multiplying the limits. Set it to a shared store such as "
            "redis://127.0.0.1:6379/0, or set LMS_RATELIMIT_PER_PROCESS=1 if you really run one process."
        )


def default_base_url(config: dict[str, Any], environ: dict[str, str] | None = None) -> None:
    """Outside production, links default to the local server (``make run PORT=8080`` sets ``LMS_PORT``).

    Links are never built from the Host header, so even development needs a base URL.
    """
    if config.get("BASE_URL") or config.get("ENV_NAME") == "production":
        return
    env = os.environ if environ is None else environ
    port = env.get("LMS_PORT") or env.get("FLASK_RUN_PORT") or "5000"
    config["BASE_URL"] = f"http://127.0.0.1:{port}"


def ensure_secret_key(config: dict[str, Any], instance_path: Path) -> None:
    """Give development a stable secret key kept in ``instance/``; refuse to run production without one.

    A key generated per process would log everyone out at each restart and break multi-process servers, so
    development keeps the one it generated; production must be given one explicitly.
    """
    if config.get("SECRET_KEY"):
        return
    if config.get("ENV_NAME") == "production":
        raise ConfigError(
            "LMS_SECRET_KEY is not set. Production refuses to start without a fixed secret key: sessions, "
            "CSRF tokens and password-reset links are signed with it, and every app process must share it. "
            'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    key_file = instance_path / "secret_key"
    if key_file.exists():
        config["SECRET_KEY"] = key_file.read_text().strip()
        return
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    config["SECRET_KEY"] = key

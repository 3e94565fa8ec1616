"""Flask extensions, created unbound and initialised by the app factory."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

#: Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


def client_address() -> str:
    """The caller's address; behind a trusted proxy (LMS_TRUSTED_PROXIES) the middleware has set it."""
    return get_remote_address() or "unknown"


def submitted_field(name: str) -> str:
    """A text field from the body in whichever format the form classes accept (form fields or JSON).

    Flask-WTF reads JSON bodies too, so a limit keyed on ``request.form`` alone would not see a JSON login.
    """
    if request.form:
        value = request.form.get(name)
    else:
        data = request.get_json(silent=True) if request.is_json else None
        value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, str) else ""


def login_account_key() -> str:
    """Rate-limit key for the account named in a login request (case-insensitive, form or JSON)."""
    return f"account:{submitted_field('email').strip().lower()}"


def wait_words(seconds: int) -> str:
    """A limiter window in words ("5 minutes", "1 hour"), never the raw "10 per 5 minute"."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = -(-minutes // 60)
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    days = -(-hours // 24)
    return f"{days} days"


def rate_limit_wait(exc: Exception) -> str:
    """How long to wait after a RateLimitExceeded, in words (its window, the longest possible wait)."""
    limit = getattr(getattr(exc, "limit", None), "limit", None)
    try:
        return wait_words(int(limit.get_expiry()))  # type: ignore[union-attr]
    except (AttributeError, TypeError, ValueError):
        return "a few minutes"


limiter = Limiter(key_func=client_address)

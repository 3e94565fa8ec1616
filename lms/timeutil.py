"""Time helpers: the app stores naive UTC datetimes so SQLite and PostgreSQL behave alike."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Current UTC time without tzinfo (what every DateTime column holds)."""
    return datetime.now(UTC).replace(tzinfo=None)

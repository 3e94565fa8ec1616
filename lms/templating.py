"""Template globals and filters shared by every area."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app

from lms.auth.permissions import has_role
from lms.i18n import country_name


@cache
def site_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(value: datetime, zone_name: str) -> datetime:
    """A stored (naive UTC) datetime in the site's time zone."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(site_zone(zone_name))


def format_date(value: date | datetime | None, fmt: str = "%d %b %Y", zone: str | None = None) -> str:
    """A date, or a datetime shown in the site time zone (``LMS_TIMEZONE``)."""
    if not value:
        return "—"
    if isinstance(value, datetime):
        value = local_time(value, zone or current_app.config.get("TIMEZONE", "UTC"))
    return value.strftime(fmt)


def format_datetime(value: datetime | None, zone: str | None = None) -> str:
    """Date and 24-hour time in the site time zone, the zone named: "01 Dec 2026 14:05 CET"."""
    if not value:
        return "—"
    local = local_time(value, zone or current_app.config.get("TIMEZONE", "UTC"))
    return local.strftime("%d %b %Y %H:%M ") + (local.tzname() or "UTC")


def format_minutes(minutes: int | None) -> str:
    if not minutes:
        return "—"
    hours, mins = divmod(int(minutes), 60)
    if hours and mins:
        return f"{hours} h {mins} min"
    return f"{hours} h" if hours else f"{mins} min"


def init_templating(app: Flask) -> None:
    app.jinja_env.globals["has_role"] = has_role
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["country"] = country_name
    app.jinja_env.filters["minutes"] = format_minutes

    from lms.catalog.content import version_fragment
    from lms.learning.routes import item_url

    app.jinja_env.globals["item_url"] = item_url
    app.jinja_env.globals["version_fragment"] = version_fragment

    @app.context_processor
    def site() -> dict[str, Any]:
        return {
            "site_name": app.config["SITE_NAME"],
            "provider_name": app.config["PROVIDER_NAME"],
        }

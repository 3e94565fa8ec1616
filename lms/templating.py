"""Template globals and filters shared by every area."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask

from lms.auth.permissions import has_role


def format_date(value: date | datetime | None, fmt: str = "%d %b %Y") -> str:
    return value.strftime(fmt) if value else "—"


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
    app.jinja_env.filters["minutes"] = format_minutes

    from lms.learning.routes import item_url

    app.jinja_env.globals["item_url"] = item_url

    @app.context_processor
    def site() -> dict[str, Any]:
        return {
            "site_name": app.config["SITE_NAME"],
            "provider_name": app.config["PROVIDER_NAME"],
        }

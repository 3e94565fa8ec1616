"""Absolute URLs for links that leave the site (emails)."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL built from ``LMS_BASE_URL`` (always set in production), never from the Host header.

    Without a base URL (development, tests) Flask's own external URL is used.
    """
    base = current_app.config.get("BASE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)

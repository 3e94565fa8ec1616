"""Absolute URLs for links that leave the site (mail, PDFs, credentials)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def base_url() -> str:
    """``LMS_BASE_URL`` (required in production; development and tests default to a local address)."""
    base = current_app.config.get("BASE_URL")
    if not base:
        raise RuntimeError("BASE_URL is not configured")
    return str(base).rstrip("/")


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL built from ``LMS_BASE_URL``, never from the request's Host header.

    The URL adapter is bound to the base URL itself, so this works the same inside a request, in a
    background job and in the CLI, and a forged Host header changes nothing.
    """
    parts = urlsplit(base_url())
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)

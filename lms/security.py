"""Security headers sent with every response."""

from __future__ import annotations

from flask import Flask, Response, request, session

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def init_security_headers(app: Flask) -> None:
    @app.after_request
    def set_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if _personal(response):
            # Nothing personal may stay in a shared hospital computer's cache or a proxy's.
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        headers.pop("Server", None)
        return response


def _personal(response: Response) -> bool:
    """Signed-in pages, account pages (tokens in links) and every CSV export."""
    if response.mimetype == "text/csv":
        return True
    if request.endpoint == "static" or request.endpoint == "catalog.media":
        return False
    return "_user_id" in session or request.blueprint in ("auth", "admin")

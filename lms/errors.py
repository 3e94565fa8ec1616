"""Friendly error pages: every HTTP error renders the site's layout, never a traceback."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from lms.extensions import db

MESSAGES: dict[int, tuple[str, str]] = {
    400: ("Something in that request was not right", "Go back, check the form and try again."),
    403: ("You do not have access to this page", "If you think you should, ask an administrator."),
    404: ("Page not found", "The page may have moved, or the address may be mistyped."),
    405: ("That action is not allowed here", "Go back and use the page's buttons."),
    410: ("This link has expired", "Ask for a new one."),
    413: ("That file is too large", "Upload a smaller file."),
    429: (
        "Too many attempts",
        "For your security we have paused this for a while. Nothing you entered was lost.",
    ),
    500: (
        "Something went wrong on our side",
        "Nothing you entered was lost. Please try again in a moment.",
    ),
}


def _wants_json() -> bool:
    return (
        request.accept_mimetypes.best == "application/json"
        or request.is_json
        or request.path.startswith("/api/")
    )


def _bare_page(code: int, title: str, advice: str) -> tuple[str, int]:
    # Without a URL adapter (an invalid Host header) the layout cannot build its links: a plain page instead.
    body = (
        f"<!doctype html><html lang=en><title>{escape(title)}</title>"
        f"<h1>{escape(title)}</h1><p>{escape(advice)}</p>"
    )
    return body, code


def render_error(code: int, detail: str | None = None) -> tuple[str, int]:
    title, advice = MESSAGES.get(code, ("Something went wrong", "Please try again."))
    if getattr(request_ctx, "url_adapter", None) is None:
        return _bare_page(code, title, detail or advice)
    if _wants_json():
        return jsonify(error=title, detail=detail or advice), code  # type: ignore[return-value]
    return render_template("errors/error.html", code=code, title=title, advice=advice, detail=detail), code


def init_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[str, int]:
        return render_error(
            400, "The form expired or was sent from elsewhere. Reload the page and submit it again."
        )

    @app.errorhandler(429)
    def too_many(exc: HTTPException) -> tuple[str, int]:
        # The limiter's description is "10 per 5 minute": say in words how long to wait instead.
        from lms.extensions import rate_limit_wait

        return render_error(429, f"Wait {rate_limit_wait(exc)}, then try again.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        if exc.code == 429:
            return too_many(exc)
        code = exc.code or 500
        # A description given to abort() is ours and meant for the user; Werkzeug's defaults are not.
        custom = exc.description and exc.description != type(exc).description
        detail = exc.description if custom else None
        return render_error(code, detail)

    @app.errorhandler(Exception)
    def unhandled(exc: Exception) -> tuple[str, int]:
        if isinstance(exc, HTTPException):
            return http_error(exc)
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        if app.config.get("PROPAGATE_EXCEPTIONS"):
            raise exc
        return render_error(InternalServerError.code)

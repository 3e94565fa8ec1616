"""Friendly error pages: every HTTP error renders the site's layout, never a traceback."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy import exc as sa_exc
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


#: the database is restarting, unreachable or out of connections: the same request will work again shortly
UNAVAILABLE_TITLE = "The service is briefly unavailable"
UNAVAILABLE_ADVICE = "Try again in a minute."
UNAVAILABLE_DETAIL = "What was saved before is safe. If you were saving or submitting, do it again then."
#: seconds; the page says "a minute"
RETRY_AFTER = 60


def database_unavailable(exc: BaseException) -> bool:
    """Did the database fail to answer (down, restarting, connection lost, pool exhausted)?

    Not a constraint violation or a bad statement: those are bugs and stay 500s. SQLAlchemy invalidates the
    pool on a lost connection and ``pool_pre_ping`` replaces stale connections at checkout, so the first
    request after the database is back gets a fresh connection: no restart of the app is needed.
    """
    if isinstance(exc, sa_exc.TimeoutError):  # every pooled connection busy for pool_timeout seconds
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)
    return False


def render_unavailable() -> tuple[str, int, dict[str, str]]:
    """503 with Retry-After, as JSON for scripts (autosave) or as a page.

    The page is rendered straight from the Jinja environment, without the layout and without context
    processors: Flask-Login's would load the signed-in user, which needs the database.
    """
    headers = {"Retry-After": str(RETRY_AFTER)}
    if getattr(request_ctx, "url_adapter", None) is None:
        body, code = _bare_page(503, UNAVAILABLE_TITLE, UNAVAILABLE_ADVICE)
        return body, code, headers
    if _wants_json():
        error = f"{UNAVAILABLE_TITLE}, {UNAVAILABLE_ADVICE[:1].lower()}{UNAVAILABLE_ADVICE[1:]}"
        return jsonify(error=error, detail=UNAVAILABLE_DETAIL), 503, headers  # type: ignore[return-value]
    page = current_app.jinja_env.get_template("errors/unavailable.html").render(
        site_name=current_app.config["SITE_NAME"],
        title=UNAVAILABLE_TITLE,
        advice=UNAVAILABLE_ADVICE,
        detail=UNAVAILABLE_DETAIL,
    )
    return page, 503, headers


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
        _rollback()
        if database_unavailable(exc):
            # One line per request, no traceback: an outage would otherwise flood the log.
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
            app.logger.error("Database unavailable on %s %s: %s", request.method, request.path, reason)
            return render_unavailable()  # type: ignore[return-value]
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        if app.config.get("PROPAGATE_EXCEPTIONS"):
            raise exc
        return render_error(InternalServerError.code)


def _rollback() -> None:
    """Undo the request's unfinished transaction, even when the connection to the database is gone."""
    try:
        db.session.rollback()
    except Exception:  # the connection died: there is nothing left to roll back on the server
        db.session.close()

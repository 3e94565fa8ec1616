"""No ``Server`` header naming the software or its version, whichever server runs the app.

Both servers add the header themselves, outside the WSGI application, so the app cannot remove it from a
response: Werkzeug's development server (``flask run``, the browser tests) writes "Werkzeug/3.x Python/3.x" in
``BaseHTTPRequestHandler.send_response``, and gunicorn writes "gunicorn" in ``Response.default_headers``.
``quiet_server_headers`` (called by ``wsgi.py``, which both servers import) drops it from both.
"""

from __future__ import annotations

from typing import Any


def _without_server(lines: list[str]) -> list[str]:
    return [line for line in lines if not line.lower().startswith("server:")]


def quiet_werkzeug() -> None:
    from werkzeug.serving import WSGIRequestHandler

    if getattr(WSGIRequestHandler, "_lms_quiet", False):
        return
    original = WSGIRequestHandler.send_header

    def send_header(self: Any, keyword: str, value: str) -> None:
        if keyword.lower() != "server":
            original(self, keyword, value)

    WSGIRequestHandler.send_header = send_header  # type: ignore[method-assign]
    WSGIRequestHandler._lms_quiet = True  # type: ignore[attr-defined]


def quiet_gunicorn() -> None:
    try:
        from gunicorn.http.wsgi import Response
    except ImportError:  # gunicorn is a runtime dependency, but a trimmed install may lack it
        return
    if getattr(Response, "_lms_quiet", False):
        return
    original = Response.default_headers

    def default_headers(self: Any) -> list[str]:
        return _without_server(original(self))

    Response.default_headers = default_headers  # type: ignore[method-assign]
    Response._lms_quiet = True  # type: ignore[attr-defined]


def quiet_server_headers() -> None:
    quiet_werkzeug()
    quiet_gunicorn()

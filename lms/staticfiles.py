"""Static files with content-hashed URLs, cached by browsers and proxies for a year.

Every ``url_for("static", filename=...)`` gains ``?v=<hash of the content>``, computed once at start-up.
A request whose ``v`` matches the file served is marked ``immutable`` for a year: a changed file gets a new
hash, hence a new URL, so nothing stale is ever kept. Any other request (no ``v``, or a ``v`` from another
release, e.g. a page rendered by an older process during a rolling restart) still gets the file, with a short
max-age. Every response carries a strong ETag (the content hash) and answers ``If-None-Match`` with 304.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, request, send_from_directory
from flask.sessions import SecureCookieSessionInterface, SessionMixin

#: a year: the longest lifetime caches honour (RFC 9111 suggests no more)
LONG_MAX_AGE = 31_536_000
#: for URLs without the current hash: long enough to absorb a page's burst of requests, short enough that a
#: deploy is seen within minutes
SHORT_MAX_AGE = 300
#: characters of the sha256 hex digest in URLs: 64 bits, plenty to tell two versions of a file apart
HASH_LENGTH = 16


def content_hash(data: bytes) -> str:
    """The version tag of a file's content, as it appears in URLs and ETags."""
    return hashlib.sha256(data).hexdigest()[:HASH_LENGTH]


class StaticHashes:
    """The content hash of every file under the static folder, keyed by its URL filename (``css/app.css``).

    Built once at start-up. With ``watch`` (development), a file whose size or modification time changed is
    hashed again when its URL is next built, so an edited stylesheet shows without a restart.
    """

    def __init__(self, folder: str | os.PathLike[str] | None, watch: bool = False) -> None:
        self.folder = Path(folder) if folder else None
        self.watch = watch
        self._lock = threading.Lock()
        self._hashes: dict[str, tuple[str, tuple[int, int]]] = {}
        if self.folder is not None and self.folder.is_dir():
            for path in sorted(self.folder.rglob("*")):
                if path.is_file():
                    self._hashes[path.relative_to(self.folder).as_posix()] = self._read(path)

    @staticmethod
    def _read(path: Path) -> tuple[str, tuple[int, int]]:
        stat = path.stat()
        return content_hash(path.read_bytes()), (stat.st_mtime_ns, stat.st_size)

    def get(self, filename: str) -> str | None:
        """The current hash of ``filename``, or None for a file that was not there at start-up."""
        found = self._hashes.get(filename)
        if found is None or not self.watch or self.folder is None:
            return found[0] if found else None
        path = self.folder / filename
        try:
            stat = path.stat()
        except OSError:
            return found[0]
        if (stat.st_mtime_ns, stat.st_size) != found[1]:
            with self._lock:
                found = self._hashes[filename] = self._read(path)
        return found[0]


def _hashes() -> StaticHashes:
    return current_app.extensions["lms_static"]


def add_static_hash(endpoint: str, values: dict[str, Any]) -> None:
    """``url_defaults`` hook: put the content hash into every static URL (templates keep ``url_for``)."""
    if endpoint != "static" or "v" in values:
        return
    version = _hashes().get(str(values.get("filename", "")))
    if version is not None:
        values["v"] = version


def shared_response() -> None:
    """Mark this request's response as one for shared caches: no session cookie, no ``Vary: Cookie``.

    A proxy that stored a ``public`` response carrying a signed-in user's refreshed session cookie would hand
    that cookie to everyone else; static files and course media are the same for every user anyway.
    """
    g.lms_shared_response = True


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that a shared response (see :func:`shared_response`) never
    refreshes the cookie (Flask re-sends a permanent session's cookie with every response otherwise)."""

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if g.get("lms_shared_response"):
            return
        super().save_session(app, session, response)


def send_static(filename: str) -> Response:
    """The static view: Flask's ``send_from_directory`` (safe paths, Range, 304), our ETag and lifetime."""
    app = current_app
    shared_response()
    version = _hashes().get(filename)
    current = version is not None and request.args.get("v") == version
    response = send_from_directory(
        app.static_folder,  # type: ignore[arg-type]
        filename,
        etag=version or True,
        max_age=LONG_MAX_AGE if current else SHORT_MAX_AGE,
        conditional=True,
    )
    response.cache_control.public = True
    if current:
        response.cache_control.immutable = True
    return response


def init_static_files(app: Flask) -> None:
    """Hash the static folder once and serve it through :func:`send_static`."""
    watch = bool(app.debug or app.config.get("ENV_NAME") == "development")
    app.extensions["lms_static"] = StaticHashes(app.static_folder, watch=watch)
    app.url_defaults(add_static_hash)
    app.view_functions["static"] = send_static
    app.session_interface = SessionInterface()

"""Memoised URL building: ``url_for`` for the same endpoint and values gives the same path every time.

A page links to the same dozen endpoints on every request (the header's navigation, the stylesheets, the
course outline's items), and Werkzeug's builder walks the rule and quotes every part each time: on a lesson
page that was about a tenth of the worker's CPU. Within one process, a relative URL is a pure function of the
endpoint, its values and the request's script root (the mount point behind a proxy), as long as the URL map
and the URL defaults do not change, which holds after start-up: the static files' content hashes are fixed
then, except in development, where a changed file gets a new hash and static URLs are built afresh.

Only what is certainly the same is kept: plain ``str``/``int`` values (not ``bool``, whose ``True`` equals
``1`` as a key but not as a URL), no ``_external``/``_anchor``/``_method``/``_scheme``, no blueprint-relative
endpoint, and only inside a request (outside one, URLs are absolute and built from the configuration). A
failed build raises as before and is not kept. The cache holds paths only: nothing personal, and an id in a
path gives no access by itself (every view checks its owner).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, has_request_context, request

#: entries kept per process before the cache starts afresh (paths of a few hundred bytes each)
MAX_ENTRIES = 20_000

_PLAIN = (str, int)


def memoised_url_for(build: Callable[..., str], *, static_changes: bool) -> Callable[..., str]:
    """Wrap the app's ``url_for``. ``static_changes``: static URLs may change while running (development)."""
    cache: dict[tuple, str] = {}

    def url_for(endpoint: str, /, **values: Any) -> str:
        if endpoint[:1] == "." or (static_changes and endpoint == "static") or not has_request_context():
            return build(endpoint, **values)
        key: tuple = (request.script_root, endpoint)
        for item in values.items():
            name, value = item
            if name[:1] == "_":
                if value is None:  # flask.url_for passes _anchor=None, _external=None… explicitly
                    continue
                return build(endpoint, **values)
            if type(value) not in _PLAIN:
                return build(endpoint, **values)
            key += item
        found = cache.get(key)
        if found is None:
            found = build(endpoint, **values)
            if len(cache) >= MAX_ENTRIES:
                cache.clear()
            cache[key] = found
        return found

    url_for.cache = cache  # type: ignore[attr-defined]  (tests look inside)
    return url_for


def init_url_cache(app: Flask) -> None:
    """Route ``flask.url_for`` (which calls ``current_app.url_for``) and the templates' ``url_for`` through
    the memo. Runs after the static files' hashes are set up (``register_static_files``)."""
    static = app.extensions.get("lms_static")
    wrapped = memoised_url_for(app.url_for, static_changes=bool(static is None or static.watch))
    app.url_for = wrapped  # type: ignore[method-assign]
    app.jinja_env.globals["url_for"] = wrapped

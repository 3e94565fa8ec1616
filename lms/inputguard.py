"""Refuse malformed input before any view sees it: 400 with a readable message, never a 500.

Views and forms assume text: a JSON body whose fields are numbers or lists, a NUL byte (which PostgreSQL
text columns refuse), or a value far longer than any field would crash deep inside a query or a validator.
One check here covers every route, present and future.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, abort, request

#: longest query-string or URL value any page needs (search boxes, tokens, slugs)
MAX_URL_VALUE = 2000
#: longest form field (free-text answers included); whole bodies are capped by MAX_CONTENT_LENGTH
MAX_FIELD_VALUE = 100_000
_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
#: a DNS name or IPv4 address, or a bracketed IPv6 address, with an optional port
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")


def _text_problem(where: str, name: str, value: str, limit: int) -> str | None:
    if "\x00" in name or "\x00" in value:
        return f"The {where} “{name[:40]}” contains a NUL character. Remove it and try again."
    if len(value) > limit:
        return f"The {where} “{name[:40]}” is too long ({len(value)} characters; at most {limit})."
    return None


def _json_problem(data: Any) -> str | None:
    if data is None:
        return "The JSON body could not be read. Send a JSON object of text fields."
    if not isinstance(data, dict):
        return 'The JSON body must be an object of fields, e.g. {"email": "…"}.'
    for name, value in data.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, bool):
                continue
            if not isinstance(item, str):
                kind = type(item).__name__
                return f"The field “{str(name)[:40]}” must be text (or a list of texts), not {kind}."
            problem = _text_problem("field", str(name), item, MAX_FIELD_VALUE)
            if problem:
                return problem
    return None


def request_problem() -> str | None:
    """What is wrong with the current request's input, or None."""
    if not _HOST.match(request.host):
        return "The Host header is not a valid host name."
    if "\x00" in request.path:
        return "The address contains a NUL character."
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and (problem := _text_problem("address part", name, value, MAX_URL_VALUE)):
            return problem
    for name, value in request.args.items(multi=True):
        if problem := _text_problem("parameter", name, value, MAX_URL_VALUE):
            return problem
    if request.method not in _WRITE_METHODS:
        return None
    if request.is_json:
        return _json_problem(request.get_json(silent=True))
    for name, value in request.form.items(multi=True):
        if problem := _text_problem("field", name, value, MAX_FIELD_VALUE):
            return problem
    for name, upload in request.files.items(multi=True):
        if "\x00" in (upload.filename or "") or "\x00" in name:
            return "An uploaded file's name contains a NUL character."
    return None


def init_input_guard(app: Flask) -> None:
    @app.before_request
    def refuse_malformed_input() -> None:
        problem = request_problem()
        if problem:
            abort(400, problem)

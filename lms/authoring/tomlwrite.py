"""Writing package TOML back after a form edit (the standard library reads TOML but cannot write it).

Covers what course and quiz files hold: text, numbers, booleans, dates, arrays and tables. Scalars come first,
then ``[tables]``, then ``[[arrays of tables]]``; deeper tables are written inline. Comments of a hand-written
file are not kept: the structured forms say so, and the raw file editor stays available.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def key(name: str) -> str:
    return name if BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def value(v: Any) -> str:
    """One TOML value (inline)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + " }" if v else "{}"
    if isinstance(v, (list, tuple)):
        if not v:
            return "[]"
        inner = [value(x) for x in v]
        if sum(len(s) for s in inner) > 80 or any(isinstance(x, Mapping) for x in v):
            return "[\n" + "".join(f"  {s},\n" for s in inner) + "]"
        return "[" + ", ".join(inner) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, Mapping) for x in v)


def dumps(doc: Mapping[str, Any]) -> str:
    scalars = {k: v for k, v in doc.items() if not isinstance(v, Mapping) and not _is_table_array(v)}
    tables = {k: v for k, v in doc.items() if isinstance(v, Mapping)}
    arrays = {k: v for k, v in doc.items() if _is_table_array(v)}
    out = [f"{key(k)} = {value(v)}" for k, v in scalars.items()]
    for name, table in tables.items():
        out += ["", f"[{key(name)}]"] + [f"{key(k)} = {value(v)}" for k, v in table.items()]
    for name, rows in arrays.items():
        for row in rows:
            out += ["", f"[[{key(name)}]]"] + [f"{key(k)} = {value(v)}" for k, v in row.items()]
    return "\n".join(out).lstrip("\n") + "\n"

"""CSV exports that spreadsheets open safely, whatever separator they assume.

A cell that would start a formula (after any leading spaces) gets a leading apostrophe. A spreadsheet that
splits on ``;`` or tabs would start a new cell inside a value at such a character, so a formula character
right after any separator inside a value is guarded the same way ("a;=cmd" becomes "a;'=cmd"). Every cell
is quoted as well.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import datetime

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")
#: a separator any spreadsheet might split on, then spaces or quotes, then a formula character
_INNER_FORMULA = re.compile(r"([,;\t\r\n|][\s\"']*)([=+\-@])")


def safe_cell(value: object) -> str:
    """A CSV cell that spreadsheet programs will not run as a formula, whatever separator they use."""
    text = "" if value is None else (iso(value) if isinstance(value, datetime) else str(value))
    text = _INNER_FORMULA.sub(r"\1'\2", text)
    return "'" + text if text.lstrip(" ")[:1] in FORMULA_STARTS and text.strip(" ") else text


def iso(value: datetime | None) -> str:
    """ISO 8601 with the offset (naive datetimes in this app are UTC)."""
    if value is None:
        return ""
    from datetime import UTC

    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.isoformat(timespec="seconds")


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue()

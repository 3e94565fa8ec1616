"""CSV exports that spreadsheets open correctly and safely, whatever separator they assume.

Every CSV the application writes (admin accounts, certificates, transcripts, reports) goes through
``csv_text``, so the rules live here once:

- UTF-8 with a byte-order mark, so Excel reads "Núñez" right instead of guessing a legacy code page;
- dates and times in ISO 8601 (times with their UTC offset), which every spreadsheet parses the same way;
- formula-safe cells: a cell that would start a formula (after any leading spaces) gets a leading
  apostrophe. A spreadsheet that splits on ``;`` or tabs would start a new cell inside a value at such a
  character, so a formula character right after any separator inside a value is guarded the same way
  ("a;=cmd" becomes "a;'=cmd"). A plain negative number ("-0.25") is data, not a formula, and stays a
  number.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime

#: written first, so spreadsheet programs know the file is UTF-8
BOM = "\ufeff"
#: what a cell may not start with: formula starters, and separators some spreadsheet might split on
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%", ";", ",")
#: a separator any spreadsheet might split on, then spaces or quotes, then a formula character
_INNER_FORMULA = re.compile(r"([,;\t\r\n|][\s\"']*)([=+\-@])")
_NEGATIVE_NUMBER = re.compile(r"-\d+(\.\d+)?")


def safe_cell(value: object) -> str:
    """A CSV cell that spreadsheet programs will not run as a formula, whatever separator they use."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if _NEGATIVE_NUMBER.fullmatch(text):
        return text
    text = _INNER_FORMULA.sub(r"\1'\2", text)
    return "'" + text if text.lstrip(" ")[:1] in FORMULA_STARTS and text.strip(" ") else text


def iso(value: datetime | None) -> str:
    """ISO 8601 with the offset (naive datetimes in this app are UTC)."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.isoformat(timespec="seconds")


def csv_text(rows: Iterable[Iterable[object]], *, bom: bool = True) -> str:
    """The whole file: a byte-order mark, then one line per row, every cell through ``safe_cell``.

    Cells are quoted only when they must be (a separator, quote or line break inside): the guards above do
    not rely on quotes, and plain numbers stay numbers for spreadsheets that treat quoted cells as text.
    """
    buffer = io.StringIO()
    if bom:
        buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue()

"""Watching the SQL an app runs: the query-budget counters (tests, `make bench`) and transaction probes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import Flask

from lms.extensions import db

#: not statements of the page's own: savepoint bookkeeping and SQLite pragmas
NOT_COUNTED = ("SAVEPOINT", "RELEASE", "PRAGMA")


@contextmanager
def watch_statements(app: Flask, callback: Callable[..., Any]) -> Iterator[None]:
    """Call ``callback(conn, cursor, statement, parameters, context, executemany)`` for every statement the
    app's engine sends inside the block (after lms.dbconn's own hook, which is attached at start-up)."""
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", callback)
    try:
        yield
    finally:
        sa.event.remove(engine, "before_cursor_execute", callback)


@contextmanager
def counting_statements(app: Flask) -> Iterator[list[str]]:
    """The statements sent inside the block, savepoints and pragmas left out."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(NOT_COUNTED):
            seen.append(statement)

    with watch_statements(app, record):
        yield seen

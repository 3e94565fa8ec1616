"""Start-up guards and database connection settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine


class StartupQueryError(RuntimeError):
    """Building the app touched the database, which the factory must never do."""


@contextmanager
def forbid_queries(active: bool) -> Iterator[None]:
    """Fail loudly if anything runs SQL while the app is being built (debug and testing)."""
    if not active:
        yield
        return

    def refuse(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        raise StartupQueryError(f"SQL ran while the app was being built: {statement[:80]}")

    event.listen(Engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", refuse)


def enable_sqlite_pragmas(app: Flask) -> None:
    """Foreign keys on, WAL and a busy timeout so concurrent requests wait instead of failing."""
    from lms.extensions import db

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

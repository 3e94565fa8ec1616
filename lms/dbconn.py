"""PostgreSQL connections that read without a transaction and open one at the first write.

Why: most requests only read (catalog, course, lesson, dashboard, attempt page, verify). Under psycopg's
default every request paid three round trips besides its statements: a pre-ping, ``BEGIN`` and
``ROLLBACK``, more than the statements themselves cost on a two-statement page (bench/RESULTS.md). So on
PostgreSQL:

* the connections run in autocommit, and a plain ``SELECT`` (no ``FOR UPDATE``/``FOR SHARE``, no advisory
  lock) is sent as it is. Under PostgreSQL's READ COMMITTED every statement takes a fresh snapshot anyway,
  so a read outside the transaction sees exactly what it would have seen inside one;
* the first statement that is anything else (INSERT, UPDATE, DELETE, SAVEPOINT, DDL, a locking SELECT)
  is preceded by ``BEGIN`` on the same connection, and everything after it runs in that transaction until
  SQLAlchemy's ``commit()`` or ``rollback()`` (psycopg sends ``COMMIT``/``ROLLBACK`` only when a
  transaction is open, so a read-only request ends with none). Every write is still one transaction;
* a connection is pinged on checkout only when it has sat idle in the pool for ``PING_IDLE_AFTER``
  seconds. A connection used a moment ago was alive a moment ago; if the server went away since, the first
  statement fails, SQLAlchemy sees a disconnect and invalidates the whole pool, the request gets the 503
  page (lms/errors.py) and the next one gets a fresh connection (tests/test_database_outage.py).

A connection explicitly put in autocommit by its user (Alembic's ``autocommit_block``, for
``CREATE INDEX CONCURRENTLY``) is left alone. SQLite keeps its usual transactions: it has no round trips.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

#: a pooled connection idle for longer than this is pinged before use (seconds)
PING_IDLE_AFTER = 5.0

_LOCKS = (" FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE", "PG_ADVISORY")


def needs_transaction(statement: str) -> bool:
    """True unless ``statement`` is a plain read that may run outside a transaction.

    Anything that is not a SELECT, and a SELECT that locks, opens one. Erring towards a transaction is
    always safe; the check only decides whether a read may skip it.
    """
    head = statement.lstrip()[:6].upper()
    if head != "SELECT":
        return True
    upper = statement.upper()
    return any(lock in upper for lock in _LOCKS)


def lazy_transactions_options(uri: str, options: dict[str, Any], enabled: bool) -> dict[str, Any]:
    """Engine options for lazy transactions: autocommit connections, and no pre-ping (``ping_if_idle``)."""
    if not enabled or not uri.startswith("postgresql"):
        return options
    return {**options, "isolation_level": "AUTOCOMMIT", "pool_pre_ping": False}


def init_lazy_transactions(app: Flask) -> None:
    """Attach the begin-at-first-write and ping-when-idle hooks to the app's PostgreSQL engine."""
    from lms.extensions import db

    if not app.config.get("DATABASE_LAZY_TRANSACTIONS", True):
        return
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        return
    install(engine)


def install(engine: Engine) -> None:
    """The hooks on ``engine`` (an engine created with ``isolation_level="AUTOCOMMIT"``)."""
    from psycopg.pq import TransactionStatus

    idle = TransactionStatus.IDLE

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_before_first_write(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        raw = cursor.connection
        if raw.pgconn.transaction_status != idle or not needs_transaction(statement):
            return
        if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            return  # asked for by its user (e.g. CREATE INDEX CONCURRENTLY): no transaction wanted
        raw.execute("BEGIN")

    @event.listens_for(engine, "connect")
    def _fresh(dbapi_connection: Any, record: Any) -> None:
        record.info["lms_used_at"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _used(dbapi_connection: Any, record: Any) -> None:
        record.info["lms_used_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        used = record.info.get("lms_used_at")
        if used is not None and time.monotonic() - used < PING_IDLE_AFTER:
            return
        try:
            dbapi_connection.execute(";")
        except Exception as error:  # any failure: the pool drops this connection and tries a new one
            raise exc.DisconnectionError(str(error)) from error


def begin_on_driver(raw: Any) -> None:
    """Open the transaction on a psycopg connection used directly (COPY, EXPLAIN inside a savepoint).

    The hooks above see only statements sent through SQLAlchemy; code that talks to the driver must open the
    transaction itself before it writes or uses SAVEPOINT/SET LOCAL. Nothing happens when one is open
    already or the connection is not in autocommit (lazy transactions off: psycopg begins by itself).
    """
    from psycopg.pq import TransactionStatus

    if raw.autocommit and raw.pgconn.transaction_status == TransactionStatus.IDLE:
        raw.execute("BEGIN")

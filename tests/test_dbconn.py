"""Lazy transactions on PostgreSQL (lms/dbconn.py): reads run without BEGIN/ROLLBACK, the first write opens
the transaction, a failed write leaves nothing, and a dead pooled connection is replaced."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask
from psycopg.pq import TransactionStatus

from lms import dbconn
from lms.auth.models import User
from lms.catalog.models import Enrolment
from lms.extensions import db
from tests.packages import sync, write_package
from tests.sqlwatch import watch_statements


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("SELECT course.id FROM course WHERE course.slug = %(slug)s", False),
        ("  select 1", False),
        ("SELECT attempt.id FROM attempt WHERE attempt.id = %(id)s FOR UPDATE OF attempt", True),
        ("SELECT course.id FROM course FOR NO KEY UPDATE", True),
        ("SELECT x FROM y FOR SHARE", True),
        ("SELECT x FROM y FOR KEY SHARE", True),
        ("SELECT pg_advisory_xact_lock(%(key)s)", True),
        ("INSERT INTO enrolment (user_id) VALUES (%(user_id)s)", True),
        ("UPDATE attempt SET status = %(status)s", True),
        ("DELETE FROM user_session", True),
        ("SAVEPOINT sa_savepoint_1", True),
        ("WITH moved AS (DELETE FROM t RETURNING *) SELECT * FROM moved", True),
        ("CREATE INDEX ix ON t (c)", True),
    ],
)
def test_only_a_plain_select_runs_outside_a_transaction(statement, expected):
    assert dbconn.needs_transaction(statement) is expected


def test_lazy_options_apply_to_postgresql_only():
    options = {"pool_pre_ping": True, "pool_size": 5}
    pg = "postgresql+psycopg://postgres@127.0.0.1:5432/x"
    assert dbconn.lazy_transactions_options(pg, options, True) == {
        "pool_pre_ping": False,
        "pool_size": 5,
        "isolation_level": "AUTOCOMMIT",
    }
    assert dbconn.lazy_transactions_options(pg, options, False) == options
    assert dbconn.lazy_transactions_options("sqlite:///x.db", options, True) == options


def _status(raw) -> str:
    """IDLE (no transaction open), INTRANS, INERROR... of a psycopg connection."""
    return TransactionStatus(raw.pgconn.transaction_status).name


@contextmanager
def _statuses(app: Flask) -> Iterator[list[tuple[str, str]]]:
    """(first word, psycopg transaction status) of every statement, seen after lms.dbconn's hook ran."""
    seen: list[tuple[str, str]] = []

    def record(conn, cursor, statement, *args) -> None:
        seen.append((statement.split()[0].upper(), _status(cursor.connection)))

    with watch_statements(app, record):
        yield seen


@pytest.mark.postgres_only
def test_reads_open_no_transaction_and_the_first_write_opens_one(app, client, auth, tmp_path):
    sync(app, write_package(tmp_path, lessons=1))
    auth.login()
    with _statuses(app) as seen:
        assert client.get("/courses").status_code == 200
        assert client.get("/courses/test-course").status_code == 200
        assert client.get("/dashboard").status_code == 200
    assert seen and {status for _, status in seen} == {"IDLE"}, seen  # no BEGIN, so no ROLLBACK either

    with _statuses(app) as seen:
        response = client.post("/courses/test-course/enrol", data={"action": "enrol"})
        assert response.status_code == 302
    writes = [(word, status) for word, status in seen if word in {"INSERT", "UPDATE", "DELETE"}]
    assert writes and {status for _, status in writes} == {"INTRANS"}, seen
    with app.app_context():  # committed: the enrolment is there, and the connection went back idle
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == 1
        raw = db.session.connection().connection.dbapi_connection
        assert _status(raw) == "IDLE"


@pytest.mark.postgres_only
def test_a_rolled_back_write_leaves_nothing_and_a_locking_read_opens_the_transaction(app):
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
        raw = db.session.connection().connection.dbapi_connection
        db.session.execute(sa.select(User.id).limit(1))
        assert _status(raw) == "IDLE"
        db.session.add(_user("kept-until-rollback@example.org"))
        db.session.flush()  # the first write: BEGIN went first
        assert _status(raw) == "INTRANS"
        db.session.add(_user("kept-until-rollback@example.org"))  # the second write fails (unique email)
        with pytest.raises(sa.exc.IntegrityError):
            db.session.flush()
        db.session.rollback()
        assert _status(raw) == "IDLE"
        # Both writes were one transaction: the first one is gone with the second.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == before

        db.session.execute(sa.select(User.id).with_for_update())
        raw = db.session.connection().connection.dbapi_connection
        assert _status(raw) == "INTRANS"  # the lock lasts until the commit
        db.session.commit()
        assert _status(raw) == "IDLE"


def _user(email: str) -> User:
    return User(
        email=email,
        password_hash="x",
        full_name="Gone",
        profession="physician",
        country="US",
        session_version=0,
    )


def _kill_app_connections(app: Flask) -> int:
    """Terminate every server process of this database except the killer's own (a PostgreSQL restart, seen
    from the pool: every pooled connection is dead)."""
    with app.app_context():
        url = db.engine.url
    killer = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with killer.connect() as conn:
            return len(
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
            )
    finally:
        killer.dispose()


@pytest.mark.postgres_only
def test_an_idle_dead_connection_is_pinged_and_replaced(app, client, monkeypatch):
    assert client.get("/courses").status_code == 200
    monkeypatch.setattr(dbconn, "PING_IDLE_AFTER", 0.0)  # every checkout counts as idle: pinged
    assert _kill_app_connections(app) >= 1
    assert client.get("/courses").status_code == 200


@pytest.mark.postgres_only
def test_a_busy_dead_connection_gives_one_503_then_the_pool_recovers(app, client, monkeypatch):
    assert client.get("/courses").status_code == 200
    monkeypatch.setattr(dbconn, "PING_IDLE_AFTER", 3600.0)  # never pinged: the statement finds it dead
    assert _kill_app_connections(app) >= 1
    failed = client.get("/courses")
    assert failed.status_code == 503 and "The service is briefly unavailable" in failed.get_data(as_text=True)
    assert client.get("/courses").status_code == 200  # the whole pool was invalidated: a fresh connection


@pytest.mark.postgres_only
def test_code_using_the_driver_directly_can_open_the_transaction(app):
    """COPY (flask dev seed) and EXPLAIN in a savepoint (bench/scale_bench.py) bypass the hooks."""
    with app.app_context():
        raw = db.session.connection().connection.driver_connection
        assert _status(raw) == "IDLE"
        dbconn.begin_on_driver(raw)
        assert _status(raw) == "INTRANS"
        dbconn.begin_on_driver(raw)  # already open: nothing sent, no warning
        with raw.cursor() as cursor:
            cursor.execute("SAVEPOINT plan")  # would fail outside a transaction block
            cursor.execute("SET LOCAL statement_timeout = 1000")
        db.session.rollback()
        assert _status(raw) == "IDLE"

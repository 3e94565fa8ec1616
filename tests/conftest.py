"""Shared fixtures: ``app``, ``db``, ``client``, ``runner``, ``auth``, plus query counting.

The schema is built once per run by the real Alembic migrations; each test then starts from empty tables.
The suite runs on SQLite by default and on PostgreSQL when ``LMS_TEST_DATABASE_URL`` is set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from lms import create_app
from lms.config import TestingConfig
from lms.extensions import db as _db
from tests import factories
from tests.sqlwatch import counting_statements

PG_URL = os.environ.get("LMS_TEST_DATABASE_URL", "").strip()


def _check_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:
        message = f"PostgreSQL at {url} cannot be reached: {exc}"
        # In CI an unreachable PostgreSQL fails the run; it is never silently skipped.
        pytest.exit(message, returncode=3)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if PG_URL:
        _check_postgres(PG_URL)
        engine = sa.create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        return PG_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def migrated(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Apply every Alembic migration once for the run."""
    from flask_migrate import upgrade

    app = create_app(_config(database_url, tmp_path_factory.mktemp("migrate")))
    with app.app_context():
        upgrade()
        _db.engine.dispose()
    return database_url


def _config(database_url: str, tmp: Path, **extra: Any) -> dict[str, Any]:
    return {
        "CONFIG_CLASS": TestingConfig,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_OUTBOX": str(tmp / "outbox"),
        "KEYS_DIR": str(tmp / "keys"),
        "EXPORTS_DIR": str(tmp / "exports"),
        **extra,
    }


def _clean_tables() -> None:
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in _db.metadata.sorted_tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a test module (or parametrize) to change the app's configuration."""
    return {}


@pytest.fixture
def app(migrated: str, tmp_path: Path, app_config: dict[str, Any]) -> Iterator[Flask]:
    application = create_app(_config(migrated, tmp_path, **app_config))
    yield application
    with application.app_context():
        _db.session.remove()
        _clean_tables()
        _db.engine.dispose()


@pytest.fixture
def db(app: Flask) -> Iterator[Any]:
    """The database inside an app context, for service and model tests (not for client tests)."""
    with app.app_context():
        yield _db
        _db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@dataclass
class AuthActions:
    """Log in as a learner, educator or admin (creating the account on first use)."""

    app: Flask
    client: FlaskClient
    password: str = "correct horse battery"

    def user(self, role: str = "learner") -> factories.UserInfo:
        email = f"{role}@example.org"
        existing = factories.find_user(self.app, email)
        if existing:
            return existing
        roles = () if role == "learner" else (role,)
        return factories.create_user(
            self.app, email=email, password=self.password, roles=roles, full_name=f"Test {role}"
        )

    def login(self, role: str = "learner") -> factories.UserInfo:
        info = self.user(role)
        response = self.client.post("/login", data={"email": info.email, "password": self.password})
        assert response.status_code == 302, response.data[:500]
        return info

    def logout(self) -> None:
        self.client.post("/logout")


@pytest.fixture
def auth(app: Flask, client: FlaskClient) -> AuthActions:
    return AuthActions(app, client)


@dataclass
class QueryCounter:
    statements: list[str]

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask):
    """``with count_queries() as counter: ...`` counts the SQL statements run inside the block."""

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        with counting_statements(app) as seen:
            yield QueryCounter(seen)

    return counting


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``postgres_only`` tests (row locks, partial indexes, parallel writers) run in the PostgreSQL pass."""
    if PG_URL:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (runs in the PostgreSQL pass of make test)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)

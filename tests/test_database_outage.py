"""PostgreSQL stopped and started under a running app: a clear 503 during the outage, then the same app
serves again without a restart, and a write cut off mid-transaction leaves nothing half-written.

The database is a private cluster (tests/pg_cluster.py) on an ephemeral port, never the shared server.
Marked ``smoke``: it runs once per ``make test`` (in the PostgreSQL pass when there is one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from lms import create_app
from lms.config import ProductionConfig, TestingConfig
from lms.extensions import db
from lms.quizzes.models import Attempt, AttemptAnswer
from tests import factories
from tests.packages import sync, write_package
from tests.pg_cluster import PrivateCluster

pytestmark = pytest.mark.smoke

PASSWORD = "correct horse battery"
JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    pg = PrivateCluster()
    try:
        pg.start()
        yield pg
    finally:
        pg.remove()


@pytest.fixture
def outage_app(cluster: PrivateCluster, tmp_path: Path) -> Iterator[Flask]:
    from flask_migrate import upgrade

    engine = sa.create_engine(cluster.url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    app = create_app(
        {
            "CONFIG_CLASS": TestingConfig,
            "SQLALCHEMY_DATABASE_URI": cluster.url,
            # Production's pool settings: they are what must recover after a restart.
            "SQLALCHEMY_ENGINE_OPTIONS": dict(ProductionConfig.SQLALCHEMY_ENGINE_OPTIONS),
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
            "KEYS_DIR": str(tmp_path / "keys"),
            "EXPORTS_DIR": str(tmp_path / "exports"),
        }
    )
    with app.app_context():
        upgrade()
    sync(app, write_package(tmp_path, lessons=1))
    factories.create_user(app, email="examinee@example.org", password=PASSWORD)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _start_attempt(client) -> int:
    assert (
        client.post("/login", data={"email": "examinee@example.org", "password": PASSWORD}).status_code == 302
    )
    client.post("/courses/test-course/enrol", data={"action": "enrol"})
    response = client.post("/courses/test-course/quizzes/check/start")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return int(re.match(r"/attempts/(\d+)$", response.headers["Location"]).group(1))


def _fields(app: Flask, attempt_id: int) -> list[str]:
    with app.app_context():
        ids = db.session.scalars(
            sa.select(AttemptAnswer.id)
            .where(AttemptAnswer.attempt_id == attempt_id)
            .order_by(AttemptAnswer.id)
        )
        return [f"q{i}" for i in ids]


def _state(app: Flask, attempt_id: int) -> tuple[str, int, int]:
    """(attempt status, answers with a saved response, graded answers), counted in the database."""
    with app.app_context():
        status = db.session.scalar(sa.select(Attempt.status).where(Attempt.id == attempt_id))
        saved = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AttemptAnswer)
            .where(AttemptAnswer.attempt_id == attempt_id, AttemptAnswer.response.is_not(None))
        )
        graded = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AttemptAnswer)
            .where(AttemptAnswer.attempt_id == attempt_id, AttemptAnswer.score.is_not(None))
        )
        return status, saved, graded


def _assert_unavailable_page(response) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == 503, body[:500]
    assert response.headers["Retry-After"] == "60"
    assert "The service is briefly unavailable" in body and "Try again in a minute." in body
    assert "Traceback" not in body and "psycopg" not in body and "OperationalError" not in body


def test_database_restart_gives_503_then_the_same_app_recovers(outage_app, cluster):
    app = outage_app
    client = app.test_client()
    anonymous = app.test_client()
    attempt_id = _start_attempt(client)
    first, second = _fields(app, attempt_id)
    assert client.post(f"/attempts/{attempt_id}/save", data={second: "true"}, headers=JSON).status_code == 200
    assert client.get("/dashboard").status_code == 200

    cluster.stop()
    try:
        _assert_unavailable_page(anonymous.get("/courses"))
        _assert_unavailable_page(client.get("/dashboard"))  # the signed-in user cannot even be loaded
        _assert_unavailable_page(client.get(f"/attempts/{attempt_id}"))
        _assert_unavailable_page(
            anonymous.post("/login", data={"email": "examinee@example.org", "password": "x"})
        )
        # Autosave speaks JSON, and the quiz script shows its "error" to the examinee.
        saved = client.post(f"/attempts/{attempt_id}/save", data={first: "x"}, headers=JSON)
        assert saved.status_code == 503 and saved.headers["Retry-After"] == "60"
        assert saved.json["error"] == "The service is briefly unavailable, try again in a minute."
        # Static files need no database and keep being served.
        assert anonymous.get("/static/css/app.css").status_code == 200
    finally:
        cluster.start()

    # The same app object, the same pool: no restart, no new app.
    assert anonymous.get("/courses").status_code == 200
    assert client.get("/dashboard").status_code == 200
    assert client.post(f"/attempts/{attempt_id}/save", data={first: "x"}, headers=JSON).status_code == 200
    assert _state(app, attempt_id) == ("in_progress", 2, 0)


def test_a_submit_cut_off_before_commit_leaves_nothing_half_written(outage_app, cluster):
    app = outage_app
    client = app.test_client()
    attempt_id = _start_attempt(client)
    first, second = _fields(app, attempt_id)
    assert client.post(f"/attempts/{attempt_id}/save", data={second: "true"}, headers=JSON).status_code == 200
    assert _state(app, attempt_id) == ("in_progress", 1, 0)

    stopped: list[bool] = []

    def stop_before_commit(session) -> None:
        # The submit has graded and flushed every answer; the database goes away before COMMIT.
        if not stopped:
            stopped.append(True)
            cluster.stop()

    with app.app_context():
        sa.event.listen(db.session, "before_commit", stop_before_commit)
    try:
        _assert_unavailable_page(client.post(f"/attempts/{attempt_id}/submit", data={first: "x"}))
    finally:
        with app.app_context():
            sa.event.remove(db.session, "before_commit", stop_before_commit)
        if stopped:
            cluster.start()
    assert stopped, "the submit never reached its commit"

    # Nothing of the cut-off submit is stored: not the status, not the grades, not the new answer.
    assert _state(app, attempt_id) == ("in_progress", 1, 0)
    # The examinee submits again on the same app: graded once, everything recorded.
    response = client.post(f"/attempts/{attempt_id}/submit", data={first: "x"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert _state(app, attempt_id) == ("submitted", 2, 2)

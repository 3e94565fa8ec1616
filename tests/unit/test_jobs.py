"""The job outbox: a job exists only if its transaction committed, runs once, and failures are kept."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms import jobs
from lms.extensions import db as _db
from lms.jobs import BackgroundJob

CALLS: list[dict] = []


@jobs.job
def record_call(value: int) -> None:
    """A job for the tests: remembers its argument (idempotent per value)."""
    CALLS.append({"value": value})


@jobs.job
def explode(value: int) -> None:
    raise RuntimeError(f"boom {value}")


def not_a_job(value: int) -> None:  # pragma: no cover - never run
    CALLS.append({"value": value})


@pytest.fixture(autouse=True)
def _clear():
    CALLS.clear()


@pytest.fixture
def allow_test_jobs(monkeypatch):
    # Jobs must live in the application package; the test module is allowed by name for these tests only.
    real = jobs._resolve
    monkeypatch.setattr(
        jobs,
        "_resolve",
        lambda name: globals()[name.split(":")[1]] if name.startswith(__name__) else real(name),
    )


def test_eager_job_runs_after_commit_only(db, allow_test_jobs):
    jobs.enqueue(record_call, value=1)
    assert CALLS == []  # not before the commit
    db.session.commit()
    assert CALLS == [{"value": 1}]
    row = db.session.scalar(select(BackgroundJob))
    assert row.status == "done" and row.attempts == 1 and row.finished_at is not None


def test_rolled_back_job_never_runs(db, allow_test_jobs):
    jobs.enqueue(record_call, value=2)
    db.session.rollback()
    db.session.commit()
    assert CALLS == []
    assert db.session.scalar(select(BackgroundJob)) is None


def test_savepoint_rollback_keeps_outer_jobs(db, allow_test_jobs):
    jobs.enqueue(record_call, value=3)
    with db.session.begin_nested() as nested:
        jobs.enqueue(record_call, value=4)
        nested.rollback()
    db.session.commit()
    assert CALLS == [{"value": 3}]


@pytest.mark.parametrize("app_config", [{"JOBS_MODE": "manual"}])
def test_manual_mode_waits_for_run_pending_and_runs_once(db, allow_test_jobs):
    row = jobs.enqueue(record_call, value=5)
    db.session.commit()
    assert CALLS == []
    assert jobs.run_pending() == 1
    assert CALLS == [{"value": 5}]
    # Handed the same id again (two runners, a duplicate RQ message): nothing runs twice.
    assert jobs.execute(row.id) is False
    assert jobs.run_pending() == 0
    assert CALLS == [{"value": 5}]


@pytest.mark.parametrize("app_config", [{"JOBS_MODE": "manual"}])
def test_failed_job_keeps_its_error_and_is_retried(db, allow_test_jobs):
    jobs.enqueue(explode, value=6)
    db.session.commit()
    assert jobs.run_pending() == 0
    row = db.session.scalar(select(BackgroundJob))
    assert row.status == "failed" and "boom 6" in row.error and row.attempts == 1
    jobs.run_pending()
    db.session.expire_all()
    assert _db.session.get(BackgroundJob, row.id).attempts == 2


def test_only_marked_application_functions_can_be_queued_or_run(db):
    with pytest.raises(TypeError):
        jobs.enqueue(not_a_job, value=7)
    with pytest.raises(LookupError):
        jobs._resolve("os:system")
    with pytest.raises(LookupError):
        jobs._resolve("lms.jobs:enqueue")  # exists, but is not a job


@pytest.mark.parametrize("app_config", [{"JOBS_MODE": "thread"}])
def test_thread_runner_runs_the_job_off_the_request(app, allow_test_jobs):
    with app.app_context():
        jobs.enqueue(record_call, value=8)
        _db.session.commit()
        runner = app.extensions["lms_job_runner"]
        runner.queue.join()
        assert CALLS == [{"value": 8}]
        _db.session.remove()

"""Background jobs: a transactional outbox, run after commit on RQ (Redis) or an in-process worker thread.

Why an outbox: ``enqueue`` writes a ``background_job`` row in the caller's transaction, so the job exists if
and only if the business change committed (no mail for a rolled-back claim, no lost mail for a committed
one). After the commit the job id is handed to a runner:

- ``rq``: an RQ queue on Redis when ``LMS_REDIS_URL`` is set; ``flask --app wsgi jobs worker`` runs the jobs
  (several app processes can share one queue);
- ``thread``: otherwise, one daemon thread per process runs them after the response, so ``make run`` needs
  nothing installed;
- ``eager`` (tests): right after the commit, in a fresh app context, before the request returns;
- ``manual`` (tests, and ``flask jobs run-pending`` from cron): nothing runs until ``run_pending``.

A job is a plain function in the area that owns it, decorated with ``@job``; it receives JSON-able arguments
and must be idempotent (safe to run twice), because a crash between its work and the "done" mark re-runs it.
A failed job is kept with its error and retried by ``run_pending`` up to ``MAX_ATTEMPTS`` times.
"""

from __future__ import annotations

import importlib
import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy import JSON, String, Text, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from lms.extensions import db
from lms.timeutil import utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
_JOB_MARK = "__lms_job__"


class BackgroundJob(db.Model):
    """One queued piece of work and its state (queued, running, done, failed)."""

    __tablename__ = "background_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


def job(func: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a module-level function as runnable by the job runner (only marked functions can be run)."""
    setattr(func, _JOB_MARK, True)
    return func


def _name_of(func: Callable[..., Any]) -> str:
    if not getattr(func, _JOB_MARK, False):
        raise TypeError(f"{func!r} is not marked with @job")
    return f"{func.__module__}:{func.__qualname__}"


def _resolve(name: str) -> Callable[..., Any]:
    module, _, attr = name.partition(":")
    if not module.startswith("lms."):
        raise LookupError(f"job {name!r} is not part of the application")
    func = getattr(importlib.import_module(module), attr, None)
    if func is None or not getattr(func, _JOB_MARK, False):
        raise LookupError(f"job {name!r} does not exist")
    return func


def enqueue(func: Callable[..., Any], **kwargs: Any) -> BackgroundJob:
    """Queue ``func(**kwargs)`` to run after the current transaction commits. Flushes only."""
    row = BackgroundJob(name=_name_of(func), args=kwargs, status="queued")
    db.session.add(row)
    db.session.flush()
    db.session.info.setdefault("lms_jobs", []).append(row.id)
    return row


def execute(job_id: int) -> bool:
    """Run one queued job in the current app context; returns True when it ran and succeeded.

    The conditional UPDATE makes one runner take the job even if two are handed the same id.
    """
    taken = db.session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job_id, BackgroundJob.status.in_(("queued", "failed")))
        .values(status="running", attempts=BackgroundJob.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if taken != 1:
        return False
    row = db.session.get(BackgroundJob, job_id)
    assert row is not None
    try:
        _resolve(row.name)(**row.args)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.exception("job %s (%s) failed", job_id, row.name)
        db.session.execute(
            update(BackgroundJob)
            .where(BackgroundJob.id == job_id)
            .values(status="failed", error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=utcnow())
        )
        db.session.commit()
        return False
    db.session.execute(
        update(BackgroundJob).where(BackgroundJob.id == job_id).values(status="done", finished_at=utcnow())
    )
    db.session.commit()
    return True


def run_pending(limit: int = 1000) -> int:
    """Run queued (and retry failed) jobs now, oldest first; returns how many succeeded (cron, tests)."""
    ids = list(
        db.session.scalars(
            select(BackgroundJob.id)
            .where(
                (BackgroundJob.status == "queued")
                | ((BackgroundJob.status == "failed") & (BackgroundJob.attempts < MAX_ATTEMPTS))
            )
            .order_by(BackgroundJob.id)
            .limit(limit)
        )
    )
    db.session.commit()
    return sum(1 for job_id in ids if execute(job_id))


# -- runners -------------------------------------------------------------------------------------------


class _ThreadRunner:
    """One daemon thread per process: jobs run after the response, in their own app context."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.queue: queue.Queue[int] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def submit(self, job_id: int) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._loop, name="lms-jobs", daemon=True)
                self.thread.start()
        self.queue.put(job_id)

    def _loop(self) -> None:
        while True:
            job_id = self.queue.get()
            with self.app.app_context():
                try:
                    execute(job_id)
                except Exception:  # the row keeps its state; run_pending retries it
                    log.exception("job runner error on %s", job_id)
                finally:
                    db.session.remove()
                    self.queue.task_done()


def _rq_queue(app: Flask) -> Any:
    from redis import Redis
    from rq import Queue

    return Queue("lms", connection=Redis.from_url(app.config["REDIS_URL"]))


def rq_execute(job_id: int) -> bool:
    """RQ entry point: runs inside ``flask jobs worker``, which holds the app context."""
    return execute(job_id)


def _dispatch(app: Flask, ids: list[int]) -> None:
    mode = app.config.get("JOBS_MODE") or ("rq" if app.config.get("REDIS_URL") else "thread")
    if mode == "manual":
        return
    if mode == "eager":
        for job_id in ids:
            with app.app_context():
                try:
                    execute(job_id)
                finally:
                    db.session.remove()
        return
    if mode == "rq":
        try:
            q = _rq_queue(app)
            for job_id in ids:
                q.enqueue("lms.jobs.rq_execute", job_id, job_timeout=600)
        except Exception:  # Redis down: the rows stay queued; `flask jobs run-pending` picks them up
            log.exception("could not hand jobs %s to Redis", ids)
        return
    runner = app.extensions.setdefault("lms_job_runner", _ThreadRunner(app))
    for job_id in ids:
        runner.submit(job_id)


def _outer_rollback(handler: Callable[[Session], None]) -> Callable[[Session, Any], None]:
    # A savepoint rolled back inside a larger transaction keeps the outer transaction's jobs.
    def listener(session: Session, previous: Any) -> None:
        if previous.parent is None:
            handler(session)

    return listener


def init_jobs(app: Flask) -> None:
    """Hand a transaction's jobs to the runner once it commits; forget them on rollback."""

    def after_commit(session: Session) -> None:
        ids = session.info.pop("lms_jobs", None)
        if ids:
            _dispatch(current_app._get_current_object(), ids)  # type: ignore[attr-defined]

    def after_rollback(session: Session) -> None:
        session.info.pop("lms_jobs", None)

    # Registered once per process on the Session class Flask-SQLAlchemy uses.
    if not getattr(init_jobs, "_registered", False):
        event.listen(Session, "after_commit", after_commit)
        event.listen(Session, "after_soft_rollback", _outer_rollback(after_rollback))
        init_jobs._registered = True  # type: ignore[attr-defined]

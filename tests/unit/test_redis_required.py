"""Redis-backed pieces run against a real Redis; in CI (LMS_REQUIRE_REDIS=1) a missing Redis fails them."""

from __future__ import annotations

import pytest

from lms import jobs
from lms.auth import notices
from lms.extensions import db
from lms.mail import read_outbox
from tests import factories, redis_util


def test_missing_redis_fails_instead_of_skipping_when_required(monkeypatch):
    monkeypatch.setattr(redis_util, "REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("LMS_REQUIRE_REDIS", "1")
    with pytest.raises(pytest.fail.Exception, match="LMS_REQUIRE_REDIS"):
        redis_util.require_redis()
    monkeypatch.delenv("LMS_REQUIRE_REDIS")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        redis_util.require_redis()


@pytest.fixture
def app_config():
    return {"JOBS_MODE": "rq", "REDIS_URL": redis_util.require_redis()}


def test_jobs_go_through_the_rq_queue_and_a_worker_runs_them(app):
    from redis import Redis
    from rq import Queue, SimpleWorker

    info = factories.create_user(app, email="ana@example.org")
    queue = Queue("lms", connection=Redis.from_url(app.config["REDIS_URL"]))
    queue.empty()
    with app.app_context():
        jobs.enqueue(notices.send_registration_attempt_notice, user_id=info.id)
        db.session.commit()
        assert queue.count == 1  # handed to Redis after the commit, not run in the request
        with app.test_request_context():
            assert read_outbox() == []
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    with app.test_request_context():
        assert [m.to for m in read_outbox()] == ["ana@example.org"]

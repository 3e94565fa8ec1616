"""A small exam-day run: gunicorn with the production configuration on PostgreSQL and Redis, Locust in a
subprocess on ephemeral ports (bench/locustfile.py), then every answer and submission counted in the
database. Think time is under a second and there are a few dozen examinees: this checks that nothing is
lost under concurrency, never how fast it goes (timings never go in tests)."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.quizzes.models import Attempt, AttemptAnswer
from tests import factories
from tests.packages import sync, write_package
from tests.redis_util import require_redis

pytestmark = [pytest.mark.smoke, pytest.mark.postgres_only]

ROOT = Path(__file__).resolve().parents[1]
USERS = 24
PASSWORD = "examinee password 2026"


def exam_toml() -> str:
    """16 questions on 8 pages: 12 single choice, 2 true/false, 2 short answer."""
    parts = ['title = "Exam"\nkind = "quiz"\npass_mark = 50\nquestions_per_page = 2\n']
    for n in range(1, 13):
        parts.append(
            f'[[questions]]\nid = "sc{n}"\ntype = "single_choice"\nprompt = "Choice {n}?"\nanswer = "A"\n'
            'options = [{ text = "One" }, { text = "Two" }, { text = "Three" }]\n'
        )
    for n in (1, 2):
        parts.append(
            f'[[questions]]\nid = "tf{n}"\ntype = "true_false"\nprompt = "Claim {n}."\nanswer = true\n'
        )
        parts.append(
            f'[[questions]]\nid = "sa{n}"\ntype = "short_answer"\nprompt = "Name {n}?"\naccepted = ["cd19"]\n'
        )
    return "\n".join(parts)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_exam_day_smoke_loses_nothing(app, tmp_path, migrated):
    redis_url = require_redis()
    folder = write_package(tmp_path / "exam", slug="exam-day", lessons=1)
    (folder / "quizzes" / "check.toml").write_text(exam_toml())
    sync(app, folder)
    ids = [
        factories.create_user(app, email=f"examinee{n}@example.org", password=PASSWORD).id
        for n in range(USERS)
    ]
    port = _port()
    env = {
        **os.environ,
        "LMS_CONFIG": "production",
        "LMS_SECRET_KEY": secrets.token_hex(32),
        "LMS_BASE_URL": f"http://127.0.0.1:{port}",
        "LMS_SIGNING_KEY_FILE": str(factories.signing_key_file(tmp_path)),
        "LMS_DATABASE_URL": migrated,
        "LMS_RATELIMIT_STORAGE_URI": redis_url,
        "LMS_JOBS_MODE": "manual",
        "LMS_TRUSTED_PROXIES": "127.0.0.1",
        "LMS_MAIL_OUTBOX": str(tmp_path / "outbox"),
        "LMS_LOAD_COURSE": "exam-day",
        "LMS_LOAD_QUIZ": "check",
        "LMS_LOAD_PASSWORD": PASSWORD,
        "LMS_LOAD_THINK_MIN": "0.1",
        "LMS_LOAD_THINK_MAX": "0.5",
    }
    bin_dir = Path(sys.executable).parent
    server = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        run = subprocess.run(
            [
                str(bin_dir / "locust"),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "-u",
                str(USERS),
                "-r",
                str(USERS),
                "--run-time",
                "40s",
                "--web-port",
                str(_port()),
                "--host",
                f"http://127.0.0.1:{port}",
                "--only-summary",
                "--exit-code-on-error",
                "1",
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    report = run.stdout[-3000:] + run.stderr[-3000:]
    assert run.returncode == 0, report
    with app.app_context():
        submitted = db.session.scalar(
            select(func.count())
            .select_from(Attempt)
            .where(Attempt.user_id.in_(ids), Attempt.status == "submitted")
        )
        answered = db.session.scalar(
            select(func.count())
            .select_from(AttemptAnswer)
            .join(Attempt, Attempt.id == AttemptAnswer.attempt_id)
            .where(Attempt.user_id.in_(ids), AttemptAnswer.response.is_not(None))
        )
    assert submitted == USERS, report
    assert answered == USERS * 16, report

"""Small exam-day runs through the load-test harness (bench/examday.py, bench/locustfile.py): two gunicorn
masters with the production configuration on PostgreSQL and Redis, Locust in a subprocess on ephemeral ports,
then every answer and submission counted in the database.

The quiz is the Moodle 4.5 load-test mix the harness generates (16 questions on 8 pages: 12 single choice,
2 true/false, 1 matching, 1 short answer), the accounts share one argon2id hash at production strength, and
every examinee changes process on every page, so its session must be valid on both. Think time is under a
second and there are a few dozen examinees: these check that nothing is lost, never how fast it goes
(timings never go in tests). `make loadtest` is the real run.
"""

from __future__ import annotations

import importlib.util
import secrets
import sys
from pathlib import Path

import pytest
import requests

from tests.redis_util import require_redis

pytestmark = [pytest.mark.smoke, pytest.mark.postgres_only]

ROOT = Path(__file__).resolve().parents[1]
USERS = 30


def _harness():
    """bench/examday.py, imported by path (bench/ is scripts, not a package)."""
    if "examday" not in sys.modules:
        spec = importlib.util.spec_from_file_location("examday", ROOT / "bench" / "examday.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["examday"] = module
        spec.loader.exec_module(module)
    return sys.modules["examday"]


@pytest.fixture(scope="module")
def exam_day(migrated, tmp_path_factory):
    """The generated exam-day course stored, two app processes sharing PostgreSQL and Redis; afterwards the
    processes are stopped and the tables emptied (the tests share them, like the processes do)."""
    ex = _harness()
    work = tmp_path_factory.mktemp("exam-day")
    env = ex.app_env(migrated, require_redis(), work)
    ex.prepare(env, work, migrate=False)  # the suite has migrated this database already
    servers = ex.start_servers(env, work, count=2, workers=2)
    try:
        yield ex, env, servers, work
    finally:
        for server in servers:
            server.stop()
        ex.empty_tables(migrated)


def _run(ex, env, servers, work, first: int):
    ex.create_examinees(ex_url(env), first, USERS)
    return ex.locust(
        [s.url for s in servers],
        USERS,
        env,
        work,
        first=first,
        ramp_seconds=3,
        spike_seconds=2,
        think=(0.1, 0.4),
        run_time=150,
    )


def ex_url(env) -> str:
    return env["LMS_DATABASE_URL"]


def test_generated_quiz_is_the_moodle_mix():
    text = _harness().quiz_toml()
    assert text.count('type = "single_choice"') == 12
    assert text.count('type = "true_false"') == 2
    assert text.count('type = "matching"') == 1
    assert text.count('type = "short_answer"') == 1
    assert "questions_per_page = 2" in text


def test_exam_day_on_two_processes_loses_nothing(exam_day, migrated):
    ex, env, servers, work = exam_day
    popen, path = _run(ex, env, servers, work, first=0)
    result = ex.finish(popen, path, timeout=180)
    report = result.output[-3000:] + repr(result.failures[:5])
    assert result.failures == [], report
    assert result.finished == USERS, report
    assert result.switched == USERS, report  # every examinee used both processes with one session
    counts = ex.count(migrated, 0, USERS, result)
    assert counts.submitted == USERS, counts
    assert counts.answers == USERS * 16, counts
    assert counts.acknowledged == USERS * 16, counts
    assert counts.complete, counts


def test_login_limits_are_shared_by_the_processes(exam_day):
    """Ten wrong passwords for one account, alternating between the processes, then both refuse (429)."""
    servers = exam_day[2]
    account = f"limit-{secrets.token_hex(4)}@load.example.org"
    session = requests.Session()
    session.headers["X-Forwarded-For"] = "10.250.0.1"

    def attempt(server) -> int:
        page = session.get(f"{server.url}/login", timeout=30).text
        token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
        for cookie in session.cookies:
            cookie.secure = False
        return session.post(
            f"{server.url}/login",
            data={"email": account, "password": "wrong password", "csrf_token": token},
            allow_redirects=False,
            timeout=30,
        ).status_code

    statuses = [attempt(servers[n % 2]) for n in range(10)]
    assert statuses == [400] * 10
    assert [attempt(servers[0]), attempt(servers[1])] == [429, 429]


def test_killing_one_of_two_processes_mid_run_loses_nothing(exam_day, migrated):
    """Runs last in this module: it kills the first process for good (fresh examinees, USERS..2*USERS-1)."""
    ex, env, servers, work = exam_day
    first = USERS
    popen, path = _run(ex, env, servers, work, first=first)
    ex.wait_for(
        lambda: ex.answers_so_far(migrated, first, USERS) >= USERS * 16 // 3, 120, "a third of the answers"
    )
    servers[0].kill()  # SIGKILL, master and workers
    result = ex.finish(popen, path, timeout=180)
    report = result.output[-3000:] + repr(result.failures[:5])
    assert servers[0].popen.poll() is not None
    assert result.failovers > 0, report  # examinees met the dead process and moved to the other one
    assert result.finished == USERS, report
    counts = ex.count(migrated, first, USERS, result)
    assert counts.acknowledged_found == counts.acknowledged, counts  # no acknowledged answer lost
    assert counts.submissions_acknowledged_found == counts.submissions_acknowledged == USERS, counts
    assert counts.submitted == USERS, counts
    assert counts.answers == USERS * 16, counts

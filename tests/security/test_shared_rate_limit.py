"""Login limits are shared by every app process through Redis (as in a multi-process deployment)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

REDIS_URL = "redis://127.0.0.1:6379/15"

SCRIPT = r"""
import sys
from lms import create_app
from lms.config import TestingConfig
app = create_app({
    "CONFIG_CLASS": TestingConfig,
    "SQLALCHEMY_DATABASE_URI": sys.argv[1],
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": sys.argv[2],
    "LOGIN_LIMIT_PER_ACCOUNT": "3 per minute",
    "LOGIN_LIMIT_PER_ADDRESS": "100 per minute",
})
client = app.test_client()
codes = [client.post("/login", data={"email": sys.argv[3], "password": "wrong password!"}).status_code
         for _ in range(int(sys.argv[4]))]
print(" ".join(map(str, codes)))
"""


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {REDIS_URL} is required in CI: {exc}")
        pytest.skip(f"Redis not reachable: {exc}")


def _run(database_url: str, email: str, count: int) -> list[int]:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, database_url, REDIS_URL, email, str(count)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return [int(c) for c in result.stdout.split()]


def test_two_processes_share_one_login_limit(migrated):
    _redis_or_skip()
    email = f"shared-{uuid.uuid4().hex[:8]}@example.org"
    assert _run(migrated, email, 3) == [400, 400, 400]
    # A second process sees the attempts of the first.
    assert _run(migrated, email, 1) == [429]
    # Another account is not affected.
    assert _run(migrated, "other-" + email, 1) == [400]

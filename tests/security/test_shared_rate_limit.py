"""Login limits are shared by every app process through Redis (as in a multi-process deployment)."""

from __future__ import annotations

import subprocess
import sys
import uuid

from tests.redis_util import require_redis

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


def _run(database_url: str, redis_url: str, email: str, count: int) -> list[int]:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, database_url, redis_url, email, str(count)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return [int(c) for c in result.stdout.split()]


def test_two_processes_share_one_login_limit(migrated):
    redis_url = require_redis()
    email = f"shared-{uuid.uuid4().hex[:8]}@example.org"
    assert _run(migrated, redis_url, email, 3) == [400, 400, 400]
    # A second process sees the attempts of the first.
    assert _run(migrated, redis_url, email, 1) == [429]
    # Another account is not affected.
    assert _run(migrated, redis_url, "other-" + email, 1) == [400]

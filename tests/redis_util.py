"""The Redis the tests may use, and what happens when it is missing.

``LMS_TEST_REDIS_URL`` picks the server and database (default ``redis://127.0.0.1:6379/15``); helpers running
side by side give each their own database number. When ``LMS_REQUIRE_REDIS`` is set (``.ci/run`` sets it), a
missing Redis fails the tests that need it; otherwise they are skipped on a laptop without Redis.
"""

from __future__ import annotations

import os

import pytest

REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL", "").strip() or "redis://127.0.0.1:6379/15"


def require_redis() -> str:
    """The Redis URL for this test, after checking the server answers (fail in CI, skip elsewhere)."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        if os.environ.get("LMS_REQUIRE_REDIS") or os.environ.get("CI"):
            pytest.fail(f"Redis at {REDIS_URL} is required (LMS_REQUIRE_REDIS is set): {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL

"""Published content is cached per immutable version: in the process, and lesson bodies in Redis too."""

from __future__ import annotations

import pytest

from tests.packages import sync, write_package
from tests.redis_util import require_redis


@pytest.fixture
def redis_url():
    url = require_redis()
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter("lms:lesson:*"):
        client.delete(key)
    yield url
    for key in client.scan_iter("lms:lesson:*"):
        client.delete(key)


def _lesson_statements(count_queries, client, path: str) -> list[str]:
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200
    assert "Some text" in response.get_data(as_text=True)
    return counter.statements


def test_lesson_body_shared_through_redis_and_new_version_not_stale(
    app, tmp_path, auth, client, count_queries, redis_url
):
    import redis

    app.extensions["lms_content"] = type(app.extensions["lms_content"])(redis_url)
    sync(app, write_package(tmp_path / "v1", slug="cached", lessons=2))
    auth.login()
    client.post("/courses/cached/enrol", data={"action": "enrol"})
    first = _lesson_statements(count_queries, client, "/courses/cached/lessons/l1")
    assert any("course_item.html" in s for s in first)  # cold: the body is read once…
    assert list(redis.Redis.from_url(redis_url).scan_iter("lms:lesson:*"))  # …and shared through Redis
    again = _lesson_statements(count_queries, client, "/courses/cached/lessons/l1")
    assert not any("course_item" in s for s in again)  # warm: nothing about the version is read

    # Another process (a fresh app, empty in-process cache) takes the body from Redis, not the database.
    app.extensions["lms_content"] = type(app.extensions["lms_content"])(redis_url)
    from_redis = _lesson_statements(count_queries, client, "/courses/cached/lessons/l1")
    assert not any("course_item.html" in s for s in from_redis)

    # A new edition is a new version: its lesson is read afresh, never served from the old one's cache.
    write_package(tmp_path / "v1", slug="cached", lessons=2, lesson_titles={1: "Lesson one, revised"})
    sync(app, tmp_path / "v1" / "cached")
    html = client.get("/courses/cached/lessons/l1").get_data(as_text=True)
    assert "Lesson one, revised" in html

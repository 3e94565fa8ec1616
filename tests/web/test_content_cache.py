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


def test_version_fragments_follow_the_edition_and_hold_nothing_personal(app, tmp_path, auth, client):
    """The course page's faculty section and a lesson's article are rendered once per version: a new edition
    shows its own, and what one learner saw (their name, their CSRF token) never reaches another."""
    folder = write_package(tmp_path, slug="frag", lessons=2, lesson_titles={2: "First title"})
    sync(app, folder)
    auth.login()
    client.post("/courses/frag/enrol", data={"action": "enrol"})
    page = client.get("/courses/frag").get_data(as_text=True)
    assert "Test Faculty" in page
    assert "First title" in client.get("/courses/frag/lessons/l2").get_data(as_text=True)
    manifest = folder / "course.toml"
    manifest.write_text(manifest.read_text().replace('name = "Test Faculty"', 'name = "Second Faculty"'))
    (folder / "lessons" / "l2.md").write_text(
        (folder / "lessons" / "l2.md").read_text().replace("First title", "Second title")
    )
    sync(app, folder)
    page = client.get("/courses/frag").get_data(as_text=True)
    assert "Second Faculty" in page and "Test Faculty" not in page
    lesson = client.get("/courses/frag/lessons/l2").get_data(as_text=True)
    assert "Second title" in lesson and "First title" not in lesson
    cache = app.extensions["lms_content"]
    fragments = [value for key, value in cache._other.items() if key[0] == "fragment"]
    assert fragments, "no fragment was cached"
    with app.app_context():
        from lms.auth.models import User
        from lms.extensions import db

        names = [u.full_name for u in db.session.scalars(db.select(User))]
    for html in fragments:
        assert "csrf_token" not in html
        assert not any(name in html for name in names)

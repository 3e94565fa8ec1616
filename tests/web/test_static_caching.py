"""Static files and course media: hashed URLs cached for a year, ETag/304, short caching for other URLs."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from lms.staticfiles import StaticHashes
from tests.packages import SVG, sync, write_package

STATIC = Path(__file__).resolve().parents[2] / "lms" / "static"
IMMUTABLE = "public, max-age=31536000, immutable"


def _hash(relative: str) -> str:
    return hashlib.sha256((STATIC / relative).read_bytes()).hexdigest()[:16]


@pytest.fixture
def course(app, tmp_path):
    sync(app, write_package(tmp_path, lessons=2))
    return "test-course"


def _cache_control(response) -> set[str]:
    return {part.strip() for part in response.headers["Cache-Control"].split(",")}


def test_rendered_pages_carry_content_hashed_static_urls(client):
    html = client.get("/courses").get_data(as_text=True)
    assert f'href="/static/css/app.css?v={_hash("css/app.css")}"' in html
    assert f'src="/static/js/app.js?v={_hash("js/app.js")}"' in html
    assert f'src="/static/img/logo.svg?v={_hash("img/logo.svg")}"' in html
    # Nothing under /static is linked without its hash.
    assert not re.search(r'"/static/[^"?]+"', html)


def test_hashed_static_url_is_immutable_with_a_strong_etag_and_304(client):
    url = f"/static/css/app.css?v={_hash('css/app.css')}"
    response = client.get(url)
    assert response.status_code == 200
    assert response.data == (STATIC / "css" / "app.css").read_bytes()
    assert _cache_control(response) == set(IMMUTABLE.split(", "))
    etag = response.headers["ETag"]
    assert etag == f'"{_hash("css/app.css")}"'  # strong: no W/ prefix, the same on every host
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert "immutable" in again.headers["Cache-Control"]


@pytest.mark.parametrize("query", ["", "?v=0123456789abcdef", "?v="])
def test_unhashed_or_stale_static_url_still_works_with_a_short_lifetime(client, query):
    response = client.get(f"/static/css/app.css{query}")
    assert response.status_code == 200
    assert response.data == (STATIC / "css" / "app.css").read_bytes()
    assert _cache_control(response) == {"public", "max-age=300"}
    assert (
        client.get(
            f"/static/css/app.css{query}", headers={"If-None-Match": response.headers["ETag"]}
        ).status_code
        == 304
    )


def test_static_paths_stay_inside_the_folder(client):
    assert client.get("/static/../config.py").status_code == 404
    assert client.get("/static/css/missing.css").status_code == 404


def test_signed_in_static_and_media_are_cacheable_but_pages_stay_no_store(client, auth, course):
    auth.login()
    static = client.get(f"/static/js/app.js?v={_hash('js/app.js')}")
    assert (
        "immutable" in static.headers["Cache-Control"] and "no-store" not in static.headers["Cache-Control"]
    )
    client.post(f"/courses/{course}/enrol", data={"action": "enrol"})
    lesson = client.get(f"/courses/{course}/lessons/l1")
    assert lesson.status_code == 200
    assert lesson.headers["Cache-Control"] == "no-store"
    src = re.search(r'<img src="([^"]+)"', lesson.get_data(as_text=True)).group(1)
    media = client.get(src)
    assert media.status_code == 200 and "no-store" not in media.headers["Cache-Control"]
    # A shared cache must never store (and hand out) a signed-in user's session cookie.
    for response in (static, media):
        assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")
    for path in ("/dashboard", "/courses", f"/courses/{course}", "/account"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


def test_lesson_media_urls_carry_the_files_content_hash(client, auth, course):
    auth.login()
    client.post(f"/courses/{course}/enrol", data={"action": "enrol"})
    html = client.get(f"/courses/{course}/lessons/l1").get_data(as_text=True)
    version = hashlib.sha256(SVG).hexdigest()[:16]
    assert f'src="/courses/{course}/media/dot.svg?v={version}"' in html
    response = client.get(f"/courses/{course}/media/dot.svg?v={version}")
    assert response.status_code == 200 and response.data == SVG
    assert _cache_control(response) == set(IMMUTABLE.split(", "))
    assert response.headers["ETag"] == f'"{hashlib.sha256(SVG).hexdigest()}"'
    again = client.get(
        f"/courses/{course}/media/dot.svg?v={version}", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""
    # The media route's sandboxing CSP is on the 304 too.
    assert "sandbox" in again.headers["Content-Security-Policy"]


def test_old_plain_and_stale_media_urls_still_work_briefly_cached(client, course):
    for url in (f"/courses/{course}/media/dot.svg", f"/courses/{course}/media/dot.svg?v=0000000000000000"):
        response = client.get(url)
        assert response.status_code == 200 and response.data == SVG
        assert _cache_control(response) == {"public", "max-age=300"}


def test_media_of_an_unpublished_course_stays_hidden(app, client, course):
    from lms.catalog.models import Course
    from lms.extensions import db

    with app.app_context():
        db.session.query(Course).filter_by(slug=course).update({"status": "retired"})
        db.session.commit()
    version = hashlib.sha256(SVG).hexdigest()[:16]
    assert client.get(f"/courses/{course}/media/dot.svg?v={version}").status_code == 404
    assert client.get(f"/courses/{course}/media/dot.svg").status_code == 404


def test_versioned_media_urls_leave_unknown_files_and_other_urls_alone():
    from lms.catalog.media import versioned_media_urls

    html = (
        '<img src="/courses/c/media/a.svg" alt="a"><img src="/courses/c/media/gone.svg" alt="b">'
        '<a href="/courses/c/media/a.svg">a</a><img src="/courses/c/media/a.svg?v=old" alt="c">'
    )
    out = versioned_media_urls(html, {"media/a.svg": "1234"})
    assert out == (
        '<img src="/courses/c/media/a.svg?v=1234" alt="a"><img src="/courses/c/media/gone.svg" alt="b">'
        '<a href="/courses/c/media/a.svg?v=1234">a</a><img src="/courses/c/media/a.svg?v=old" alt="c">'
    )


def test_static_hashes_follow_edits_only_when_watching(tmp_path):
    (tmp_path / "css").mkdir()
    sheet = tmp_path / "css" / "a.css"
    sheet.write_text("a{}")
    fixed, watching = StaticHashes(tmp_path), StaticHashes(tmp_path, watch=True)
    first = fixed.get("css/a.css")
    assert first == watching.get("css/a.css") == hashlib.sha256(b"a{}").hexdigest()[:16]
    sheet.write_text("b{color:red}")
    assert fixed.get("css/a.css") == first
    assert watching.get("css/a.css") == hashlib.sha256(b"b{color:red}").hexdigest()[:16]
    assert fixed.get("css/missing.css") is None

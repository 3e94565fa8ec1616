"""The learner's path through the app: catalog, course page, enrolment, lessons, progress, dashboard."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.catalog.models import Course
from lms.extensions import db
from lms.learning.models import ProgressRecord
from lms.learning.services import record_completion
from tests.concurrency import run_together
from tests.packages import sync, write_package


@pytest.fixture
def course(app, tmp_path):
    sync(
        app,
        write_package(tmp_path, lessons=3, title="CAR-T basics", specialties='["Haematology", "Oncology"]'),
    )
    sync(
        app,
        write_package(
            tmp_path, slug="eye-course", lessons=1, title="Retina", specialties='["Ophthalmology"]'
        ),
    )
    return "test-course"


def _enrol(client, slug="test-course"):
    return client.post(f"/courses/{slug}/enrol", data={"action": "enrol"})


def test_catalog_lists_searches_and_filters(client, course):
    html = client.get("/courses").get_data(as_text=True)
    assert "CAR-T basics" in html and "Retina" in html
    assert "0.5 h" in html
    assert 'value="Ophthalmology"' in html
    html = client.get("/courses?q=car-t").get_data(as_text=True)
    assert "CAR-T basics" in html and "Retina" not in html
    html = client.get("/courses?specialty=Ophthalmology").get_data(as_text=True)
    assert "Retina" in html and "CAR-T basics" not in html
    html = client.get("/courses?q=%25").get_data(as_text=True)
    assert "No course matches your search" in html


def test_course_page_shows_cme_facts_to_anonymous(client, course):
    html = client.get("/courses/test-course").get_data(as_text=True)
    for text in (
        "Learning objectives",
        "Pass the tests",
        "Test Faculty",
        "Nothing to disclose.",
        "designates this enduring material",
        "2026-11-01",
        "2028-10-31",
        "doi:10.1016/j.bbmt.2018.12.758",
        "Lesson 1",
        "Log in to enrol",
    ):
        assert text in html, text
    assert client.get("/courses/no-such-course").status_code == 404


def test_draft_courses_are_hidden(app, client, tmp_path):
    folder = write_package(tmp_path, slug="drafty")
    text = (folder / "course.toml").read_text().replace('status = "published"', 'status = "draft"')
    (folder / "course.toml").write_text(text)
    sync(app, folder)
    assert "drafty" not in client.get("/courses").get_data(as_text=True)
    assert client.get("/courses/drafty").status_code == 404


def test_lessons_need_login_and_enrolment(client, auth, course):
    assert client.get("/courses/test-course/lessons/l1").status_code == 302
    auth.login()
    response = client.get("/courses/test-course/lessons/l1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/courses/test-course"
    assert client.post("/courses/test-course/lessons/l1/complete").status_code == 302


def test_enrol_resume_read_complete(app, client, auth, course):
    auth.login()
    response = _enrol(client)
    assert response.headers["Location"] == "/courses/test-course/resume"
    assert client.get("/courses/test-course/resume").headers["Location"] == "/courses/test-course/lessons/l1"
    page = client.get("/courses/test-course/lessons/l1").get_data(as_text=True)
    assert "<figure>" in page and "A dot figure" in page
    assert 'id="ref-lee2019"' in page
    assert "0 of 4 required items" in page
    assert "Next: Lesson 2" in page
    done = client.post("/courses/test-course/lessons/l1/complete")
    assert done.headers["Location"] == "/courses/test-course/lessons/l2"
    # Idempotent: a second POST changes nothing.
    client.post("/courses/test-course/lessons/l1/complete")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProgressRecord)) == 1
    page = client.get("/courses/test-course/lessons/l1").get_data(as_text=True)
    assert "You have completed this lesson" in page
    assert "1 of 4 required items" in page
    # Resume goes to the first unfinished item.
    assert client.get("/courses/test-course/resume").headers["Location"] == "/courses/test-course/lessons/l2"
    detail = client.get("/courses/test-course").get_data(as_text=True)
    assert "1 of 3 lessons read" in detail
    assert "Up next" in detail and "Done" in detail


def test_unknown_lesson_is_404(client, auth, course):
    auth.login()
    _enrol(client)
    assert client.get("/courses/test-course/lessons/nope").status_code == 404
    assert client.get("/courses/test-course/lessons/check").status_code == 404  # a quiz is not a lesson


def test_leave_keeps_progress(app, client, auth, course):
    auth.login()
    _enrol(client)
    client.post("/courses/test-course/lessons/l1/complete")
    client.post("/courses/test-course/enrol", data={"action": "leave"})
    assert client.get("/courses/test-course/lessons/l2").status_code == 302
    assert "test-course" not in client.get("/dashboard").get_data(as_text=True)
    html = client.get("/courses/test-course").get_data(as_text=True)
    assert "Enrol again" in html
    _enrol(client)
    assert "1 of 3 lessons read" in client.get("/courses/test-course").get_data(as_text=True)


def test_dashboard(client, auth, course):
    auth.login()
    assert "not enrolled in any course" in client.get("/dashboard").get_data(as_text=True)
    _enrol(client)
    _enrol(client, "eye-course")
    client.post("/courses/test-course/lessons/l1/complete")
    html = client.get("/dashboard").get_data(as_text=True)
    assert "CAR-T basics" in html and "Retina" in html
    assert "1 of 4 required items · 25%" in html
    assert "Continue: Lesson 2" in html
    assert "Start: Lesson 1" in html


def test_media_served_safely(client, course):
    response = client.get("/courses/test-course/media/dot.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert client.get("/courses/test-course/media/../course.toml").status_code == 404
    assert client.get("/courses/test-course/media/missing.svg").status_code == 404
    etag = response.headers["ETag"]
    assert (
        client.get("/courses/test-course/media/dot.svg", headers={"If-None-Match": etag}).status_code == 304
    )


def test_concurrent_completions_never_duplicate(app, course):
    from tests import factories

    learner = factories.create_user(app, email="race@example.org")
    with app.app_context():
        course_id = db.session.scalar(select(Course.id).where(Course.slug == "test-course"))

    def worker(_n: int, wait):
        with app.app_context():
            wait()
            record_completion(learner.id, course_id, "l1", 1)
            db.session.commit()

    _results, errors = run_together(worker, range(4))
    assert errors == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProgressRecord)) == 1

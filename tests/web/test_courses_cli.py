"""``flask courses validate|sync|list``: idempotent sync, versions, sources."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from lms.catalog.models import Course, CourseVersion, Enrolment, Item
from lms.extensions import db
from lms.learning.models import ProgressRecord
from lms.learning.services import record_completion
from tests import factories
from tests.packages import QUIZ, lesson, write_package, zip_folder

ROOT = Path(__file__).resolve().parents[2]


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_validate_good_and_bad(runner, tmp_path):
    good = write_package(tmp_path, slug="good")
    bad = write_package(tmp_path, slug="bad")
    (bad / "quizzes" / "check.toml").write_text(QUIZ.replace('answer = "B"', 'answer = "E"'))
    ok = runner.invoke(args=["courses", "validate", str(good)])
    assert ok.exit_code == 0, ok.output
    assert "✓" in ok.output
    failed = runner.invoke(args=["courses", "validate", str(good), str(bad)])
    assert failed.exit_code == 1
    assert 'quizzes/check.toml: question 1: answer "E" is not one of the options A-C' in failed.output
    assert "Traceback" not in failed.output


def test_validate_reports_duplicate_slugs(runner, tmp_path):
    a = write_package(tmp_path / "a", slug="same")
    b = write_package(tmp_path / "b", slug="same")
    result = runner.invoke(args=["courses", "validate", str(a), str(b)])
    assert result.exit_code == 1
    assert 'duplicate slug "same"' in result.output


def test_validate_bundled_courses(runner):
    paths = [str(p) for p in sorted((ROOT / "courses").iterdir()) if p.is_dir()]
    result = runner.invoke(args=["courses", "validate", *paths])
    assert result.exit_code == 0, result.output


def test_validate_zip_with_traversal(runner, tmp_path):
    folder = write_package(tmp_path)
    archive = tmp_path / "evil.zip"
    archive.write_bytes(zip_folder(folder, extra={"../../outside.txt": b"x"}))
    result = runner.invoke(args=["courses", "validate", str(archive)])
    assert result.exit_code == 1
    assert '../../outside.txt: ".." in path is not allowed' in result.output


def test_sync_is_idempotent(app, runner, tmp_path):
    folder = write_package(tmp_path, lessons=3)
    first = runner.invoke(args=["courses", "sync", str(folder)])
    assert first.exit_code == 0, first.output
    assert "test-course: created (version 1)" in first.output
    counts = (_count(app, Course), _count(app, CourseVersion), _count(app, Item))
    second = runner.invoke(args=["courses", "sync", str(folder)])
    assert "test-course: unchanged (version 1)" in second.output
    assert (_count(app, Course), _count(app, CourseVersion), _count(app, Item)) == counts == (1, 1, 4)


def test_bad_package_is_not_stored_at_all(app, runner, tmp_path):
    folder = write_package(tmp_path)
    (folder / "lessons" / "l2.md").write_text(lesson("Two", "[@missing]", key="l2"))
    result = runner.invoke(args=["courses", "sync", str(folder)])
    assert result.exit_code == 1
    assert "not stored" in result.output
    assert _count(app, Course) == 0 and _count(app, Item) == 0


def test_changed_package_is_new_version_and_progress_is_kept(app, runner, tmp_path):
    folder = write_package(tmp_path, lessons=3)
    runner.invoke(args=["courses", "sync", str(folder)])
    learner = factories.create_user(app, email="ana@example.org")
    with app.app_context():
        course = db.session.scalar(select(Course))
        db.session.add(Enrolment(user_id=learner.id, course_id=course.id))
        for key in ("l1", "l2"):
            record_completion(learner.id, course.id, key, 1)
        db.session.commit()
    # Edition 2: lesson 2 removed, lesson 1 retitled, a new lesson 4.
    (folder / "lessons" / "l2.md").unlink()
    write_package(tmp_path, lessons=4, lesson_titles={1: "Lesson one, revised"}, skip=(2,))
    result = runner.invoke(args=["courses", "sync", str(folder)])
    assert "test-course: updated (version 2)" in result.output
    with app.app_context():
        course = db.session.scalar(select(Course))
        assert course.current_version_no == 2
        assert course.title == "Test course"
        assert _count(app, CourseVersion) == 2  # version 1 is kept
        keys = set(db.session.scalars(select(ProgressRecord.item_key)))
        assert keys == {"l1", "l2"}  # no learner history is deleted
    client = app.test_client()
    client.post("/login", data={"email": "ana@example.org", "password": "correct horse battery"})
    page = client.get("/courses/test-course").get_data(as_text=True)
    assert "Lesson one, revised" in page
    assert "1 of 3 lessons read" in page  # l1 still done; l2 no longer exists; l3, l4 to do


def test_sync_refuses_slug_owned_by_another_source(app, runner, tmp_path):
    folder = write_package(tmp_path, slug="example-plugin-course")
    # The installed distribution provides this slug first.
    assert runner.invoke(args=["courses", "sync"]).exit_code == 0
    archive = tmp_path / "dup.zip"
    archive.write_bytes(zip_folder(folder))
    result = runner.invoke(args=["courses", "sync", str(archive)])
    assert result.exit_code == 1
    assert "duplicate slug" in result.output


def test_sync_default_sources_include_bundled_and_entry_points(app, runner):
    result = runner.invoke(args=["courses", "sync"])
    assert result.exit_code == 0, result.output
    listing = runner.invoke(args=["courses", "list"]).output
    assert "car-t-cell-therapy" in listing
    assert "retinal-gene-delivery" in listing
    assert "example-plugin-course" in listing
    assert "entry-point:lms-example-course" in listing
    assert "bundled" in listing
    again = runner.invoke(args=["courses", "sync"])
    assert again.output.count("unchanged") == 5


def test_sync_zip_upload_source(app, runner, tmp_path):
    folder = write_package(tmp_path, slug="zipped")
    archive = tmp_path / "zipped.zip"
    archive.write_bytes(zip_folder(folder, prefix="zipped/"))
    result = runner.invoke(args=["courses", "sync", str(archive)])
    assert result.exit_code == 0, result.output
    assert "upload" in runner.invoke(args=["courses", "list"]).output


def test_list_when_empty(runner):
    assert "No courses stored yet" in runner.invoke(args=["courses", "list"]).output

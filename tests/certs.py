"""Builders for certificate tests: a small course with a final and an evaluation, completed at fixed times."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from lms.catalog.models import Course, CourseVersion, Item
from lms.extensions import db
from lms.learning.services import record_completion
from lms.quizzes import services as quiz_services
from lms.quizzes.models import Quiz
from tests.packages import filler, lesson, sync

FINAL = """title = "Final assessment"
kind = "final"
pass_mark = 80

[[questions]]
id = "tf"
type = "true_false"
prompt = "Fever is required for CRS."
answer = true
feedback_true = "Right."
feedback_false = "Fever is required."
explanation = "ASTCT 2019."
reference = "lee2019"
"""

EVALUATION = """title = "Evaluation"
kind = "survey"

[[questions]]
id = "useful"
type = "likert"
prompt = "The course was useful."
"""


def cert_manifest(
    slug: str, *, accredited: bool, release: str, expiry: str, hours: float, validity: int, extra: str = ""
) -> str:
    credit = (
        'accredited = true\ntype = "AMA PRA Category 1 Credit™"\n'
        'statement = "{provider} designates this enduring material for a maximum of {credits} '
        'AMA PRA Category 1 Credits™."\naccreditation = "{provider} is accredited by the ACCME."\n'
        if accredited
        else "accredited = false\n"
    )
    return f'''slug = "{slug}"
title = "Certified course"
edition = "2026.1"
summary = "A course with a certificate."
audience = ["physician"]
specialties = ["Haematology"]
objectives = ["Earn a certificate"]
estimated_minutes = 120
status = "published"
{extra}
[credit]
hours = {hours}
{credit}
[certificate]
validity_months = {validity}

[dates]
release = {release}
last_review = {release}
expiry = {expiry}

[[faculty]]
name = "Test Faculty"
disclosure = "Nothing to disclose."

[[references]]
key = "lee2019"
citation = "Lee DW, et al. ASTCT consensus grading. Biol Blood Marrow Transplant 2019;25:625-638."
doi = "10.1016/j.bbmt.2018.12.758"

[completion]
require_all_lessons = true
require_quizzes = "final"
final_quiz = "final"
evaluation = "evaluation"

[[modules]]
id = "m1"
title = "Module one"
items = ["lessons/l1.md", "lessons/l2.md", "quizzes/final.toml", "quizzes/evaluation.toml"]
'''


def write_cert_course(
    root: Path,
    slug: str = "certified",
    *,
    accredited: bool = False,
    release: str = "2020-01-01",
    expiry: str = "2099-12-31",
    hours: float = 2.0,
    validity: int = 24,
    edition: str = "2026.1",
    l2_body: str = "Second lesson text.",
    extra: str = "",
) -> Path:
    folder = root / f"{slug}-{edition}"
    (folder / "lessons").mkdir(parents=True, exist_ok=True)
    (folder / "quizzes").mkdir(exist_ok=True)
    # Three hours of reading in lesson one: the hours offered (up to 3) stay within the honest total.
    l1_body = f"First lesson [@lee2019].\n\n{filler(180)}"
    (folder / "lessons" / "l1.md").write_text(lesson("Lesson one", l1_body, key="l1"))
    (folder / "lessons" / "l2.md").write_text(lesson("Lesson two", l2_body, key="l2"))
    (folder / "quizzes" / "final.toml").write_text(FINAL)
    (folder / "quizzes" / "evaluation.toml").write_text(EVALUATION)
    text = cert_manifest(
        slug,
        accredited=accredited,
        release=release,
        expiry=expiry,
        hours=hours,
        validity=validity,
        extra=extra,
    )
    (folder / "course.toml").write_text(text.replace('edition = "2026.1"', f'edition = "{edition}"'))
    return folder


def sync_cert_course(app: Flask, root: Path, **kwargs) -> str:
    folder = write_cert_course(root, **kwargs)
    sync(app, folder)
    return kwargs.get("slug", "certified")


def _current(slug: str) -> tuple[Course, CourseVersion]:
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    version = db.session.scalar(
        select(CourseVersion).where(
            CourseVersion.course_id == course.id, CourseVersion.number == course.current_version_no
        )
    )
    return course, version


def read_lessons(app: Flask, user_id: int, slug: str, now: datetime, keys=("l1", "l2")) -> None:
    with app.app_context():
        course, version = _current(slug)
        for i, key in enumerate(keys):
            item = db.session.scalar(select(Item).where(Item.version_id == version.id, Item.key == key))
            record_completion(
                user_id, course.id, key, version.number, now + timedelta(minutes=10 * i), item.content_hash
            )
        db.session.commit()


def take_quiz(app: Flask, user_id: int, slug: str, key: str, response, now: datetime) -> bool:
    """Start and submit ``key`` with the same response for every question; returns whether it passed."""
    with app.app_context():
        course, version = _current(slug)
        quiz = db.session.scalar(select(Quiz).where(Quiz.version_id == version.id, Quiz.key == key))
        registry = app.extensions["lms"].question_types
        attempt_id = quiz_services.start_attempt(user_id, course, quiz, registry, now=now).id
        db.session.commit()
        attempt = quiz_services.own_attempt(user_id, attempt_id)
        responses = {a.id: response for a in attempt.answers}
        quiz_services.submit_attempt(attempt, responses, registry, now=now + timedelta(minutes=5))
        db.session.commit()
        return bool(attempt.passed)


def complete(app: Flask, user_id: int, slug: str, start: datetime) -> None:
    """Read both lessons, pass the final and submit the evaluation, at fixed times from ``start``."""
    from lms.catalog.models import Enrolment

    with app.app_context():
        course, _ = _current(slug)
        if (
            db.session.scalar(
                select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.course_id == course.id)
            )
            is None
        ):
            db.session.add(
                Enrolment(user_id=user_id, course_id=course.id, enrolled_at=start, last_activity_at=start)
            )
            db.session.commit()
    read_lessons(app, user_id, slug, start)
    take_quiz(app, user_id, slug, "final", True, start + timedelta(minutes=30))
    take_quiz(app, user_id, slug, "evaluation", 4, start + timedelta(minutes=40))

"""Catalog rules and queries: finding courses, the course page, enrolment.

Every function runs a fixed number of queries whatever the size of the course (see tests/web/test_queries.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select

from lms.auth.models import User
from lms.catalog.models import Course, CourseVersion, Enrolment, Item, MediaAsset, Module
from lms.extensions import db
from lms.learning.progress import CourseProgress, Policy, SyllabusItem, course_progress
from lms.timeutil import utcnow


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def published_courses(query: str = "", specialty: str = "") -> list[Course]:
    """Published courses matching a text query (title or summary) and a specialty; one query."""
    stmt = select(Course).where(Course.status == "published", Course.current_version_no > 0)
    if query.strip():
        like = f"%{_escape_like(query.strip())}%"
        stmt = stmt.where(
            or_(
                Course.title.ilike(like, escape="\\"),
                Course.summary.ilike(like, escape="\\"),
                Course.specialties.ilike(like, escape="\\"),
            )
        )
    if specialty:
        stmt = stmt.where(Course.specialties.like(f"%|{_escape_like(specialty)}|%", escape="\\"))
    return list(db.session.scalars(stmt.order_by(Course.title)))


def all_specialties() -> list[str]:
    rows = db.session.scalars(
        select(Course.specialties).where(Course.status == "published", Course.current_version_no > 0)
    )
    return sorted({s for row in rows for s in row.split("|") if s}, key=str.casefold)


def get_published_course(slug: str) -> Course | None:
    return db.session.scalar(
        select(Course).where(Course.slug == slug, Course.status == "published", Course.current_version_no > 0)
    )


def is_current_version(course: Course) -> ColumnElement[bool]:
    """SQL condition selecting ``course``'s current version (join CourseVersion to use it)."""
    return and_(CourseVersion.course_id == course.id, CourseVersion.number == course.current_version_no)


def current_version(course: Course) -> CourseVersion:
    version = db.session.scalar(select(CourseVersion).where(is_current_version(course)))
    assert version is not None, f"course {course.slug} has no version {course.current_version_no}"
    return version


def policy_of(version: CourseVersion) -> Policy:
    c = version.details.get("completion", {})
    return Policy(
        require_all_lessons=c.get("require_all_lessons", True),
        require_quizzes=c.get("require_quizzes", "all"),
        final_quiz=c.get("final_quiz", ""),
        evaluation=c.get("evaluation", ""),
        gated=c.get("gated", True),
        min_minutes=c.get("min_minutes", 0),
    )


def syllabus_rows(version_id: int) -> list[Item]:
    """The version's items in order, without lesson bodies (one query)."""
    return list(db.session.scalars(select(Item).where(Item.version_id == version_id).order_by(Item.position)))


def to_syllabus(items: list[Item], modules: dict[int, Module]) -> list[SyllabusItem]:
    return [SyllabusItem(i.key, i.kind, i.title, modules[i.module_id].key) for i in items]


def get_enrolment(user: User | Any, course: Course) -> Enrolment | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.course_id == course.id)
    )


def completed_keys(user_id: int, course_id: int) -> set[str]:
    from lms.learning.models import ProgressRecord

    return set(
        db.session.scalars(
            select(ProgressRecord.item_key).where(
                ProgressRecord.user_id == user_id, ProgressRecord.course_id == course_id
            )
        )
    )


@dataclass
class ModuleView:
    module: Module
    items: list[Item]


@dataclass
class CoursePage:
    course: Course
    version: CourseVersion
    modules: list[ModuleView]
    enrolment: Enrolment | None
    done: set[str]
    progress: CourseProgress
    syllabus: list[SyllabusItem]

    @property
    def enrolled(self) -> bool:
        return self.enrolment is not None and self.enrolment.active


def course_page(course: Course, user: User | Any) -> CoursePage:
    """Everything the course page shows, in five queries whatever the course size."""
    version = current_version(course)
    modules = list(
        db.session.scalars(select(Module).where(Module.version_id == version.id).order_by(Module.position))
    )
    by_id = {m.id: m for m in modules}
    items = syllabus_rows(version.id)
    enrolment = get_enrolment(user, course)
    done = completed_keys(user.id, course.id) if enrolment else set()
    syllabus = to_syllabus(items, by_id)
    grouped = [ModuleView(m, [i for i in items if i.module_id == m.id]) for m in modules]
    return CoursePage(
        course,
        version,
        grouped,
        enrolment,
        done,
        course_progress(syllabus, done, policy_of(version)),
        syllabus,
    )


def enrol(user: User, course: Course) -> Enrolment:
    """Enrol (or re-enrol after leaving); idempotent. Progress from before is kept."""
    enrolment = get_enrolment(user, course)
    now = utcnow()
    if enrolment is None:
        enrolment = Enrolment(user_id=user.id, course_id=course.id, enrolled_at=now, last_activity_at=now)
        db.session.add(enrolment)
    elif enrolment.left_at is not None:
        enrolment.left_at = None
        enrolment.last_activity_at = now
    db.session.flush()
    return enrolment


def leave(user: User, course: Course, now: datetime | None = None) -> None:
    """Leave a course: the enrolment row and all progress are kept for the record.

    Sends ``course_left`` so that areas above (quizzes) freeze what was still open, in this transaction.
    """
    from lms.signals import course_left

    now = now or utcnow()
    enrolment = get_enrolment(user, course)
    if enrolment is not None and enrolment.left_at is None:
        enrolment.left_at = now
        db.session.flush()
        course_left.send(course, user_id=user.id, now=now)


def media_asset(course: Course, path: str) -> MediaAsset | None:
    return db.session.scalar(
        select(MediaAsset)
        .join(CourseVersion, CourseVersion.id == MediaAsset.version_id)
        .where(is_current_version(course), MediaAsset.path == path)
        .options(db.undefer(MediaAsset.data))
    )

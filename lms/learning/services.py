"""The learner's path: lesson pages, completion, the dashboard.

Completion is safe under concurrency: the (learner, course, item) row is unique in the database, and a
duplicate insert from a parallel request is absorbed inside a savepoint, so nothing is duplicated or lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import undefer

from lms.auth.models import User
from lms.catalog.models import Course, CourseVersion, Enrolment, Item, Module
from lms.catalog.services import completed_keys, current_version, policy_of, to_syllabus
from lms.extensions import db
from lms.learning.models import ProgressRecord
from lms.learning.progress import CourseProgress, SyllabusItem, course_progress, neighbours
from lms.timeutil import utcnow


def record_completion(
    user_id: int, course_id: int, item_key: str, version_no: int, now: datetime | None = None
) -> bool:
    """Mark an item done; returns False if it already was. Idempotent and race-safe; flushes only."""
    exists = db.session.scalar(
        select(ProgressRecord.id).where(
            ProgressRecord.user_id == user_id,
            ProgressRecord.course_id == course_id,
            ProgressRecord.item_key == item_key,
        )
    )
    if exists is not None:
        return False
    now = now or utcnow()
    try:
        with db.session.begin_nested():
            db.session.add(
                ProgressRecord(
                    user_id=user_id,
                    course_id=course_id,
                    item_key=item_key,
                    completed_at=now,
                    version_no=version_no,
                )
            )
    except IntegrityError:
        return False  # a parallel request recorded it first: the completion is not lost
    enrolment = db.session.scalar(
        select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.course_id == course_id)
    )
    if enrolment is not None:
        enrolment.last_activity_at = now
    db.session.flush()
    return True


@dataclass
class LessonPage:
    course: Course
    version: CourseVersion
    item: Item
    module: Module
    syllabus: list[SyllabusItem]
    done: set[str]
    progress: CourseProgress
    previous: SyllabusItem | None
    next: SyllabusItem | None
    references: list[dict]
    position: int  # 1-based position among the syllabus items

    @property
    def is_done(self) -> bool:
        return self.item.key in self.done


def lesson_page(course: Course, user: User, key: str) -> LessonPage | None:
    """A lesson with its place in the course, in five queries whatever the course size."""
    version = current_version(course)
    items = list(
        db.session.scalars(select(Item).where(Item.version_id == version.id).order_by(Item.position))
    )
    item = next((i for i in items if i.key == key and i.kind == "lesson"), None)
    if item is None:
        return None
    # The body only for this lesson (deferred elsewhere).
    item = db.session.scalar(select(Item).where(Item.id == item.id).options(undefer(Item.html)))
    modules = {m.id: m for m in db.session.scalars(select(Module).where(Module.version_id == version.id))}
    syllabus = to_syllabus(items, modules)
    done = completed_keys(user.id, course.id)
    prev_item, next_item = neighbours(syllabus, key)
    refs = {r["key"]: r for r in version.details.get("references", [])}
    return LessonPage(
        course=course,
        version=version,
        item=item,
        module=modules[item.module_id],
        syllabus=syllabus,
        done=done,
        progress=course_progress(syllabus, done, policy_of(version)),
        previous=prev_item,
        next=next_item,
        references=[refs[k] for k in item.citations if k in refs],
        position=[s.key for s in syllabus].index(key) + 1,
    )


@dataclass
class DashboardRow:
    course: Course
    enrolment: Enrolment
    progress: CourseProgress


def dashboard(user: User) -> list[DashboardRow]:
    """Each active enrolment with progress and next step, in four queries whatever the number of courses."""
    rows = db.session.execute(
        select(Enrolment, Course)
        .join(Course, Course.id == Enrolment.course_id)
        .where(Enrolment.user_id == user.id, Enrolment.left_at.is_(None), Course.current_version_no > 0)
        .order_by(Enrolment.last_activity_at.desc())
    ).all()
    if not rows:
        return []
    pairs = [(course.id, course.current_version_no) for _, course in rows]
    versions = {
        v.id: v
        for v in db.session.scalars(
            select(CourseVersion).where(tuple_(CourseVersion.course_id, CourseVersion.number).in_(pairs))
        )
    }
    syllabi: dict[int, list[SyllabusItem]] = {}
    for version_id, key, kind, title, module_key in db.session.execute(
        select(Item.version_id, Item.key, Item.kind, Item.title, Module.key)
        .join(Module, Module.id == Item.module_id)
        .where(Item.version_id.in_(list(versions)))
        .order_by(Item.position)
    ):
        course_id = versions[version_id].course_id
        syllabi.setdefault(course_id, []).append(SyllabusItem(key, kind, title, module_key))
    policies = {v.course_id: policy_of(v) for v in versions.values()}
    done: dict[int, set[str]] = {}
    for course_id, key in db.session.execute(
        select(ProgressRecord.course_id, ProgressRecord.item_key).where(
            ProgressRecord.user_id == user.id, ProgressRecord.course_id.in_([c for c, _ in pairs])
        )
    ):
        done.setdefault(course_id, set()).add(key)
    return [
        DashboardRow(
            course,
            enrolment,
            course_progress(syllabi.get(course.id, []), done.get(course.id, set()), policies[course.id]),
        )
        for enrolment, course in rows
        if course.id in policies
    ]

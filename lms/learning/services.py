"""The learner's path: lesson pages, completion, the dashboard.

Completion is safe under concurrency: the (learner, course, item) row is unique in the database, and a
duplicate insert from a parallel request is absorbed inside a savepoint, so nothing is duplicated or lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, select, update
from sqlalchemy.exc import IntegrityError

from lms.auth.models import User
from lms.catalog.content import lesson_html, version_content, version_contents
from lms.catalog.models import Course, CourseVersion, Enrolment, Item, Module
from lms.catalog.services import progress_records
from lms.extensions import db
from lms.learning.models import ProgressRecord
from lms.learning.progress import (
    CourseProgress,
    Record,
    SyllabusItem,
    course_progress,
    edition_done,
    neighbours,
)
from lms.signals import item_completed
from lms.timeutil import utcnow


def record_completion(
    user_id: int,
    course_id: int,
    item_key: str,
    version_no: int,
    now: datetime | None = None,
    content_hash: str = "",
) -> bool:
    """Mark an item done on this version; returns False if it already was. Idempotent and race-safe.

    A record from an earlier edition is brought forward (version and content hash) when the item is done
    again, e.g. a changed lesson read again or the new edition's final passed. Flushes only; listeners of
    ``item_completed`` (certificates) run in the same transaction.
    """
    now = now or utcnow()
    # Insert first: the usual case is a first completion, one statement. A duplicate (done before, or a
    # parallel request) is absorbed by the savepoint and handled below.
    try:
        with db.session.begin_nested():
            db.session.add(
                ProgressRecord(
                    user_id=user_id,
                    course_id=course_id,
                    item_key=item_key,
                    completed_at=now,
                    version_no=version_no,
                    content_hash=content_hash,
                )
            )
    except IntegrityError:
        existing = db.session.scalar(
            select(ProgressRecord).where(
                ProgressRecord.user_id == user_id,
                ProgressRecord.course_id == course_id,
                ProgressRecord.item_key == item_key,
            )
        )
        if existing is None or (existing.version_no == version_no and existing.content_hash == content_hash):
            return False  # already recorded (perhaps by a parallel request): the completion is not lost
        existing.version_no = version_no
        existing.content_hash = content_hash
        existing.completed_at = now
    _touch_enrolment(user_id, course_id, now)
    db.session.flush()
    item_completed.send(
        None, user_id=user_id, course_id=course_id, item_key=item_key, version_no=version_no, now=now
    )
    return True


def _touch_enrolment(user_id: int, course_id: int, now: datetime) -> None:
    db.session.execute(
        update(Enrolment)
        .where(Enrolment.user_id == user_id, Enrolment.course_id == course_id)
        .values(last_activity_at=now)
        .execution_options(synchronize_session=False)
    )


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
    #: the lesson's cited references, each with its ``number`` in the course's reference list
    references: list[dict]
    position: int  # 1-based position among the syllabus items
    earlier: set[str] = field(default_factory=set)
    #: the rendered, sanitised body (cached per immutable version)
    html: str = ""

    @property
    def is_done(self) -> bool:
        return self.item.key in self.done


def lesson_page(
    course: Course, user: User, key: str, records: dict[str, Record] | None = None
) -> LessonPage | None:
    """A lesson with its place in the course. The version's syllabus and the lesson body come from the
    published-content cache (lms.catalog.content); only the learner's progress is read (one query, none
    when the caller already has ``records``)."""
    content = version_content(course)
    item = content.item(key, "lesson")
    if item is None:
        return None
    version, syllabus = content.version, content.syllabus
    if records is None:
        records = progress_records(user.id, course.id)
    done = edition_done(syllabus, records, version.number, content.policy)
    earlier = {i.key for i in syllabus if i.key in records} - done
    prev_item, next_item = neighbours(syllabus, key)
    # Numbered as in the course's reference list, here rather than in a template loop over every reference
    refs = {r["key"]: {**r, "number": n} for n, r in enumerate(version.details.get("references", []), 1)}
    return LessonPage(
        course=course,
        version=version,
        item=item,
        module=content.module(item.module_id),
        syllabus=syllabus,
        done=done,
        progress=course_progress(syllabus, done, content.policy),
        previous=prev_item,
        next=next_item,
        references=[refs[k] for k in item.citations if k in refs],
        position=[s.key for s in syllabus].index(key) + 1,
        earlier=earlier,
        html=lesson_html(content, item),
    )


@dataclass
class DashboardRow:
    course: Course
    enrolment: Enrolment
    progress: CourseProgress


@cache
def _dashboard_statement() -> Select[Any]:
    """Built once: the dashboard and the catalog's badges run it on every signed-in request."""
    return (
        select(
            Enrolment,
            Course,
            ProgressRecord.item_key,
            ProgressRecord.version_no,
            ProgressRecord.content_hash,
        )
        .join(Course, Course.id == Enrolment.course_id)
        .outerjoin(
            ProgressRecord,
            and_(
                ProgressRecord.user_id == Enrolment.user_id, ProgressRecord.course_id == Enrolment.course_id
            ),
        )
        .where(
            Enrolment.user_id == bindparam("user_id"),
            Enrolment.left_at.is_(None),
            Course.current_version_no > 0,
        )
        .order_by(Enrolment.last_activity_at.desc(), Enrolment.id)
    )


def dashboard(user: User) -> list[DashboardRow]:
    """Each active enrolment with progress and next step, in one query whatever the number of courses
    (enrolments with their courses and progress records, outer-joined) once the versions are cached."""
    rows = db.session.execute(_dashboard_statement(), {"user_id": user.id}).all()
    pairs: dict[int, tuple[Enrolment, Course]] = {}
    records: dict[int, dict[str, Record]] = {}
    for enrolment, course, key, version_no, content_hash in rows:
        pairs.setdefault(course.id, (enrolment, course))
        if key is not None:
            records.setdefault(course.id, {})[key] = Record(version_no, content_hash)
    if not pairs:
        return []
    progress = _progress(version_contents([course for _, course in pairs.values()]), records)
    return [
        DashboardRow(course, enrolment, progress[course.id])
        for enrolment, course in pairs.values()
        if course.id in progress
    ]


def progress_by_course(user_id: int, courses: Sequence[Course]) -> dict[int, CourseProgress]:
    """The learner's progress towards each published course's current edition, by course id.

    The administrators' user page calls this and the learner's dashboard shares its computation
    (``_progress``), so the two cannot disagree. One query for the progress records, plus three for
    whichever versions are not cached yet, whatever the number of courses.
    """
    contents = version_contents(courses)
    if not contents:
        return {}
    records: dict[int, dict[str, Record]] = {}
    for course_id, key, version_no, content_hash in db.session.execute(
        select(
            ProgressRecord.course_id,
            ProgressRecord.item_key,
            ProgressRecord.version_no,
            ProgressRecord.content_hash,
        ).where(ProgressRecord.user_id == user_id, ProgressRecord.course_id.in_(list(contents)))
    ):
        records.setdefault(course_id, {})[key] = Record(version_no, content_hash)
    return _progress(contents, records)


def _progress(
    contents: Mapping[int, Any], records: Mapping[int, Mapping[str, Record]]
) -> dict[int, CourseProgress]:
    """Progress per course from the versions' contents and the learner's records (pure: no query)."""
    out = {}
    for course_id, content in contents.items():
        done = edition_done(
            content.syllabus, records.get(course_id, {}), content.version.number, content.policy
        )
        out[course_id] = course_progress(content.syllabus, done, content.policy)
    return out

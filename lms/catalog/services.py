"""Catalog rules and queries: finding courses, the course page, enrolment.

Every function runs a fixed number of queries whatever the size of the course (see tests/web/test_queries.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, or_, select

from lms.auth.models import User
from lms.catalog.models import (
    STAFF_ROLES,
    Course,
    CourseStaff,
    CourseVersion,
    Enrolment,
    Item,
    MediaAsset,
    Module,
)
from lms.coursepacks.currency import review_overdue
from lms.extensions import db
from lms.learning.progress import (
    CourseProgress,
    Policy,
    Record,
    SyllabusItem,
    blocking_items,
    course_progress,
    edition_done,
    gated_keys,
)
from lms.textsearch import normalise_search
from lms.timeutil import utcnow


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@cache
def _published_statement() -> Select[Any]:
    """Every published course by title, built once: the unfiltered catalog runs it as it is, a search
    adds its conditions to a copy (statements are generative)."""
    return (
        select(Course)
        .where(Course.status == "published", Course.current_version_no > 0)
        .order_by(Course.title)
    )


def published_courses(query: str = "", specialty: str = "") -> list[Course]:
    """Published courses matching a text query and a specialty; one query.

    The query is normalised like the stored search text (lms.textsearch) and matched against the course's
    title, summary, specialties, objectives and syllabus, and against the text of its current lessons.
    """
    needle = normalise_search(query)
    stmt = _published_statement()
    if needle:
        like = f"%{_escape_like(needle)}%"
        in_lessons = (
            select(Item.id)
            .join(CourseVersion, CourseVersion.id == Item.version_id)
            .where(
                CourseVersion.course_id == Course.id,
                CourseVersion.number == Course.current_version_no,
                Item.search_text.like(like, escape="\\"),
            )
            .exists()
        )
        stmt = stmt.where(or_(Course.search_text.like(like, escape="\\"), in_lessons))
    if specialty:
        stmt = stmt.where(Course.specialties.like(f"%|{_escape_like(specialty)}|%", escape="\\"))
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class LessonMatch:
    key: str
    title: str


def matching_lessons(courses: list[Course], query: str, limit: int = 3) -> dict[int, list[LessonMatch]]:
    """The current lessons of ``courses`` whose text matches ``query`` (at most ``limit`` each); one query."""
    needle = normalise_search(query)
    if not needle or not courses:
        return {}
    current = {(c.id, c.current_version_no) for c in courses}
    rows = db.session.execute(
        select(CourseVersion.course_id, CourseVersion.number, Item.key, Item.title)
        .join(CourseVersion, CourseVersion.id == Item.version_id)
        .where(
            CourseVersion.course_id.in_([c.id for c in courses]),
            Item.kind == "lesson",
            Item.search_text.like(f"%{_escape_like(needle)}%", escape="\\"),
        )
        .order_by(CourseVersion.course_id, Item.position)
    )
    found: dict[int, list[LessonMatch]] = {}
    for course_id, number, key, title in rows:
        if (course_id, number) in current and len(found.setdefault(course_id, [])) < limit:
            found[course_id].append(LessonMatch(key, title))
    return found


def all_specialties() -> list[str]:
    rows = db.session.scalars(
        select(Course.specialties).where(Course.status == "published", Course.current_version_no > 0)
    )
    return sorted({s for row in rows for s in row.split("|") if s}, key=str.casefold)


def specialties_of(courses: list[Course]) -> list[str]:
    """The specialties of these courses, sorted as ``all_specialties`` sorts them (no query)."""
    return sorted({s for c in courses for s in c.specialties.split("|") if s}, key=str.casefold)


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


def review_is_overdue(version: CourseVersion, today: date) -> bool:
    """Is this published edition's last review more than 12 months before ``today``?"""
    last = version.details.get("dates", {}).get("last_review")
    return bool(last) and review_overdue(date.fromisoformat(last), today, status=version.status)


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
    return [SyllabusItem(i.key, i.kind, i.title, modules[i.module_id].key, i.content_hash) for i in items]


def get_enrolment(user: User | Any, course: Course) -> Enrolment | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.course_id == course.id)
    )


def progress_records(user_id: int, course_id: int) -> dict[str, Record]:
    """The learner's progress records on a course, by item key (one query)."""
    from lms.learning.models import ProgressRecord

    rows = db.session.execute(
        select(ProgressRecord.item_key, ProgressRecord.version_no, ProgressRecord.content_hash).where(
            ProgressRecord.user_id == user_id, ProgressRecord.course_id == course_id
        )
    )
    return {key: Record(version_no, content_hash) for key, version_no, content_hash in rows}


def done_on_version(
    user_id: int, course_id: int, version: CourseVersion, syllabus: list[SyllabusItem]
) -> tuple[set[str], set[str]]:
    """(items done on this edition, items done only in an earlier edition and changed since)."""
    records = progress_records(user_id, course_id)
    done = edition_done(syllabus, records, version.number, policy_of(version))
    return done, {i.key for i in syllabus if i.key in records} - done


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
    #: done in an earlier edition but changed since: shown for orientation, to be done again
    earlier: set[str] = field(default_factory=set)
    #: gated items (final, evaluation) that cannot be started yet: the rest is not done
    locked: set[str] = field(default_factory=set)

    @property
    def enrolled(self) -> bool:
        return self.enrolment is not None and self.enrolment.active


def enrolment_and_records(user: User | Any, course: Course) -> tuple[Enrolment | None, dict[str, Record]]:
    """The learner's enrolment on the course and their progress records by item key, in one query.

    An outer join from the enrolment row to its progress rows: (None, {}) when not enrolled or anonymous.
    """
    from lms.learning.models import ProgressRecord

    if not getattr(user, "is_authenticated", False):
        return None, {}
    rows = db.session.execute(
        select(Enrolment, ProgressRecord.item_key, ProgressRecord.version_no, ProgressRecord.content_hash)
        .outerjoin(
            ProgressRecord,
            and_(
                ProgressRecord.user_id == Enrolment.user_id, ProgressRecord.course_id == Enrolment.course_id
            ),
        )
        .where(Enrolment.user_id == user.id, Enrolment.course_id == course.id)
    ).all()
    if not rows:
        return None, {}
    records = {key: Record(no, content_hash) for _, key, no, content_hash in rows if key is not None}
    return rows[0][0], records


@cache
def _course_for_statement() -> Select[Any]:
    """Built once (per request only the parameters change): no statement construction on the hottest
    pages."""
    from lms.learning.models import ProgressRecord

    return (
        select(
            Course, Enrolment, ProgressRecord.item_key, ProgressRecord.version_no, ProgressRecord.content_hash
        )
        .outerjoin(
            Enrolment, and_(Enrolment.course_id == Course.id, Enrolment.user_id == bindparam("user_id"))
        )
        .outerjoin(
            ProgressRecord,
            and_(
                ProgressRecord.user_id == Enrolment.user_id, ProgressRecord.course_id == Enrolment.course_id
            ),
        )
        .where(Course.slug == bindparam("slug"), Course.status == "published", Course.current_version_no > 0)
    )


def published_course_for(
    slug: str, user: User | Any
) -> tuple[Course, Enrolment | None, dict[str, Record]] | None:
    """A published course with the signed-in learner's enrolment and progress records, in one statement.

    The learner pages need all three on every request: the course row (which version is current), the
    enrolment (may they see it) and the records (what is done). Outer joins keep it one round trip; None
    when no published course has this slug, (course, None, {}) when not enrolled or anonymous.
    """
    if not getattr(user, "is_authenticated", False):
        course = get_published_course(slug)
        return (course, None, {}) if course is not None else None
    rows = db.session.execute(_course_for_statement(), {"slug": slug, "user_id": user.id}).all()
    if not rows:
        return None
    records = {key: Record(no, content_hash) for _, _, key, no, content_hash in rows if key is not None}
    return rows[0][0], rows[0][1], records


def course_page(
    course: Course,
    user: User | Any,
    preloaded: tuple[Enrolment | None, dict[str, Record]] | None = None,
) -> CoursePage:
    """Everything the course page shows: one query (enrolment with progress) once the version is cached,
    none when the caller already has them (``preloaded``, from ``published_course_for``)."""
    from lms.catalog.content import version_content

    content = version_content(course)
    version, modules, items, syllabus = content.version, content.modules, content.items, content.syllabus
    enrolment, records = preloaded if preloaded is not None else enrolment_and_records(user, course)
    policy = content.policy
    if enrolment:
        done = edition_done(syllabus, records, version.number, policy)
        earlier = {i.key for i in syllabus if i.key in records} - done
    else:
        done, earlier = set(), set()
    grouped = [ModuleView(m, [i for i in items if i.module_id == m.id]) for m in modules]
    locked = {
        key for key in gated_keys(policy) if key not in done and blocking_items(syllabus, done, policy, key)
    }
    return CoursePage(
        course,
        version,
        grouped,
        enrolment,
        done,
        course_progress(syllabus, done, policy),
        syllabus,
        earlier,
        locked,
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
    """A media file of the course's current version. Its bytes (deferred) are read only when touched, so a
    revalidation answered with 304 never loads a large image."""
    return db.session.scalar(
        select(MediaAsset)
        .join(CourseVersion, CourseVersion.id == MediaAsset.version_id)
        .where(is_current_version(course), MediaAsset.path == path)
    )


# -- course staff -----------------------------------------------------------------------------------------


class StaffError(Exception):
    """A staff change is refused (unknown role, not an educator); the message is for the operator."""


def staff_role(user: User | Any, course: Course) -> str | None:
    """The user's role on the course's staff ("owner" or "coauthor"), or None (one query).

    The shared rule behind authoring and report pages: a staff row counts only for an active educator.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active or not user.has_role("educator"):
        return None
    return db.session.scalar(
        select(CourseStaff.role).where(CourseStaff.course_id == course.id, CourseStaff.user_id == user.id)
    )


def add_staff(course: Course, user: User, role: str, now: datetime | None = None) -> CourseStaff:
    """Make ``user`` the course's owner or a co-author (or change their role). Only educators qualify:
    staff rows give access to authoring and reports, which are educators' tools. Flushes only."""
    if role not in STAFF_ROLES:
        raise StaffError(f'role "{role}" is not one of {", ".join(STAFF_ROLES)}')
    if not user.has_role("educator"):
        raise StaffError(f"{user.email} is not an educator: grant the educator role first")
    row = db.session.scalar(
        select(CourseStaff).where(CourseStaff.course_id == course.id, CourseStaff.user_id == user.id)
    )
    if row is None:
        row = CourseStaff(course_id=course.id, user_id=user.id, role=role, added_at=now or utcnow())
        db.session.add(row)
    else:
        row.role = role
    db.session.flush()
    return row


def remove_staff(course: Course, user: User) -> bool:
    """Take ``user`` off the course's staff; False if they were not on it. Flushes only."""
    row = db.session.scalar(
        select(CourseStaff).where(CourseStaff.course_id == course.id, CourseStaff.user_id == user.id)
    )
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


def course_staff(course: Course) -> list[tuple[CourseStaff, User]]:
    """The course's staff with their accounts, owners first (one query)."""
    rows = db.session.execute(
        select(CourseStaff, User)
        .join(User, User.id == CourseStaff.user_id)
        .where(CourseStaff.course_id == course.id)
        .order_by(CourseStaff.role.desc(), User.full_name)
    )
    return [(s, u) for s, u in rows]

"""Storing validated course packages: idempotent, one transaction per course, history never deleted."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import func, select

from lms.catalog.models import Course, CourseVersion, Item, MediaAsset, Module
from lms.coursepacks.manifest import CoursePackage, Lesson
from lms.coursepacks.manifest import Quiz as QuizDef
from lms.coursepacks.timing import plain_text
from lms.extensions import db
from lms.quizzes.models import Question, Quiz
from lms.specialties import normalise_all
from lms.textsearch import normalise_search


class SyncError(Exception):
    """The package cannot be stored (for example its slug belongs to a course from another source)."""


@dataclass(frozen=True)
class SyncResult:
    slug: str
    status: str  # created | updated | unchanged
    version: int


def spec_hash(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def lesson_hash(html: str) -> str:
    """What a lesson "is" for carry-over: its rendered body (a retitled lesson need not be read again)."""
    return hashlib.sha256(html.encode()).hexdigest()


def quiz_hash(settings: dict, question_hashes: list[str]) -> str:
    """A quiz is unchanged when its settings and every question (in order) are unchanged."""
    payload = json.dumps({"settings": settings, "questions": question_hashes}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def store_package(pkg: CoursePackage, source: str) -> SyncResult:
    """Store ``pkg`` as a new version of its course unless the same content is already the latest version.

    Only flushes: the caller commits (one transaction per course) or rolls back.
    """
    course = db.session.scalar(select(Course).where(Course.slug == pkg.slug).with_for_update())
    if course is not None and course.source != source:
        raise SyncError(
            f'slug "{pkg.slug}" is already used by a course from {course.source}; '
            f"a package from {source} cannot replace it (duplicate slug)"
        )
    if course is None:
        course = Course(slug=pkg.slug, source=source)
        db.session.add(course)
        db.session.flush()
        status, latest = "created", None
    else:
        latest = db.session.scalar(
            select(CourseVersion)
            .where(CourseVersion.course_id == course.id)
            .order_by(CourseVersion.number.desc())
            .limit(1)
        )
        if latest is not None and latest.checksum == pkg.checksum:
            return SyncResult(pkg.slug, "unchanged", latest.number)
        existing = db.session.scalar(
            select(CourseVersion.number).where(
                CourseVersion.course_id == course.id, CourseVersion.checksum == pkg.checksum
            )
        )
        if existing is not None:
            # A package reverted to an earlier edition: make that version current again, nothing new to store.
            _set_current(course, pkg, existing)
            return SyncResult(pkg.slug, "updated", existing)
        status = "updated"
    number = (
        db.session.scalar(select(func.max(CourseVersion.number)).where(CourseVersion.course_id == course.id))
        or 0
    ) + 1
    version = CourseVersion(
        course_id=course.id,
        number=number,
        edition=pkg.edition,
        checksum=pkg.checksum,
        title=pkg.title,
        summary=pkg.summary,
        status=pkg.status,
        estimated_minutes=pkg.estimated_minutes,
        credit_hours=pkg.credit.hours,
        details=pkg.metadata(),
    )
    db.session.add(version)
    db.session.flush()
    _store_content(pkg, version)
    _set_current(course, pkg, number)
    db.session.flush()
    return SyncResult(pkg.slug, status, number)


def _set_current(course: Course, pkg: CoursePackage, number: int) -> None:
    course.current_version_no = number
    course.title = pkg.title
    course.summary = pkg.summary
    course.status = pkg.status
    course.credit_hours = pkg.credit.hours
    course.estimated_minutes = pkg.estimated_minutes
    specialties = normalise_all(pkg.specialties)  # one controlled list (lms/specialties.py)
    course.specialties = "|" + "|".join(specialties) + "|" if specialties else ""
    course.release_on = pkg.dates.release
    course.terminates_on = pkg.dates.expiry
    course.search_text = course_search_text(pkg)


def course_search_text(pkg: CoursePackage) -> str:
    """What catalog search matches a course on (lesson text is searched through its items)."""
    parts = [pkg.title, pkg.summary, *pkg.specialties, *pkg.objectives]
    parts += [m.title for m in pkg.modules] + [i.title for m in pkg.modules for i in m.items]
    return normalise_search(" ".join(parts))


def _store_content(pkg: CoursePackage, version: CourseVersion) -> None:
    position = 0
    for m_pos, mod in enumerate(pkg.modules, 1):
        module = Module(
            version_id=version.id, key=mod.key, position=m_pos, title=mod.title, summary=mod.summary
        )
        db.session.add(module)
        db.session.flush()
        for entry in mod.items:
            position += 1
            if isinstance(entry, Lesson):
                db.session.add(
                    Item(
                        version_id=version.id,
                        module_id=module.id,
                        key=entry.key,
                        kind="lesson",
                        position=position,
                        title=entry.title,
                        minutes=entry.minutes,
                        html=entry.html,
                        content_hash=lesson_hash(entry.html),
                        citations=list(entry.citations),
                        search_text=normalise_search(entry.title + " " + plain_text(entry.html)),
                    )
                )
            else:
                _store_quiz(entry, version, module, position)
    for media in pkg.media:
        db.session.add(
            MediaAsset(
                version_id=version.id,
                path=media.path,
                mime=media.mime,
                sha256=hashlib.sha256(media.data).hexdigest(),
                data=media.data,
            )
        )


def _store_quiz(entry: QuizDef, version: CourseVersion, module: Module, position: int) -> None:
    item = Item(
        version_id=version.id,
        module_id=module.id,
        key=entry.key,
        kind=entry.kind,
        position=position,
        title=entry.title,
        minutes=entry.minutes,
        content_hash=quiz_hash(entry.settings.as_dict(), [spec_hash(q.spec) for q in entry.questions]),
    )
    db.session.add(item)
    db.session.flush()
    quiz = Quiz(
        version_id=version.id,
        item_id=item.id,
        key=entry.key,
        title=entry.title,
        kind=entry.kind,
        intro_html=entry.intro_html,
        settings=entry.settings.as_dict(),
    )
    db.session.add(quiz)
    db.session.flush()
    db.session.add_all(
        Question(
            quiz_id=quiz.id,
            key=q.key,
            position=q.position,
            type=q.type,
            points=q.points,
            prompt_html=q.prompt_html,
            explanation_html=q.explanation_html,
            reference=q.reference,
            spec=q.spec,
            content_hash=spec_hash(q.spec),
        )
        for q in entry.questions
    )

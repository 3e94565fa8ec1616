"""Queries behind the administration screens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import joinedload

from lms.auth.models import AuditEvent, User, UserRole
from lms.catalog.models import Course, CourseVersion, Enrolment, Item, Module
from lms.catalog.services import policy_of
from lms.certificates.models import Certificate, CertificateClaim, ClaimDecline
from lms.certificates.services import CertificateView, CourseCertificateStatus, certificate_views, status_for
from lms.extensions import db
from lms.learning.models import ProgressRecord
from lms.learning.progress import CourseProgress, Record, SyllabusItem, course_progress, edition_done
from lms.quizzes.models import Attempt, Quiz
from lms.textsearch import normalise_search

SORTS = {
    "joined": (User.created_at.desc(), User.id.desc()),
    "name": (User.full_name, User.id),
    "email": (User.email,),
    "profession": (User.profession, User.full_name),
}


def search_users(
    query: str = "", role: str = "", sort: str = "joined", limit: int | None = 500
) -> list[User]:
    """Accounts matching a text query (email or name) and a role, in the chosen order (newest first).

    The query is normalised the way ``User.search_text`` was (accents, case, hyphens), so "NUÑEZ" and
    "nunez" find "Núñez" with one plain LIKE on any database; the email is also matched as typed, so
    "a-b@…" is found by "a-b" too. LIKE wildcards in the query are literal either way.
    """
    stmt = select(User).order_by(*SORTS.get(sort, SORTS["joined"]))
    if limit:
        stmt = stmt.limit(limit)
    if query.strip():
        normalised = normalise_search(query)
        matches = [User.email.like(like_pattern(query.strip().lower()), escape="\\")]
        if normalised:
            matches.append(User.search_text.like(like_pattern(normalised), escape="\\"))
        stmt = stmt.where(or_(*matches))
    if role and role != "learner":
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    return list(db.session.scalars(stmt))


CSV_HEADER = [
    "email",
    "full_name",
    "profession",
    "specialty",
    "country",
    "licence_number",
    "roles",
    "status",
    "joined",
    "last_login",
]


def like_pattern(text: str) -> str:
    """``%text%`` with LIKE's wildcards escaped (``\\`` is the escape character): "50%" matches "50%" only."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def users_csv_rows(users: list[User]) -> list[list[object]]:
    """Header and one row per account; cells are made formula-safe when written (lms/csvutil.py)."""
    rows: list[list[object]] = [list(CSV_HEADER)]
    for u in users:
        rows.append(
            [
                u.email,
                u.full_name,
                u.profession,
                u.specialty,
                u.country,
                u.licence_number,
                " ".join(sorted(u.roles)),
                "disabled" if u.disabled_at else "active",
                u.created_at,
                u.last_login_at,
            ]
        )
    return rows


def audit_trail(user: User, limit: int = 50) -> list[AuditEvent]:
    """The newest administrative actions on this account, with who did them (one query)."""
    stmt = (
        select(AuditEvent)
        .options(joinedload(AuditEvent.actor))
        .where(AuditEvent.target_type == "user", AuditEvent.target_id == str(user.id))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


# -- one account's learning record -----------------------------------------------------------------------


@dataclass(frozen=True)
class EnrolmentRow:
    course: Course
    enrolment: Enrolment
    #: towards the course's current edition (None when the course has no published edition)
    progress: CourseProgress | None
    certificate: CourseCertificateStatus | None


@dataclass(frozen=True)
class AttemptRow:
    attempt: Attempt
    course: Course
    quiz: Quiz


@dataclass(frozen=True)
class CertificateRow:
    view: CertificateView
    course: Course


@dataclass(frozen=True)
class ClaimRow:
    claim: CertificateClaim
    course: Course
    edition: str
    state: str  # pending | declined | issued
    decline: ClaimDecline | None


@dataclass(frozen=True)
class UserRecord:
    """What an administrator sees of a person's learning, to answer "did they do it?" in one look."""

    enrolments: list[EnrolmentRow]
    attempts: list[AttemptRow]
    certificates: list[CertificateRow]
    claims: list[ClaimRow]


def user_record(user: User, today: date) -> UserRecord:
    """Enrolments with progress, quiz attempts, certificates and claims, in fifteen queries or fewer
    whatever the number of rows (each table is one query, progress is computed by the pure rules)."""
    pairs = db.session.execute(
        select(Enrolment, Course)
        .join(Course, Course.id == Enrolment.course_id)
        .where(Enrolment.user_id == user.id)
        .order_by(Enrolment.enrolled_at.desc(), Enrolment.id.desc())
    ).all()
    progress = _progress_by_course(user.id, [course for _, course in pairs])
    statuses = status_for(user.id, [course.id for _, course in pairs], today)
    enrolments = [
        EnrolmentRow(course, enrolment, progress.get(course.id), statuses.get(course.id))
        for enrolment, course in pairs
    ]
    attempts = [
        AttemptRow(attempt, course, quiz)
        for attempt, course, quiz in db.session.execute(
            select(Attempt, Course, Quiz)
            .join(Course, Course.id == Attempt.course_id)
            .join(Quiz, Quiz.id == Attempt.quiz_id)
            .where(Attempt.user_id == user.id)
            .order_by(Attempt.started_at.desc(), Attempt.id.desc())
        )
    ]
    cert_pairs = db.session.execute(
        select(Certificate, Course)
        .join(Course, Course.id == Certificate.course_id)
        .where(Certificate.user_id == user.id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    ).all()
    courses = {cert.id: course for cert, course in cert_pairs}
    views = certificate_views([cert for cert, _ in cert_pairs], today)
    certificates = [CertificateRow(v, courses[v.certificate.id]) for v in views]
    issued = select(Certificate.id).where(Certificate.claim_id == CertificateClaim.id).exists()
    claims = [
        ClaimRow(
            claim,
            course,
            edition or "",
            "declined" if decline else "issued" if is_issued else "pending",
            decline,
        )
        for claim, course, edition, decline, is_issued in db.session.execute(
            select(CertificateClaim, Course, CourseVersion.edition, ClaimDecline, issued)
            .join(Course, Course.id == CertificateClaim.course_id)
            .outerjoin(
                CourseVersion,
                (CourseVersion.course_id == CertificateClaim.course_id)
                & (CourseVersion.number == CertificateClaim.version_no),
            )
            .outerjoin(ClaimDecline, ClaimDecline.claim_id == CertificateClaim.id)
            .where(CertificateClaim.user_id == user.id)
            .order_by(CertificateClaim.created_at.desc(), CertificateClaim.id.desc())
        )
    ]
    return UserRecord(enrolments, attempts, certificates, claims)


def _progress_by_course(user_id: int, courses: list[Course]) -> dict[int, CourseProgress]:
    """Progress towards each course's current edition, in three queries whatever the number of courses.

    The same rules as the learner's dashboard (``edition_done``, ``course_progress``), for every enrolment,
    left ones included.
    """
    published = [(c.id, c.current_version_no) for c in courses if c.current_version_no > 0]
    if not published:
        return {}
    versions = {
        v.id: v
        for v in db.session.scalars(
            select(CourseVersion).where(tuple_(CourseVersion.course_id, CourseVersion.number).in_(published))
        )
    }
    syllabi: dict[int, list[SyllabusItem]] = {v.course_id: [] for v in versions.values()}
    for version_id, key, kind, title, module_key, content_hash in db.session.execute(
        select(Item.version_id, Item.key, Item.kind, Item.title, Module.key, Item.content_hash)
        .join(Module, Module.id == Item.module_id)
        .where(Item.version_id.in_(list(versions)))
        .order_by(Item.position)
    ):
        syllabi[versions[version_id].course_id].append(
            SyllabusItem(key, kind, title, module_key, content_hash)
        )
    records: dict[int, dict[str, Record]] = {}
    for course_id, key, version_no, content_hash in db.session.execute(
        select(
            ProgressRecord.course_id,
            ProgressRecord.item_key,
            ProgressRecord.version_no,
            ProgressRecord.content_hash,
        ).where(ProgressRecord.user_id == user_id, ProgressRecord.course_id.in_([c for c, _ in published]))
    ):
        records.setdefault(course_id, {})[key] = Record(version_no, content_hash)
    out = {}
    for version in versions.values():
        policy = policy_of(version)
        syllabus = syllabi[version.course_id]
        done = edition_done(syllabus, records.get(version.course_id, {}), version.number, policy)
        out[version.course_id] = course_progress(syllabus, done, policy)
    return out

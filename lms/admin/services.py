"""Queries behind the administration screens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from lms.auth.models import AuditEvent, User, UserRole
from lms.catalog.models import Course, CourseVersion, Enrolment
from lms.certificates.models import Certificate, CertificateClaim, ClaimDecline
from lms.certificates.services import CertificateView, CourseCertificateStatus, certificate_views, status_for
from lms.extensions import db
from lms.learning.progress import CourseProgress
from lms.learning.services import progress_by_course
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
    # The dashboard's own function: the two pages cannot disagree (left enrolments included here).
    progress = progress_by_course(user.id, [course for _, course in pairs])
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

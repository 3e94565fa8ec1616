"""Certificate services: completion records, claims, issuance, revocation, verification, reports.

Services take explicit arguments and only flush; routes and the CLI commit. The rules themselves are pure
functions in ``rules.py``; this module gathers the data for them and writes the append-only rows.
"""

from __future__ import annotations

import csv
import io
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select, union_all
from sqlalchemy.exc import IntegrityError

from lms import jobs
from lms.auth.models import PROFESSIONS, AuditEvent, User
from lms.catalog.content import version_content
from lms.catalog.models import Course, CourseVersion, Enrolment
from lms.catalog.services import current_version, done_on_version, policy_of
from lms.certificates import rules, serials
from lms.certificates.models import (
    Certificate,
    CertificateClaim,
    CertificateRevocation,
    ClaimDecline,
    CourseCertificateSetting,
    CourseCompletion,
    ExpiryReminder,
    ReissueRequest,
    SignedCredential,
)
from lms.csvutil import csv_text
from lms.extensions import db
from lms.learning.models import ProgressRecord
from lms.learning.progress import required_keys
from lms.quizzes.models import Attempt, AttemptAnswer, Quiz
from lms.timeutil import utcnow

LEARNING_FORMAT = "Enduring material (self-paced online)"


class CertificateError(Exception):
    """A rule stops the action; the message is for the person who tried it."""


@dataclass(frozen=True)
class IssuerSettings:
    """Who issues, as printed on certificates (from configuration; an admin settings page may override)."""

    base_url: str
    site_name: str
    provider_name: str
    signatory_name: str
    signatory_title: str
    paper: str = "A4"
    signature_image: str = ""  # base64 PNG/JPEG, already sanitised
    logo_image: str = ""


def audit(actor_id: int | None, action: str, target_type: str, target_id: object, detail: str, now: datetime):
    db.session.add(
        AuditEvent(
            at=now,
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            detail=detail[:4000],
        )
    )


# -- completion ---------------------------------------------------------------------------------------


def activity_timestamps(user_id: int, course_id: int) -> list[datetime]:
    """Every server timestamp already recorded for the learner's work on a course (one query)."""
    parts = [
        select(Enrolment.enrolled_at.label("t")).where(
            Enrolment.user_id == user_id, Enrolment.course_id == course_id
        ),
        select(ProgressRecord.completed_at).where(
            ProgressRecord.user_id == user_id, ProgressRecord.course_id == course_id
        ),
        select(Attempt.started_at).where(Attempt.user_id == user_id, Attempt.course_id == course_id),
        select(Attempt.submitted_at).where(
            Attempt.user_id == user_id, Attempt.course_id == course_id, Attempt.submitted_at.is_not(None)
        ),
        select(AttemptAnswer.saved_at)
        .join(Attempt, Attempt.id == AttemptAnswer.attempt_id)
        .where(
            Attempt.user_id == user_id, Attempt.course_id == course_id, AttemptAnswer.saved_at.is_not(None)
        ),
    ]
    return [t for t in db.session.scalars(select(union_all(*parts).subquery().c.t)) if t is not None]


@dataclass
class EditionProgress:
    version: CourseVersion
    complete: bool
    missing: list[str]
    final_score: float | None


def edition_progress(user_id: int, course: Course) -> EditionProgress:
    # The syllabus comes from the published-content cache: one query (progress) while incomplete.
    content = version_content(course)
    version, syllabus, policy = content.version, content.syllabus, content.policy
    done, _ = done_on_version(user_id, course.id, version, syllabus)
    facts = rules.CompletionFacts(required_keys(syllabus, policy), done, {i.key: i.title for i in syllabus})
    final_score = None
    if policy.final_quiz and rules.is_complete(facts):
        final_score = db.session.scalar(
            select(func.max(Attempt.score))
            .join(Quiz, Quiz.id == Attempt.quiz_id)
            .where(
                Attempt.user_id == user_id,
                Quiz.version_id == version.id,
                Quiz.key == policy.final_quiz,
                Attempt.status == "submitted",
            )
        )
    return EditionProgress(version, rules.is_complete(facts), rules.missing_items(facts), final_score)


def record_edition_completion(
    user_id: int, course_id: int, now: datetime, *, backfill: bool = False
) -> CourseCompletion | None:
    """Record the learner's completion of the course's current version, once (race-safe). Flushes only.

    ``backfill`` is for a learner who finished before completions were recorded: the completion is dated
    at their last recorded action, not at the moment it is noticed.
    """
    course = db.session.get(Course, course_id)
    if course is None or course.current_version_no <= 0:
        return None
    progress = edition_progress(user_id, course)
    if not progress.complete:
        return None
    existing = completion_for(user_id, course_id, progress.version.number)
    if existing is not None:
        return existing  # the completion date is frozen: a retake never changes it
    stamps = activity_timestamps(user_id, course_id)
    row = CourseCompletion(
        user_id=user_id,
        course_id=course_id,
        version_no=progress.version.number,
        edition=progress.version.edition,
        completed_at=max(stamps, default=now) if backfill else now,
        final_score=progress.final_score,
        minutes_spent=rules.time_spent_minutes(stamps),
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return completion_for(user_id, course_id, progress.version.number)
    return row


def on_item_completed(sender: Any, *, user_id: int, course_id: int, now: datetime, **_: Any) -> None:
    """Listener for ``lms.signals.item_completed``: writes only the completion row."""
    record_edition_completion(user_id, course_id, now)


def completion_for(user_id: int, course_id: int, version_no: int) -> CourseCompletion | None:
    return db.session.scalar(
        select(CourseCompletion).where(
            CourseCompletion.user_id == user_id,
            CourseCompletion.course_id == course_id,
            CourseCompletion.version_no == version_no,
        )
    )


# -- states -------------------------------------------------------------------------------------------


@dataclass
class CertificateView:
    certificate: Certificate
    state: str
    revocation: CertificateRevocation | None = None
    superseded_by: Certificate | None = None

    @property
    def serial_display(self) -> str:
        return serials.display(self.certificate.serial)


def certificate_views(certs: list[Certificate], today: date) -> list[CertificateView]:
    """States for many certificates in two queries."""
    ids = [c.id for c in certs]
    if not ids:
        return []
    revoked = {
        r.certificate_id: r
        for r in db.session.scalars(
            select(CertificateRevocation).where(CertificateRevocation.certificate_id.in_(ids))
        )
    }
    successors = {
        c.supersedes_id: c
        for c in db.session.scalars(select(Certificate).where(Certificate.supersedes_id.in_(ids)))
    }
    return [
        CertificateView(
            c,
            rules.certificate_state(c.id in revoked, c.id in successors, c.expires_on, today),
            revoked.get(c.id),
            successors.get(c.id),
        )
        for c in certs
    ]


def claim_state(claim: CertificateClaim) -> str:
    if db.session.scalar(select(ClaimDecline.id).where(ClaimDecline.claim_id == claim.id)):
        return "declined"
    if db.session.scalar(select(Certificate.id).where(Certificate.claim_id == claim.id)):
        return "issued"
    return "pending"


@dataclass
class CourseCertificateStatus:
    """What the dashboard and the course page say about a course's certificate, in words."""

    label: str  # e.g. "Claim pending", "Certificate valid", "Certificate expiring soon"
    completion: CourseCompletion | None = None
    certificate: CertificateView | None = None
    claim_state: str = ""


@cache
def _completions_statement() -> Select[Any]:
    """Built once: status_for runs on every course page and dashboard, and mostly finds nothing."""
    return (
        select(CourseCompletion, Course.current_version_no)
        .join(Course, Course.id == CourseCompletion.course_id)
        .where(
            CourseCompletion.user_id == bindparam("user_id"),
            CourseCompletion.course_id.in_(bindparam("course_ids", expanding=True)),
        )
        .order_by(CourseCompletion.version_no)
    )


def status_for(user_id: int, course_ids: list[int], today: date) -> dict[int, CourseCertificateStatus]:
    """Certificate status per course for one learner: one query for a learner with no completion (the
    common case on the dashboard and course pages), three more whatever the number of courses otherwise.

    Claims and certificates exist only after a completion, so without one there is nothing else to read.
    """
    if not course_ids:
        return {}
    current: dict[int, int] = {}
    completions: dict[int, CourseCompletion] = {}
    for c, current_no in db.session.execute(
        _completions_statement(), {"user_id": user_id, "course_ids": list(course_ids)}
    ):
        completions[c.course_id] = c  # the newest edition completed
        current[c.course_id] = current_no
    if not completions:
        return {}
    certs: dict[int, Certificate] = {}
    for cert in db.session.scalars(
        select(Certificate)
        .where(Certificate.user_id == user_id, Certificate.course_id.in_(course_ids))
        .order_by(Certificate.version_no, Certificate.id)
    ):
        certs[cert.course_id] = cert  # the newest certificate
    views = {v.certificate.course_id: v for v in certificate_views(list(certs.values()), today)}
    claims: dict[int, tuple[CertificateClaim, bool]] = {}
    for claim, declined in db.session.execute(
        select(CertificateClaim, ClaimDecline.id.is_not(None))
        .outerjoin(ClaimDecline, ClaimDecline.claim_id == CertificateClaim.id)
        .where(CertificateClaim.user_id == user_id, CertificateClaim.course_id.in_(course_ids))
        .order_by(CertificateClaim.id)
    ):
        claims[claim.course_id] = (claim, bool(declined))
    out = {}
    for course_id in course_ids:
        completion = completions.get(course_id)
        view = views.get(course_id)
        claim = claims.get(course_id)
        if claim and not claim[1] and (view is None or view.certificate.claim_id != claim[0].id):
            out[course_id] = CourseCertificateStatus("Claim pending", completion, view, "pending")
        elif claim and claim[1] and (view is None or view.certificate.claim_id != claim[0].id):
            out[course_id] = CourseCertificateStatus("Claim declined", completion, view, "declined")
        elif view is not None:
            label = {
                "valid": "Certificate valid",
                "expiring soon": "Certificate expiring soon",
                "expired": "Certificate expired",
                "revoked": "Certificate revoked",
                "superseded": "Certificate superseded",
            }[view.state]
            if completion and completion.version_no > view.certificate.version_no:
                label = "Completed: claim your certificate"
            out[course_id] = CourseCertificateStatus(label, completion, view, "issued")
        elif completion is not None and completion.version_no == current.get(course_id):
            out[course_id] = CourseCertificateStatus("Completed: claim your certificate", completion)
    return out


# -- claims -------------------------------------------------------------------------------------------


@dataclass
class ClaimPage:
    course: Course
    version: CourseVersion
    completion: CourseCompletion | None
    blockers: list[str]
    max_hours: float
    minutes_spent: int
    name_problems: list[str]
    status: CourseCertificateStatus | None
    accredited: bool
    credit_type: str
    history: list[CertificateView] = field(default_factory=list)

    @property
    def can_claim(self) -> bool:
        return not self.blockers


def claim_page(user: User, course: Course, today: date) -> ClaimPage:
    progress = edition_progress(user.id, course)
    version = progress.version
    completion = completion_for(user.id, course.id, version.number)
    open_claim = False
    if completion is not None:
        open_claim = (
            db.session.scalar(
                select(func.count())
                .select_from(CertificateClaim)
                .outerjoin(ClaimDecline, ClaimDecline.claim_id == CertificateClaim.id)
                .where(CertificateClaim.completion_id == completion.id, ClaimDecline.id.is_(None))
            )
            or 0
        ) > 0
    dates = version.details["dates"]
    minutes = (
        completion.minutes_spent
        if completion
        else rules.time_spent_minutes(activity_timestamps(user.id, course.id))
    )
    facts = rules.ClaimFacts(
        complete=completion is not None,
        missing=progress.missing,
        email_confirmed=user.email_confirmed_at is not None,
        release=date.fromisoformat(dates["release"]),
        termination=date.fromisoformat(dates["expiry"]),
        completed_on=completion.completed_at.date() if completion else None,
        today=today,
        min_minutes=policy_of(version).min_minutes,
        minutes_spent=minutes,
        open_claim=open_claim,
    )
    credit = version.details["credit"]
    history = certificate_views(
        list(
            db.session.scalars(
                select(Certificate)
                .where(Certificate.user_id == user.id, Certificate.course_id == course.id)
                .order_by(Certificate.id.desc())
            )
        ),
        today,
    )
    return ClaimPage(
        course,
        version,
        completion,
        rules.claim_blockers(facts),
        float(credit["hours"]),
        minutes,
        printable_name_problems(user.full_name),
        status_for(user.id, [course.id], today).get(course.id),
        bool(credit.get("accredited")),
        credit.get("type", ""),
        history,
    )


def printable_name_problems(name: str) -> list[str]:
    """Why a name cannot be printed as is (the PDF renderer knows its fonts)."""
    from lms.certificates.pdf import name_problems

    return name_problems(name)


@dataclass(frozen=True)
class ClaimInput:
    hours: float
    attest: bool
    printed_name: str = ""


def submit_claim(
    user: User, course: Course, data: ClaimInput, settings: IssuerSettings, now: datetime
) -> CertificateClaim:
    """Record the learner's claim (and issue at once when the course auto-issues). Flushes only."""
    page = claim_page(user, course, now.date())
    if page.blockers or page.completion is None:
        raise CertificateError(" ".join(page.blockers) or "Complete the course first.")
    if not data.attest:
        raise CertificateError("Confirm that you took part in the activity as claimed.")
    if problem := rules.hours_problem(data.hours, page.max_hours):
        raise CertificateError(problem)
    printed = data.printed_name.strip()
    if page.name_problems and not printed:
        raise CertificateError("Your registered name cannot be printed as it is: give the name as printed.")
    if printed and (problems := printable_name_problems(printed)):
        raise CertificateError(" ".join(problems))
    # Serialise claims for one completion: a double-click cannot make two pending claims.
    db.session.execute(
        select(CourseCompletion.id).where(CourseCompletion.id == page.completion.id).with_for_update()
    )
    claim = CertificateClaim(
        completion_id=page.completion.id,
        user_id=user.id,
        course_id=course.id,
        version_no=page.completion.version_no,
        hours=data.hours,
        over_time=rules.over_recorded_time(data.hours, page.minutes_spent),
        printed_name=printed,
        attested_at=now,
        created_at=now,
    )
    db.session.add(claim)
    db.session.flush()
    audit(
        user.id,
        "claim.create",
        "claim",
        claim.id,
        f"{course.slug} edition {page.version.edition}: "
        f"{data.hours:g} h" + (" (over recorded time)" if claim.over_time else ""),
        now,
    )
    if auto_issue_enabled(course.id):
        issue_claim(claim, None, settings, now)
    return claim


def auto_issue_enabled(course_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(CourseCertificateSetting.auto_issue).where(CourseCertificateSetting.course_id == course_id)
        )
    )


def set_auto_issue(course: Course, on: bool, actor: User, now: datetime) -> None:
    setting = db.session.get(CourseCertificateSetting, course.id)
    if setting is None:
        setting = CourseCertificateSetting(course_id=course.id, auto_issue=on, updated_at=now)
        db.session.add(setting)
    else:
        setting.auto_issue, setting.updated_at = on, now
    audit(actor.id, "course.auto_issue", "course", course.id, f"{course.slug}: {'on' if on else 'off'}", now)
    db.session.flush()


# -- issuance -----------------------------------------------------------------------------------------


def _statement(template: str, provider: str, hours: float) -> str:
    return template.replace("{provider}", provider).replace("{credits}", f"{hours:g}")


def build_snapshot(
    user: User,
    version: CourseVersion,
    course: Course,
    completion: CourseCompletion,
    hours: float,
    printed_name: str,
    serial: str,
    settings: IssuerSettings,
    issued_at: datetime,
    expires_on: date | None,
) -> dict[str, Any]:
    """Every value a certificate prints, copied now so later changes never alter it."""
    credit = version.details["credit"]
    accredited = bool(credit.get("accredited"))
    return {
        "serial": serials.display(serial),
        "holder_name": printed_name or user.full_name,
        "profession": PROFESSIONS.get(user.profession, user.profession),
        "licence_number": user.licence_number or "",
        "course_slug": course.slug,
        "course_title": version.title,
        "edition": version.edition,
        "learning_format": LEARNING_FORMAT,
        "completion_date": completion.completed_at.date().isoformat(),
        "hours": hours,
        "hours_available": float(credit["hours"]),
        "accredited": accredited,
        "credit_type": credit.get("type", "") if accredited else "",
        "designation_statement": _statement(credit.get("statement", ""), settings.provider_name, hours)
        if accredited
        else "",
        "accreditation_statement": _statement(credit.get("accreditation", ""), settings.provider_name, hours)
        if accredited
        else "",
        "provider_name": settings.provider_name,
        "signatory_name": settings.signatory_name,
        "signatory_title": settings.signatory_title,
        "signature_image": settings.signature_image,
        "logo_image": settings.logo_image,
        "issued_on": issued_at.date().isoformat(),
        "issued_at": issued_at.replace(microsecond=0).isoformat() + "Z",
        "expires_on": expires_on.isoformat() if expires_on else "",
        "expires_at": f"{expires_on.isoformat()}T00:00:00Z" if expires_on else "",
        "verify_url": f"{settings.base_url.rstrip('/')}/verify/{serials.display(serial)}",
        "paper": settings.paper,
        "site_name": settings.site_name,
        # Salt for the credential's hashed email: random and kept with the certificate (a stable hash).
        "subject_salt": secrets.token_hex(8),
        "criteria": "Complete every required lesson and quiz of this edition, pass its final assessment, "
        "submit its evaluation and attest participation.",
        "description": version.summary,
    }


def _new_certificate(
    claim: CertificateClaim,
    user: User,
    settings: IssuerSettings,
    now: datetime,
    actor_id: int | None,
    printed_name: str,
    supersedes: Certificate | None = None,
) -> Certificate:
    completion = db.session.get(CourseCompletion, claim.completion_id)
    course = db.session.get(Course, claim.course_id)
    assert completion is not None and course is not None
    version = db.session.scalar(
        select(CourseVersion).where(
            CourseVersion.course_id == course.id, CourseVersion.number == claim.version_no
        )
    )
    assert version is not None
    if (problems := printable_name_problems(printed_name or user.full_name)) and not claim.imported:
        raise CertificateError(
            "The name cannot be printed as it is (" + " ".join(problems) + "): ask the learner for the name "
            "as printed, or reissue with a corrected name."
        )
    validity = int(version.details.get("certificate", {}).get("validity_months", 0))
    expires_on = rules.expiry_date(completion.completed_at.date(), validity)
    serial = serials.new_serial()
    snapshot = build_snapshot(
        user, version, course, completion, claim.hours, printed_name, serial, settings, now, expires_on
    )
    cert = Certificate(
        serial=serial,
        claim_id=claim.id,
        user_id=user.id,
        course_id=course.id,
        version_no=claim.version_no,
        supersedes_id=supersedes.id if supersedes else None,
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issued_at=now,
        completed_on=completion.completed_at.date(),
        expires_on=expires_on,
        hours=claim.hours,
        credit_type=snapshot["credit_type"],
        issued_by_id=actor_id,
        snapshot=snapshot,
    )
    db.session.add(cert)
    return cert


def pending_claims(course_id: int | None = None) -> list[CertificateClaim]:
    stmt = (
        select(CertificateClaim)
        .outerjoin(ClaimDecline, ClaimDecline.claim_id == CertificateClaim.id)
        .outerjoin(Certificate, Certificate.claim_id == CertificateClaim.id)
        .where(ClaimDecline.id.is_(None), Certificate.id.is_(None))
        .order_by(CertificateClaim.id)
    )
    if course_id is not None:
        stmt = stmt.where(CertificateClaim.course_id == course_id)
    return list(db.session.scalars(stmt))


def issue_claim(
    claim: CertificateClaim, actor: User | None, settings: IssuerSettings, now: datetime
) -> Certificate:
    """Issue the certificate for a pending claim. Race-safe: a parallel issue of the same claim (or another
    claim for the same learner and version) hits the partial unique index and this call raises."""
    if claim_state(claim) != "pending":
        raise CertificateError("This claim is no longer pending.")
    user = db.session.get(User, claim.user_id)
    assert user is not None
    try:
        with db.session.begin_nested():
            cert = _new_certificate(
                claim, user, settings, now, actor.id if actor else None, claim.printed_name
            )
    except IntegrityError:
        raise CertificateError("A certificate for this learner and edition already exists.") from None
    audit(
        actor.id if actor else None,
        "certificate.issue",
        "certificate",
        cert.serial,
        f"claim {claim.id}" + ("" if actor else " (auto-issue)"),
        now,
    )
    _after_issue(cert, user, "issued")
    return cert


def _after_issue(cert: Certificate, user: User, verb: str) -> None:
    from lms.certificates import jobs as cert_jobs

    jobs.enqueue(cert_jobs.sign_certificate, certificate_id=cert.id)
    jobs.enqueue(
        cert_jobs.mail_learner,
        user_id=user.id,
        subject=f"Your certificate for {cert.snapshot['course_title']}",
        body=(
            f"Hello {user.full_name},\n\nYour certificate for {cert.snapshot['course_title']} (edition "
            f"{cert.snapshot['edition']}) has been {verb}.\n\nSerial: {cert.snapshot['serial']}\n"
            f"Anyone can verify it at {cert.snapshot['verify_url']}\n"
        ),
    )


@dataclass
class BulkResult:
    issued: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)


def issue_many(
    claim_ids: Iterable[int], actor: User | None, settings: IssuerSettings, now: datetime
) -> BulkResult:
    """Issue claims one transaction each (COMMITS per claim): one bad claim never blocks the others."""
    result = BulkResult()
    for claim_id in claim_ids:
        claim = db.session.get(CertificateClaim, claim_id)
        try:
            if claim is None:
                raise CertificateError("no such claim")
            issue_claim(claim, actor, settings, now)
            db.session.commit()
            result.issued += 1
        except CertificateError as exc:
            db.session.rollback()
            result.failed.append((claim_id, str(exc)))
    return result


def decline_claim(claim: CertificateClaim, actor: User, reason: str, now: datetime) -> None:
    reason = reason.strip()
    if not reason:
        raise CertificateError("Give a reason: the learner is told, and it is kept in the record.")
    if claim_state(claim) != "pending":
        raise CertificateError("This claim is no longer pending.")
    db.session.add(ClaimDecline(claim_id=claim.id, actor_id=actor.id, reason=reason, at=now))
    audit(actor.id, "claim.decline", "claim", claim.id, reason, now)
    user = db.session.get(User, claim.user_id)
    assert user is not None
    from lms.certificates import jobs as cert_jobs

    jobs.enqueue(
        cert_jobs.mail_learner,
        user_id=user.id,
        subject="Your certificate claim was declined",
        body=f"Hello {user.full_name},\n\nYour claim was declined for this reason:\n\n{reason}\n\n"
        "You may claim again from the course's certificate page.\n",
    )
    db.session.flush()


def get_certificate(serial: str) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.serial == serial))


def revoke(cert: Certificate, actor: User | None, reason: str, now: datetime) -> None:
    reason = reason.strip()
    if not reason:
        raise CertificateError("Give a reason: it is shown on the public verification page.")
    if db.session.scalar(
        select(CertificateRevocation.id).where(CertificateRevocation.certificate_id == cert.id)
    ):
        raise CertificateError("This certificate is already revoked.")
    try:
        with db.session.begin_nested():
            db.session.add(
                CertificateRevocation(
                    certificate_id=cert.id, actor_id=actor.id if actor else None, reason=reason, at=now
                )
            )
    except IntegrityError:
        raise CertificateError("This certificate is already revoked.") from None
    audit(actor.id if actor else None, "certificate.revoke", "certificate", cert.serial, reason, now)
    from lms.certificates import jobs as cert_jobs

    jobs.enqueue(
        cert_jobs.mail_learner,
        user_id=cert.user_id,
        subject=f"Your certificate {cert.snapshot['serial']} was revoked",
        body=f"Your certificate for {cert.snapshot['course_title']} was revoked for this reason:"
        f"\n\n{reason}\n",
    )


def reissue(
    cert: Certificate, actor: User, reason: str, printed_name: str, settings: IssuerSettings, now: datetime
) -> Certificate:
    """A new certificate superseding ``cert`` (e.g. a corrected name); the old one stays in the history."""
    reason = reason.strip()
    if not reason:
        raise CertificateError("Give a reason for the reissue.")
    if db.session.scalar(select(Certificate.id).where(Certificate.supersedes_id == cert.id)):
        raise CertificateError("This certificate has already been superseded: reissue the current one.")
    claim = db.session.get(CertificateClaim, cert.claim_id)
    user = db.session.get(User, cert.user_id)
    assert claim is not None and user is not None
    name = printed_name.strip() or cert.snapshot["holder_name"]
    try:
        with db.session.begin_nested():
            new = _new_certificate(claim, user, settings, now, actor.id, name, supersedes=cert)
    except IntegrityError:
        raise CertificateError("This certificate has already been superseded.") from None
    audit(
        actor.id, "certificate.reissue", "certificate", new.serial, f"supersedes {cert.serial}: {reason}", now
    )
    _after_issue(new, user, "reissued")
    return new


def request_reissue(cert: Certificate, user: User, name: str, note: str, now: datetime) -> ReissueRequest:
    name = name.strip()
    if not name:
        raise CertificateError("Give the name as it should be printed.")
    if problems := printable_name_problems(name):
        raise CertificateError(" ".join(problems))
    row = ReissueRequest(certificate_id=cert.id, requested_name=name, note=note.strip(), at=now)
    db.session.add(row)
    db.session.flush()
    audit(user.id, "certificate.reissue_request", "certificate", cert.serial, name, now)
    return row


def chain(cert: Certificate) -> list[Certificate]:
    """Every certificate of the same claim (its history), oldest first."""
    return list(
        db.session.scalars(
            select(Certificate).where(Certificate.claim_id == cert.claim_id).order_by(Certificate.id)
        )
    )


def revoked_credential_ids() -> list[str]:
    return list(
        db.session.scalars(
            select(Certificate.credential_id)
            .join(CertificateRevocation, CertificateRevocation.certificate_id == Certificate.id)
            .order_by(Certificate.id)
        )
    )


def stored_credential(cert: Certificate) -> SignedCredential | None:
    return db.session.scalar(select(SignedCredential).where(SignedCredential.certificate_id == cert.id))


# -- public verification ----------------------------------------------------------------------------


@dataclass
class Verification:
    certificate: Certificate
    state: str
    revocation: CertificateRevocation | None
    current_serial: str | None  # the certificate that superseded this one


def verify(serial: str, today: date) -> Verification | None:
    """What the public verification page shows, in at most three queries."""
    row = db.session.execute(
        select(Certificate, CertificateRevocation)
        .outerjoin(CertificateRevocation, CertificateRevocation.certificate_id == Certificate.id)
        .where(Certificate.serial == serial)
    ).first()
    if row is None:
        return None
    cert, revocation = row
    successor = db.session.scalar(select(Certificate.serial).where(Certificate.supersedes_id == cert.id))
    state = rules.certificate_state(revocation is not None, successor is not None, cert.expires_on, today)
    return Verification(cert, state, revocation, serials.display(successor) if successor else None)


# -- administration -----------------------------------------------------------------------------------


@dataclass
class QueueRow:
    claim: CertificateClaim
    user: User
    course: Course
    completion: CourseCompletion
    state: str
    certificate: Certificate | None
    decline: ClaimDecline | None
    flags: list[str]


def queue(course_id: int | None, state: str, limit: int = 500) -> list[QueueRow]:
    """Claims with their evidence (scores, dates, time, hours, flags), newest first, in one query."""
    stmt = (
        select(CertificateClaim, User, Course, CourseCompletion, Certificate, ClaimDecline)
        .join(User, User.id == CertificateClaim.user_id)
        .join(Course, Course.id == CertificateClaim.course_id)
        .join(CourseCompletion, CourseCompletion.id == CertificateClaim.completion_id)
        .outerjoin(
            Certificate,
            and_(Certificate.claim_id == CertificateClaim.id, Certificate.supersedes_id.is_(None)),
        )
        .outerjoin(ClaimDecline, ClaimDecline.claim_id == CertificateClaim.id)
        .order_by(CertificateClaim.id.desc())
        .limit(limit)
    )
    if course_id:
        stmt = stmt.where(CertificateClaim.course_id == course_id)
    if state == "pending":
        stmt = stmt.where(Certificate.id.is_(None), ClaimDecline.id.is_(None))
    elif state == "issued":
        stmt = stmt.where(Certificate.id.is_not(None))
    elif state == "declined":
        stmt = stmt.where(ClaimDecline.id.is_not(None))
    rows = []
    for claim, user, course, completion, cert, decline in db.session.execute(stmt):
        flags = []
        if claim.over_time:
            flags.append(f"claims {claim.hours:g} h; {completion.minutes_spent} min recorded")
        if claim.printed_name:
            flags.append(f'name as printed: "{claim.printed_name}"')
        status = "declined" if decline else "issued" if cert else "pending"
        rows.append(QueueRow(claim, user, course, completion, status, cert, decline, flags))
    return rows


def all_certificates(course_id: int | None = None, status: str = "") -> list[CertificateView]:
    stmt = select(Certificate).order_by(Certificate.id)
    if course_id:
        stmt = stmt.where(Certificate.course_id == course_id)
    views = certificate_views(list(db.session.scalars(stmt)), utcnow().date())
    return [v for v in views if not status or v.state == status]


def reissue_requests() -> list[tuple[ReissueRequest, Certificate]]:
    """Learners' name-correction requests, newest first (admins reissue from the certificate page)."""
    rows = db.session.execute(
        select(ReissueRequest, Certificate)
        .join(Certificate, Certificate.id == ReissueRequest.certificate_id)
        .order_by(ReissueRequest.id.desc())
        .limit(100)
    )
    return [(r, c) for r, c in rows]


CSV_COLUMNS = [
    "name",
    "profession",
    "licence_number",
    "course",
    "edition",
    "hours",
    "credit_type",
    "completion_date",
    "issued_on",
    "expires_on",
    "serial",
    "state",
    "email",
]


def certificates_csv(views: list[CertificateView], users: Mapping[int, User]) -> str:
    """Credit reporting CSV: UTF-8 with BOM, ISO 8601 dates, formula-safe cells (``lms.csvutil``)."""
    rows: list[list[object]] = [list(CSV_COLUMNS)]
    for v in views:
        s = v.certificate.snapshot
        user = users.get(v.certificate.user_id)
        rows.append(
            [
                s["holder_name"],
                s["profession"],
                s["licence_number"],
                s["course_title"],
                s["edition"],
                f"{v.certificate.hours:g}",
                s["credit_type"] or "Participation",
                s["completion_date"],
                s["issued_on"],
                s["expires_on"],
                s["serial"],
                v.state,
                user.email if user else "",
            ]
        )
    return csv_text(rows)


def users_by_id(ids: Iterable[int]) -> dict[int, User]:
    ids = list(set(ids))
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


IMPORT_COLUMNS = (
    "email",
    "course",
    "edition",
    "completion_date",
    "hours",
    "issued_on",
    "expires_on",
    "serial",
)


@dataclass
class ImportResult:
    imported: int = 0
    problems: list[str] = field(default_factory=list)


def import_csv(text: str, actor: User | None, settings: IssuerSettings, now: datetime) -> ImportResult:
    """Historical certificates from a previous LMS: all rows or none, every problem with its line."""
    result = ImportResult()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in IMPORT_COLUMNS[:6] if c not in (reader.fieldnames or [])]
    if missing:
        result.problems.append(f"line 1: missing column(s): {', '.join(missing)}")
        return result
    rows = []
    for line, row in enumerate(reader, 2):
        try:
            user = db.session.scalar(select(User).where(User.email == (row["email"] or "").strip().lower()))
            if user is None:
                raise ValueError(f'no account with email "{row["email"]}"')
            course = db.session.scalar(select(Course).where(Course.slug == (row["course"] or "").strip()))
            if course is None:
                raise ValueError(f'no course "{row["course"]}"')
            stored = db.session.scalar(
                select(CourseVersion)
                .where(CourseVersion.course_id == course.id, CourseVersion.edition == row["edition"].strip())
                .order_by(CourseVersion.number.desc())
            )
            # A historical edition never stored here prints from the current version's texts, number 0.
            version = stored or current_version(course)
            completed = date.fromisoformat(row["completion_date"].strip())
            issued = date.fromisoformat(row["issued_on"].strip())
            expires = (
                date.fromisoformat(row["expires_on"].strip())
                if (row.get("expires_on") or "").strip()
                else None
            )
            hours = float(row["hours"])
            if hours <= 0 or hours > 100:
                raise ValueError("hours must be more than 0 and at most 100")
            serial_text = (row.get("serial") or "").strip()
            serial = serials.parse(serial_text) if serial_text else None
            if serial is not None and not serial.valid:
                raise ValueError(f'serial "{serial_text}" is not a valid Helix serial (leave it empty)')
            rows.append(
                (user, course, version, completed, issued, expires, hours, serial, row["edition"].strip())
            )
        except (ValueError, KeyError, AttributeError) as exc:
            result.problems.append(f"line {line}: {exc}")
    if result.problems:
        return result
    for user, course, version, completed, issued, expires, hours, serial, edition in rows:
        version_no = version.number if version.edition == edition else 0
        completion = CourseCompletion(
            user_id=user.id,
            course_id=course.id,
            version_no=version_no,
            edition=edition or version.edition,
            completed_at=datetime.combine(completed, datetime.min.time()),
            final_score=None,
            minutes_spent=0,
            imported=True,
        )
        db.session.add(completion)
        db.session.flush()
        claim = CertificateClaim(
            completion_id=completion.id,
            user_id=user.id,
            course_id=course.id,
            version_no=version_no,
            hours=hours,
            attested_at=completion.completed_at,
            created_at=now,
            imported=True,
        )
        db.session.add(claim)
        db.session.flush()
        code = serial.canonical if serial else serials.new_serial()
        issued_at = datetime.combine(issued, datetime.min.time())
        snapshot = build_snapshot(
            user, version, course, completion, hours, "", code, settings, issued_at, expires
        )
        snapshot["edition"] = completion.edition
        snapshot["imported"] = True
        cert = Certificate(
            serial=code,
            claim_id=claim.id,
            user_id=user.id,
            course_id=course.id,
            version_no=version_no,
            credential_id=f"urn:uuid:{uuid.uuid4()}",
            issued_at=issued_at,
            completed_on=completed,
            expires_on=expires,
            hours=hours,
            credit_type=snapshot["credit_type"],
            issued_by_id=actor.id if actor else None,
            imported=True,
            snapshot=snapshot,
        )
        try:
            with db.session.begin_nested():
                db.session.add(cert)
        except IntegrityError:
            result.problems.append(
                f"{user.email}, {course.slug} edition {edition}: already has a certificate"
            )
            continue
        audit(
            actor.id if actor else None,
            "certificate.import",
            "certificate",
            code,
            f"{user.email} {course.slug}",
            now,
        )
        result.imported += 1
    return result


def send_reminders(today: date, now: datetime) -> int:
    """Mail expiry reminders at 60 and 14 days, once per certificate per threshold; returns mails queued."""
    from lms.certificates import jobs as cert_jobs

    certs = list(
        db.session.scalars(
            select(Certificate).where(Certificate.expires_on.is_not(None), Certificate.expires_on > today)
        )
    )
    views = certificate_views(certs, today)
    sent: dict[int, set[int]] = {}
    for certificate_id, days in db.session.execute(
        select(ExpiryReminder.certificate_id, ExpiryReminder.days)
    ):
        sent.setdefault(certificate_id, set()).add(days)
    queued = 0
    for view in views:
        if view.state not in ("valid", "expiring soon"):
            continue
        cert = view.certificate
        due = rules.reminders_due(cert.expires_on, today, sent.get(cert.id, set()))
        if not due:
            continue
        for days in due:
            db.session.add(ExpiryReminder(certificate_id=cert.id, days=days, sent_on=today))
        jobs.enqueue(
            cert_jobs.mail_learner,
            user_id=cert.user_id,
            subject=f"Your certificate for {cert.snapshot['course_title']} expires on "
            f"{cert.expires_on:%d %b %Y}",
            body=f"Your certificate {cert.snapshot['serial']} expires on {cert.expires_on:%d %b %Y}. "
            "Complete the current edition of the course to renew it.\n",
        )
        queued += 1
    db.session.flush()
    return queued


# -- transcript ---------------------------------------------------------------------------------------


@dataclass
class Transcript:
    rows: list[CertificateView]
    by_type: dict[str, float]
    by_year: dict[str, float]
    range_from: date | None
    range_to: date | None
    range_hours: float


def transcript(user: User, today: date, start: date | None = None, end: date | None = None) -> Transcript:
    views = certificate_views(
        list(
            db.session.scalars(
                select(Certificate).where(Certificate.user_id == user.id).order_by(Certificate.completed_on)
            )
        ),
        today,
    )
    counted = [v for v in views if v.state in ("valid", "expiring soon", "expired")]
    by_type: dict[str, float] = {}
    by_year: dict[str, float] = {}
    in_range = 0.0
    for v in counted:
        c = v.certificate
        kind = c.credit_type or "Participation hours"
        by_type[kind] = by_type.get(kind, 0.0) + c.hours
        by_year[str(c.completed_on.year)] = by_year.get(str(c.completed_on.year), 0.0) + c.hours
        if (start is None or c.completed_on >= start) and (end is None or c.completed_on <= end):
            in_range += c.hours
    return Transcript(views, by_type, dict(sorted(by_year.items())), start, end, in_range)

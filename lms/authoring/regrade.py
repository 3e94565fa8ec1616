"""Regrading after a published key is corrected: a dry run first, then an audited apply.

The corrected questions are those of the course's current version; every submitted attempt (previews are
never stored) on any version of the quiz is graded again where its question (matched by key) changed. Applying
rewrites the attempts' marks, writes one audit event, and *flags* the completions and certificates whose
outcome would change for an administrator: completion and certificate rows are append-only and are never
altered here.

Flags are append-only too: an administrator resolves one by writing a ``RegradeFlagResolution`` (outcome,
required note, who, when; audited). Revoking or reissuing a certificate stays in lms/certificates: a
"revoked" or "reissued" resolution is accepted only once the certificate's own flow has done it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from lms.auth.models import User
from lms.auth.services import audit
from lms.authoring.models import RegradeFlag, RegradeFlagResolution
from lms.catalog.models import Course, CourseVersion
from lms.certificates.models import Certificate, CertificateClaim, CertificateRevocation, CourseCompletion
from lms.extensions import db
from lms.plugins import QuestionTypeRegistry, UnknownQuestionType
from lms.qtypes.base import Grade
from lms.quizzes import grading
from lms.quizzes.models import Attempt, AttemptAnswer, Question, Quiz


@dataclass(frozen=True)
class AttemptChange:
    attempt_id: int
    user_id: int
    learner: str
    version_no: int
    number: int
    old_score: float | None
    new_score: float
    old_passed: bool | None
    new_passed: bool


@dataclass(frozen=True)
class Outcome:
    user_id: int
    learner: str
    version_no: int
    was: bool
    now: bool
    old_score: float | None
    new_score: float | None


@dataclass
class RegradePlan:
    quiz_key: str
    attempts: list[AttemptChange] = field(default_factory=list)
    #: where the quiz outcome flips: who, on which version, passed and final grade before and after
    outcomes: list[Outcome] = field(default_factory=list)
    completions: list[CourseCompletion] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)
    #: answer id → new grade, for apply
    grades: dict[int, tuple[Grade, float]] = field(default_factory=dict)


def quiz_keys(course: Course) -> list[str]:
    return list(
        db.session.scalars(
            select(Quiz.key)
            .join(CourseVersion, CourseVersion.id == Quiz.version_id)
            .where(CourseVersion.course_id == course.id, CourseVersion.number == course.current_version_no)
            .where(Quiz.kind != "survey")
            .order_by(Quiz.key)
        )
    )


def plan(course: Course, quiz_key: str, registry: QuestionTypeRegistry) -> RegradePlan:
    """The dry run: which attempts, quiz outcomes, completions and certificates would change."""
    out = RegradePlan(quiz_key)
    corrected = {
        q.key: q
        for q in db.session.scalars(
            select(Question)
            .join(Quiz, Quiz.id == Question.quiz_id)
            .join(CourseVersion, CourseVersion.id == Quiz.version_id)
            .where(CourseVersion.course_id == course.id, CourseVersion.number == course.current_version_no)
            .where(Quiz.key == quiz_key)
        )
    }
    rows = db.session.execute(
        select(Attempt, Quiz.settings, CourseVersion.number, User.full_name)
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .join(CourseVersion, CourseVersion.id == Quiz.version_id)
        .join(User, User.id == Attempt.user_id)
        .where(Attempt.course_id == course.id, Attempt.quiz_key == quiz_key, Attempt.status == "submitted")
        .order_by(Attempt.user_id, Attempt.number)
    ).all()
    answers: dict[int, list[tuple[AttemptAnswer, Question]]] = defaultdict(list)
    for answer, question in db.session.execute(
        select(AttemptAnswer, Question)
        .join(Question, Question.id == AttemptAnswer.question_id)
        .where(AttemptAnswer.attempt_id.in_([a.id for a, *_ in rows] or [0]))
        .order_by(AttemptAnswer.attempt_id, AttemptAnswer.position)
    ):
        answers[answer.attempt_id].append((answer, question))
    per_learner: dict[tuple[int, int], list[tuple[Attempt, float, bool]]] = defaultdict(list)
    meta: dict[tuple[int, int], tuple[str, int, dict[str, Any]]] = {}
    for attempt, settings, version_no, name in rows:
        graded = []
        for answer, question in answers[attempt.id]:
            fixed = corrected.get(question.key)
            if fixed is not None and (fixed.spec != question.spec or fixed.type != question.type):
                try:
                    grade = registry.get(fixed.type).grade(fixed.spec, answer.response)
                except UnknownQuestionType as exc:
                    grade = Grade(0.0, False, (str(exc),))
                out.grades[answer.id] = (grade, fixed.points)
                graded.append((grade, fixed.points))
            else:
                graded.append((Grade(answer.score or 0.0, answer.correct, ()), question.points))
        result = grading.score_attempt(graded)
        passed = grading.passes(result.score, settings["pass_mark"])
        if attempt.score is None or abs(result.score - attempt.score) > 1e-9 or passed != attempt.passed:
            out.attempts.append(
                AttemptChange(
                    attempt.id, attempt.user_id, name, version_no, attempt.number,
                    attempt.score, result.score, attempt.passed, passed,
                )
            )  # fmt: skip
        per_learner[(attempt.user_id, attempt.quiz_id)].append((attempt, result.score, passed))
        meta[(attempt.user_id, attempt.quiz_id)] = (name, version_no, settings)
    for key, tries in per_learner.items():
        name, version_no, settings = meta[key]
        method = settings.get("grading_method", "highest")
        before = grading.final_score(method, [a.score or 0.0 for a, _s, _p in tries])
        after = grading.final_score(method, [s for _a, s, _p in tries])
        was = before is not None and grading.passes(before, settings["pass_mark"])
        now_passes = after is not None and grading.passes(after, settings["pass_mark"])
        if was != now_passes:
            out.outcomes.append(Outcome(key[0], name, version_no, was, now_passes, before, after))
    for user_id, version_no in dict.fromkeys((o.user_id, o.version_no) for o in out.outcomes):
        out.completions += db.session.scalars(
            select(CourseCompletion).where(
                CourseCompletion.user_id == user_id,
                CourseCompletion.course_id == course.id,
                CourseCompletion.version_no == version_no,
            )
        ).all()
    completion_ids = [c.id for c in out.completions]
    if completion_ids:
        out.certificates = list(
            db.session.scalars(
                select(Certificate)
                .join(CertificateClaim, CertificateClaim.id == Certificate.claim_id)
                .where(CertificateClaim.completion_id.in_(completion_ids))
            )
        )
    return out


def apply(
    course: Course, quiz_key: str, registry: QuestionTypeRegistry, actor: User, reason: str, now: datetime
) -> RegradePlan:
    """Regrade for real (flush only): new marks on the attempts, one audit event, flags for admins."""
    reason = reason.strip()
    if not reason:
        raise ValueError("give the reason for the regrade (it goes into the audit trail)")
    result = plan(course, quiz_key, registry)
    changed = {c.attempt_id: c for c in result.attempts}
    for answer in db.session.scalars(
        select(AttemptAnswer).where(AttemptAnswer.id.in_(list(result.grades) or [0]))
    ):
        grade, _points = result.grades[answer.id]
        answer.score = grade.score if grade.correct is not None else None
        answer.correct = grade.correct
        answer.feedback = list(grade.feedback)
    for attempt in db.session.scalars(select(Attempt).where(Attempt.id.in_(list(changed) or [0]))):
        change = changed[attempt.id]
        attempt.score = change.new_score
        attempt.passed = change.new_passed
        if attempt.max_points:
            attempt.points = change.new_score * attempt.max_points
    flags = []
    by_learner = {(o.user_id, o.version_no): o for o in result.outcomes}
    for o in result.outcomes:
        detail = f"{quiz_key} v{o.version_no}: {'passed' if o.was else 'not passed'} → "
        detail += f"{'passed' if o.now else 'not passed'} after regrade ({reason})"
        flags.append(RegradeFlag(user_id=o.user_id, kind="pass", detail=detail, **_change(o)))
    for completion in result.completions:
        flags.append(
            RegradeFlag(
                user_id=completion.user_id, kind="completion", completion_id=completion.id,
                detail=f"completion of v{completion.version_no} may no longer hold",
                **_change(by_learner.get((completion.user_id, completion.version_no))),
            )
        )  # fmt: skip
    for cert in result.certificates:
        flags.append(
            RegradeFlag(
                user_id=cert.user_id, kind="certificate", certificate_id=cert.id,
                detail=f"certificate {cert.serial} rests on a changed quiz outcome",
                **_change(by_learner.get((cert.user_id, cert.version_no))),
            )
        )  # fmt: skip
    for flag in flags:
        flag.course_id = course.id
        flag.quiz_key = quiz_key
        flag.created_at = now
        flag.created_by_id = actor.id
    db.session.add_all(flags)
    audit(
        actor,
        "quiz.regrade",
        "course",
        course.id,
        f"{course.slug} {quiz_key}: {len(result.attempts)} attempt(s) regraded, "
        f"{len(result.outcomes)} outcome(s) changed, {len(result.completions)} completion(s) and "
        f"{len(result.certificates)} certificate(s) flagged: {reason}",
    )
    db.session.flush()
    return result


def _change(outcome: Outcome | None) -> dict[str, Any]:
    """The grade before and after, copied onto each flag the outcome raised (none when unknown)."""
    if outcome is None:
        return {}
    return {
        "old_score": outcome.old_score,
        "new_score": outcome.new_score,
        "old_passed": outcome.was,
        "new_passed": outcome.now,
    }


# -- administrators resolve the flags --------------------------------------------------------------------

#: outcome key → label, and the flag kinds it fits
OUTCOMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "no_action": ("No action needed", ("pass", "completion", "certificate")),
    "learner_contacted": ("Learner contacted", ("pass", "completion", "certificate")),
    "completion_stands": ("Completion stands", ("completion",)),
    "certificate_stands": ("Certificate stands", ("certificate",)),
    "certificate_revoked": ("Certificate revoked", ("certificate",)),
    "certificate_reissued": ("Certificate reissued", ("certificate",)),
}
FLAG_STATES = ("open", "resolved", "all")


class FlagError(Exception):
    """A flag cannot be resolved as asked (no note, an outcome that does not fit, already resolved…)."""

    def __init__(self, message: str, field: str = "outcome") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class FlagRow:
    """One flag with everything the review page shows, loaded in one query."""

    flag: RegradeFlag
    course: Course
    learner: User
    applied_by: str
    certificate: Certificate | None
    certificate_state: str  # "" | valid | revoked | superseded
    completion: CourseCompletion | None
    resolution: RegradeFlagResolution | None
    resolved_by: str

    def outcomes(self) -> list[tuple[str, str]]:
        return [(key, label) for key, (label, kinds) in OUTCOMES.items() if self.flag.kind in kinds]


def flag_rows(
    course_id: int | None = None, state: str = "open", limit: int = 500, flag_id: int | None = None
) -> list[FlagRow]:
    """Flags (open, resolved or all), newest first, for one course or flag or all: one query whatever the
    count, with the course, learner, certificate state, completion and resolution of each."""
    applier = aliased(User)
    resolver = aliased(User)
    successor = aliased(Certificate)
    revoked = select(CertificateRevocation.id).where(CertificateRevocation.certificate_id == Certificate.id)
    superseded = select(successor.id).where(successor.supersedes_id == Certificate.id)
    columns = (
        RegradeFlag, Course, User, applier.full_name, Certificate, revoked.exists(), superseded.exists(),
        CourseCompletion, RegradeFlagResolution, resolver.full_name,
    )  # fmt: skip
    stmt = (
        select(*columns)
        .join(Course, Course.id == RegradeFlag.course_id)
        .join(User, User.id == RegradeFlag.user_id)
        .outerjoin(applier, applier.id == RegradeFlag.created_by_id)
        .outerjoin(Certificate, Certificate.id == RegradeFlag.certificate_id)
        .outerjoin(CourseCompletion, CourseCompletion.id == RegradeFlag.completion_id)
        .outerjoin(RegradeFlagResolution, RegradeFlagResolution.flag_id == RegradeFlag.id)
        .outerjoin(resolver, resolver.id == RegradeFlagResolution.resolved_by_id)
        .order_by(RegradeFlag.id.desc())
        .limit(limit)
    )
    if course_id is not None:
        stmt = stmt.where(RegradeFlag.course_id == course_id)
    if flag_id is not None:
        stmt = stmt.where(RegradeFlag.id == flag_id)
    if state == "open":
        stmt = stmt.where(RegradeFlagResolution.id.is_(None))
    elif state == "resolved":
        stmt = stmt.where(RegradeFlagResolution.id.is_not(None))
    rows = []
    for row in db.session.execute(stmt):
        flag, course, learner, by, cert, is_revoked, is_superseded, completion, resolution, res_by = row
        cert_state = (
            "" if cert is None else "revoked" if is_revoked else "superseded" if is_superseded else "valid"
        )
        rows.append(
            FlagRow(flag, course, learner, by or "", cert, cert_state, completion, resolution, res_by or "")
        )
    return rows


def open_flag_count(course_id: int | None = None) -> int:
    """How many flags wait for an administrator (one query)."""
    stmt = (
        select(func.count(RegradeFlag.id))
        .outerjoin(RegradeFlagResolution, RegradeFlagResolution.flag_id == RegradeFlag.id)
        .where(RegradeFlagResolution.id.is_(None))
    )
    if course_id is not None:
        stmt = stmt.where(RegradeFlag.course_id == course_id)
    return int(db.session.scalar(stmt) or 0)


def flag_states(course_id: int) -> dict[str, int]:
    """For the course's regrade page: open and resolved flag counts (educators see them read-only)."""
    resolved = func.count(RegradeFlagResolution.id)
    total, done = db.session.execute(
        select(func.count(RegradeFlag.id), resolved)
        .outerjoin(RegradeFlagResolution, RegradeFlagResolution.flag_id == RegradeFlag.id)
        .where(RegradeFlag.course_id == course_id)
    ).one()
    return {"open": int(total or 0) - int(done or 0), "resolved": int(done or 0)}


def resolve_flag(flag_id: int, outcome: str, note: str, actor: User, now: datetime) -> RegradeFlagResolution:
    """Record an administrator's decision on one flag (flush only), audited; the flag itself never changes.

    "Certificate revoked" and "certificate reissued" describe what the certificate's own pages did: they are
    accepted only when the certificate is in fact revoked or superseded by a reissue.
    """
    note = (note or "").strip()
    if not note:
        raise FlagError("Write a note: what was decided and why (it goes into the audit trail).", "note")
    row = next((r for r in flag_rows(state="all", limit=1, flag_id=flag_id)), None)
    if row is None:
        raise LookupError(flag_id)
    if row.resolution is not None:
        raise FlagError(f"This flag was already resolved by {row.resolved_by or 'an administrator'}.")
    if outcome not in dict(row.outcomes()):
        raise FlagError("Choose one of the outcomes offered for this flag.")
    if outcome == "certificate_revoked" and row.certificate_state != "revoked":
        raise FlagError("Revoke the certificate on its page first, then record the resolution here.")
    if outcome == "certificate_reissued" and row.certificate_state != "superseded":
        raise FlagError("Reissue the certificate on its page first, then record the resolution here.")
    resolution = RegradeFlagResolution(
        flag_id=flag_id, outcome=outcome, note=note, resolved_by_id=actor.id, resolved_at=now
    )
    db.session.add(resolution)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # resolved by someone else a moment ago (one resolution per flag)
        raise FlagError("This flag was resolved by someone else meanwhile.") from None
    audit(
        actor,
        "regrade_flag.resolve",
        "user",
        row.learner.id,
        f"{row.course.slug} {row.flag.quiz_key} {row.flag.kind} flag {flag_id}: "
        f"{OUTCOMES[outcome][0]}: {note}",
    )
    db.session.flush()
    return resolution


def extend_time(
    learner: User, course: Course, quiz_key: str, minutes: int, reason: str, actor: User, now: datetime
) -> Any:
    """Extra minutes on a timed quiz for one learner, with the reason, audited (flush only)."""
    from lms.quizzes.models import TimeExtension

    reason = reason.strip()
    if not reason:
        raise ValueError("give the reason (it goes into the audit trail)")
    if not 1 <= minutes <= 600:
        raise ValueError("between 1 and 600 minutes")
    if quiz_key not in quiz_keys(course):
        raise ValueError(f"{course.slug} has no quiz {quiz_key!r} in its current version")
    row = TimeExtension(
        user_id=learner.id,
        course_id=course.id,
        quiz_key=quiz_key,
        minutes=minutes,
        granted_by_id=actor.id,
        reason=reason,
        granted_at=now,
    )
    db.session.add(row)
    audit(
        actor,
        "attempt.extend_time",
        "user",
        learner.id,
        f"{course.slug} {quiz_key}: +{minutes} min: {reason}",
    )
    db.session.flush()
    return row

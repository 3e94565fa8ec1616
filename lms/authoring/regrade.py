"""Regrading after a published key is corrected: a dry run first, then an audited apply.

The corrected questions are those of the course's current version; every submitted attempt (previews
excluded) on any version of the quiz is graded again where its question (matched by key) changed. Applying
rewrites the attempts' marks, writes one audit event, and *flags* the completions and certificates whose
outcome would change for an administrator: completion and certificate rows are append-only and are never
altered here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from lms.auth.models import User
from lms.auth.services import audit
from lms.authoring.models import RegradeFlag
from lms.catalog.models import Course, CourseVersion
from lms.certificates.models import Certificate, CertificateClaim, CourseCompletion
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


@dataclass
class RegradePlan:
    quiz_key: str
    attempts: list[AttemptChange] = field(default_factory=list)
    #: (user_id, learner, version_no, passed before, passed after) where the quiz outcome flips
    outcomes: list[tuple[int, str, int, bool, bool]] = field(default_factory=list)
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
        .where(or_(Attempt.preview.is_(None), Attempt.preview.is_(False)))
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
            out.outcomes.append((key[0], name, version_no, was, now_passes))
    for user_id, _name, version_no, _was, _now in out.outcomes:
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
    for user_id, _name, version_no, was, now_passes in result.outcomes:
        detail = f"{quiz_key} v{version_no}: {'passed' if was else 'not passed'} → "
        detail += f"{'passed' if now_passes else 'not passed'} after regrade ({reason})"
        flags.append(
            RegradeFlag(course_id=course.id, user_id=user_id, quiz_key=quiz_key, kind="pass", detail=detail)
        )
    for completion in result.completions:
        flags.append(
            RegradeFlag(
                course_id=course.id, user_id=completion.user_id, quiz_key=quiz_key, kind="completion",
                completion_id=completion.id,
                detail=f"completion of v{completion.version_no} may no longer hold",
            )
        )  # fmt: skip
    for cert in result.certificates:
        flags.append(
            RegradeFlag(
                course_id=course.id, user_id=cert.user_id, quiz_key=quiz_key, kind="certificate",
                certificate_id=cert.id, detail=f"certificate {cert.serial} rests on a changed quiz outcome",
            )
        )  # fmt: skip
    for flag in flags:
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


def open_flags() -> list[tuple[RegradeFlag, str, str]]:
    """Unresolved flags with the course slug and learner's name, newest first (for admins)."""
    rows = db.session.execute(
        select(RegradeFlag, Course.slug, User.full_name)
        .join(Course, Course.id == RegradeFlag.course_id)
        .join(User, User.id == RegradeFlag.user_id)
        .where(RegradeFlag.resolved_at.is_(None))
        .order_by(RegradeFlag.id.desc())
    )
    return [(f, slug, name) for f, slug, name in rows]


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

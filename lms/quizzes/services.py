"""Quiz rules that touch the database: starting, saving, submitting and reviewing attempts.

Services never read the request: routes pass the submitted values in. They only flush; routes commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from lms.auth.services import audit
from lms.catalog.models import Course, CourseVersion, Enrolment, Item
from lms.catalog.services import is_current_version, policy_of, progress_records, syllabus_rows
from lms.coursepacks.manifest import VIGNETTE
from lms.extensions import db
from lms.learning.progress import Record, SyllabusItem, blocking_items, edition_done, gated_keys
from lms.learning.services import record_completion
from lms.plugins import QuestionTypeRegistry, UnknownQuestionType
from lms.qtypes.base import Grade, is_blank
from lms.quizzes import grading
from lms.quizzes.models import Attempt, AttemptAnswer, AttemptGrant, Question, Quiz, TimeExtension
from lms.quizzes.window import Window, capped_deadline, closed_reason, quiz_window
from lms.timeutil import utcnow


class QuizError(Exception):
    """A rule stops the action (attempt limit, cooldown, missing plugin…); the message is for the learner."""


@dataclass
class QuizOverview:
    quiz: Quiz
    item: Item
    attempts: list[Attempt]
    in_progress: Attempt | None
    check: grading.StartCheck
    final: float | None
    passed: bool
    missing_types: list[str]
    question_count: int
    #: required items still to do before this (gated) quiz opens, in syllabus order
    blocking: list[SyllabusItem] = field(default_factory=list)
    #: when the quiz opens and closes (naive UTC; unbounded when the quiz sets neither)
    window: Window = field(default_factory=Window)


def current_quiz(course: Course, key: str) -> tuple[Quiz, Item, CourseVersion] | None:
    row = db.session.execute(
        select(Quiz, Item, CourseVersion)
        .join(Item, Item.id == Quiz.item_id)
        .join(CourseVersion, CourseVersion.id == Quiz.version_id)
        .where(is_current_version(course), Quiz.key == key)
    ).first()
    return (row[0], row[1], row[2]) if row else None


def published_quiz(course: Course, key: str) -> tuple[Quiz, Item, CourseVersion] | None:
    """``current_quiz`` for the learner's start page and start button, read once per process.

    A synced version's quizzes never change (a changed package is a new version), so the quiz row is kept
    beside the version's content (lms.catalog.content) and shared read-only, detached from any session: no
    query once cached. An unknown key costs nothing either (the cached syllabus says so) and is not kept.
    """
    from lms.catalog.content import cached, version_content

    content = version_content(course)
    item = content.item(key)
    if item is None or item.kind == "lesson":
        return None
    version = content.version

    def load() -> Quiz | None:
        quiz = db.session.scalar(select(Quiz).where(Quiz.item_id == item.id))
        if quiz is not None and quiz in db.session:
            db.session.expunge(quiz)
        return quiz

    quiz = cached(("quiz", version.id, version.checksum, item.id), load)
    return (quiz, item, version) if quiz is not None else None


def user_attempts(user_id: int, course_id: int, quiz_key: str) -> list[Attempt]:
    return list(
        db.session.scalars(
            select(Attempt)
            .where(Attempt.user_id == user_id, Attempt.course_id == course_id, Attempt.quiz_key == quiz_key)
            .order_by(Attempt.number)
        )
    )


def gate_blockers(
    user_id: int, course: Course, quiz: Quiz, records: Mapping[str, Record] | None = None
) -> list[SyllabusItem]:
    """What the learner must still do on this edition before ``quiz`` opens (empty when it is not gated).

    Costs nothing for an ungated quiz. For the final or evaluation of the current edition the syllabus
    comes from the content cache and the progress from ``records`` when the caller read them already (the
    learner pages do, with the course row): no query then, else one; two for an earlier edition's quiz.
    """
    from lms.catalog.content import version_content

    content = version_content(course) if course.current_version_no > 0 else None
    if content is not None and content.version.id != quiz.version_id:
        content = None  # an earlier edition's quiz: read that edition
    version = content.version if content is not None else db.session.get(CourseVersion, quiz.version_id)
    assert version is not None
    policy = content.policy if content is not None else policy_of(version)
    if quiz.key not in gated_keys(policy):
        return []
    if content is not None:
        syllabus = content.syllabus
    else:
        rows = syllabus_rows(version.id)
        syllabus = [SyllabusItem(i.key, i.kind, i.title, "", i.content_hash) for i in rows]
    if records is None:
        records = progress_records(user_id, course.id)
    done = edition_done(syllabus, records, version.number, policy)
    return blocking_items(syllabus, done, policy, quiz.key)


def gate_message(blocking: list[SyllabusItem]) -> str:
    """The learner-facing reason a gated quiz cannot start yet."""
    names = ", ".join(f"“{i.title or i.key}”" for i in blocking[:5])
    more = f" and {len(blocking) - 5} more" if len(blocking) > 5 else ""
    return (
        f"This opens once every other required part of the course is done on this edition. Still to do: "
        f"{names}{more}."
    )


def grant_times(user_id: int, quiz: Quiz) -> list[datetime]:
    """When an admin granted this learner an extra attempt on this edition's quiz."""
    return list(
        db.session.scalars(
            select(AttemptGrant.granted_at).where(
                AttemptGrant.user_id == user_id, AttemptGrant.quiz_id == quiz.id
            )
        )
    )


def overview(
    user_id: int,
    course: Course,
    quiz: Quiz,
    item: Item,
    registry: QuestionTypeRegistry,
    now: datetime | None = None,
    zone: tzinfo = UTC,
    records: Mapping[str, Record] | None = None,
) -> QuizOverview:
    """What the quiz's start page shows; ``zone`` is the site's time zone (quiz dates without an offset).

    ``records`` are the learner's progress records when the caller has them (for a gated quiz's check).
    The questions come from the per-process cache, so the page reads only the learner's attempts (and
    extra-attempt grants on a graded quiz).
    """
    now = now or utcnow()
    attempts = user_attempts(user_id, course.id, quiz.key)
    # Limits, cooldowns and the grade count per edition: only this version's quiz's attempts.
    submitted = [a for a in attempts if a.submitted and a.quiz_id == quiz.id]
    in_progress = next((a for a in attempts if a.is_open), None)
    settings = quiz.settings
    final = (
        grading.final_score(settings["grading_method"], [a.score or 0.0 for a in submitted])
        if quiz.graded
        else None
    )
    passed = (
        final is not None and grading.passes(final, settings["pass_mark"]) if quiz.graded else bool(submitted)
    )
    questions = quiz_questions(quiz)
    types = {q.type for q in questions.values()}
    count = len(questions)
    if settings.get("draw"):
        count = min(count, settings["draw"])
    check = grading.can_start(
        settings,
        [a.submitted_at for a in submitted if a.submitted_at],
        now,
        passed=passed,
        grants=grant_times(user_id, quiz) if quiz.graded else (),
    )
    if not quiz.graded and submitted:
        check = grading.StartCheck(False, "You have already submitted this evaluation. Thank you.", None, 0)
    blocking = gate_blockers(user_id, course, quiz, records) if in_progress is None else []
    if blocking and check.allowed:
        check = grading.StartCheck(False, gate_message(blocking), None, check.attempts_left)
    bounds = quiz_window(settings, zone)
    if check.allowed and (closed := closed_reason(bounds, now, zone)):
        opens_later = bounds.opens if bounds.opens and now < bounds.opens else None
        check = grading.StartCheck(False, closed, opens_later, check.attempts_left)
    return QuizOverview(
        quiz,
        item,
        attempts,
        in_progress,
        check,
        final,
        passed,
        sorted(t for t in types if t not in registry),
        count,
        blocking,
        bounds,
    )


def extra_minutes(user_id: int, course_id: int, quiz_key: str) -> int:
    """Minutes added to a timed quiz's limit for this learner (accommodations); one query."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(TimeExtension.minutes), 0)).where(
            TimeExtension.user_id == user_id,
            TimeExtension.course_id == course_id,
            TimeExtension.quiz_key == quiz_key,
        )
    )
    return int(total or 0)


def start_attempt(
    user_id: int,
    course: Course,
    quiz: Quiz,
    registry: QuestionTypeRegistry,
    now: datetime | None = None,
    seed: int | None = None,
    zone: tzinfo = UTC,
    records: Mapping[str, Record] | None = None,
) -> Attempt:
    """Start (or resume) the learner's attempt. Raises QuizError when the rules forbid a new one.

    Outside the quiz's open/close window nothing starts; inside it, the deadline is capped at the closing
    time, so the time-limit path submits the attempt when the quiz closes. ``records`` as for ``overview``.
    """
    now = now or utcnow()
    attempts = user_attempts(user_id, course.id, quiz.key)
    open_attempt = next((a for a in attempts if a.is_open), None)
    if open_attempt is not None:
        return open_attempt
    questions = sorted(quiz_questions(quiz).values(), key=lambda q: q.position)
    missing = sorted({q.type for q in questions if q.type not in registry})
    if missing:
        raise QuizError(
            f"This quiz uses a question type that is not installed on this site ({', '.join(missing)}). "
            "Please tell the course team; nothing has been recorded."
        )
    submitted = [a.submitted_at for a in attempts if a.submitted and a.submitted_at and a.quiz_id == quiz.id]
    if not quiz.graded and submitted:
        raise QuizError("You have already submitted this evaluation.")
    bounds = quiz_window(quiz.settings, zone)
    if closed := closed_reason(bounds, now, zone):
        raise QuizError(closed)
    blocking = gate_blockers(user_id, course, quiz, records)
    if blocking:
        raise QuizError(gate_message(blocking))
    passed = quiz.graded and any(a.passed for a in attempts if a.submitted and a.quiz_id == quiz.id)
    grants = grant_times(user_id, quiz) if quiz.graded else ()
    check = grading.can_start(quiz.settings, submitted, now, passed=passed, grants=grants)
    if not check.allowed:
        raise QuizError(check.reason)
    seed = seed if seed is not None else secrets.randbits(62)
    settings = quiz.settings
    order = grading.draw_questions(
        [q.key for q in questions],
        seed,
        draw=settings.get("draw", 0),
        shuffle=settings.get("shuffle_questions", False),
        tagged={q.key for q in questions if VIGNETTE in (q.spec.get("tags") or [])},
    )
    by_key = {q.key: q for q in questions}
    limit = settings.get("time_limit_minutes", 0)
    if limit:
        limit += extra_minutes(user_id, course.id, quiz.key)
    attempt = Attempt(
        user_id=user_id,
        course_id=course.id,
        quiz_id=quiz.id,
        quiz_key=quiz.key,
        number=(max((a.number for a in attempts), default=0) + 1),
        seed=seed,
        started_at=now,
        deadline_at=capped_deadline(now + timedelta(minutes=limit) if limit else None, bounds),
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:
        # A parallel request created this attempt number first: resume that attempt instead.
        raced = next((a for a in user_attempts(user_id, course.id, quiz.key) if a.is_open), None)
        if raced is None:
            raise QuizError("Another attempt was started at the same moment. Please try again.") from None
        return raced
    # One set-based insert whatever the number of questions (the start spike: everyone in the same minute).
    rows = [
        {
            "attempt_id": attempt.id,
            "question_id": by_key[key].id,
            "position": i,
            "question_hash": by_key[key].content_hash,
        }
        for i, key in enumerate(order, 1)
    ]
    if rows:
        db.session.execute(insert(AttemptAnswer), rows)
    return attempt


def freeze_open_attempts(user_id: int, course_id: int, now: datetime) -> int:
    """Close the learner's open attempts in a course they left: nothing more is saved or graded in them.

    They do not count as used attempts; after enrolling again the learner starts a fresh one.
    """
    result = db.session.execute(
        update(Attempt)
        .where(Attempt.user_id == user_id, Attempt.course_id == course_id, Attempt.status == "in_progress")
        .values(status="frozen")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def on_course_left(course: Any, *, user_id: int, now: datetime, **_: Any) -> None:
    """Receiver of ``lms.signals.course_left`` (connected at start-up)."""
    freeze_open_attempts(user_id, course.id, now)


@dataclass
class AttemptContext:
    """An attempt with its quiz, its answers (questions attached), its course and the learner's enrolment."""

    attempt: Attempt
    course: Course
    enrolment: Enrolment | None
    answers: list[AttemptAnswer]
    #: the earlier submitted attempts on this quiz (loaded for submission only)
    prior: grading.PriorScores | None = None


def quiz_questions(quiz: Quiz) -> dict[int, Question]:
    """The quiz's questions by id. Questions of a synced version never change, so they are read once per
    process (lms.catalog.content) and shared read-only, detached from any session."""
    from lms.catalog.content import cached

    def load() -> dict[int, Question]:
        questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.quiz_id == quiz.id))}
        for q in questions.values():
            db.session.expunge(q)
        return questions

    return cached(("questions", quiz.id, quiz.version_id, quiz.item_id, quiz.key), load)


def load_attempt(
    user_id: int,
    attempt_id: int,
    *,
    lock: bool = False,
    answer_ids: Collection[int] | None = None,
    prior_scores: bool = False,
) -> AttemptContext | None:
    """The learner's attempt with everything its pages need, in one query (None when it is not theirs).

    ``lock`` takes the attempt row (PostgreSQL ``FOR UPDATE``) so a parallel submission waits for this
    request; ``answer_ids`` reads only those answers (autosave touches only what it saves); ``prior_scores``
    adds the earlier submitted attempts' aggregates that grading needs.
    """
    if answer_ids is None and not lock and not prior_scores:
        # The attempt and review pages: the head row once, then the answers alone. Joined, every answer
        # row repeated the attempt, quiz (settings JSON, intro HTML), course and enrolment columns.
        head = db.session.execute(_attempt_head(), {"attempt_id": attempt_id, "user_id": user_id}).first()
        if head is None:
            return None
        answers = list(db.session.scalars(_attempt_answers(), {"attempt_id": attempt_id}))
        return _attempt_context(*head, answers, complete=True, prior=None)
    answer_on = [AttemptAnswer.attempt_id == Attempt.id]
    if answer_ids is not None:
        answer_on.append(AttemptAnswer.id.in_(list(answer_ids)))
    columns: list[Any] = [Attempt, Quiz, Course, Enrolment, AttemptAnswer]
    if prior_scores:
        earlier = aliased(Attempt)
        on_quiz = and_(
            earlier.user_id == Attempt.user_id,
            earlier.quiz_id == Attempt.quiz_id,
            earlier.status == "submitted",
            earlier.id != Attempt.id,
        )
        score = func.coalesce(earlier.score, 0.0)
        columns += [
            select(func.count(earlier.id)).where(on_quiz).scalar_subquery(),
            select(func.sum(score)).where(on_quiz).scalar_subquery(),
            select(func.max(score)).where(on_quiz).scalar_subquery(),
            select(score).where(on_quiz).order_by(earlier.number).limit(1).scalar_subquery(),
        ]
    stmt = (
        _with_head(select(*columns))
        .outerjoin(AttemptAnswer, and_(*answer_on))
        .where(Attempt.id == attempt_id, Attempt.user_id == user_id)
        .order_by(AttemptAnswer.position)
        .execution_options(populate_existing=True)
    )
    if lock:
        stmt = stmt.with_for_update(of=Attempt)
    rows = db.session.execute(stmt).all()
    if not rows:
        return None
    prior = None
    if prior_scores:
        count, total, highest, first = rows[0][5:9]
        prior = grading.PriorScores(int(count or 0), float(total or 0.0), highest, first)
    answers = [row[4] for row in rows if row[4] is not None]
    return _attempt_context(*rows[0][:4], answers, complete=answer_ids is None, prior=prior)


def _with_head(stmt: Select[Any]) -> Select[Any]:
    """An attempt's quiz, course and the learner's enrolment joined to ``stmt`` (both reads below use it)."""
    return (
        stmt.join(Quiz, Quiz.id == Attempt.quiz_id)
        .join(Course, Course.id == Attempt.course_id)
        .outerjoin(
            Enrolment, and_(Enrolment.user_id == Attempt.user_id, Enrolment.course_id == Attempt.course_id)
        )
    )


@cache
def _attempt_head() -> Select[Any]:
    """The attempt with its quiz, course and the learner's enrolment (one row), built once."""
    return (
        _with_head(select(Attempt, Quiz, Course, Enrolment))
        .where(Attempt.id == bindparam("attempt_id"), Attempt.user_id == bindparam("user_id"))
        .execution_options(populate_existing=True)
    )


@cache
def _attempt_answers() -> Select[Any]:
    """Every answer of one attempt in page order, built once (the head above has checked the owner)."""
    return (
        select(AttemptAnswer)
        .where(AttemptAnswer.attempt_id == bindparam("attempt_id"))
        .order_by(AttemptAnswer.position)
        .execution_options(populate_existing=True)
    )


def _attempt_context(
    attempt: Attempt,
    quiz: Quiz,
    course: Course,
    enrolment: Enrolment | None,
    answers: list[AttemptAnswer],
    *,
    complete: bool,
    prior: grading.PriorScores | None,
) -> AttemptContext:
    """Wire the loaded rows together without further queries (questions come from the quiz's cache)."""
    questions = quiz_questions(quiz)
    for answer in answers:
        set_committed_value(answer, "question", questions[answer.question_id])
    set_committed_value(attempt, "quiz", quiz)
    if complete:  # only a full read may stand for attempt.answers
        set_committed_value(attempt, "answers", answers)
    return AttemptContext(attempt, course, enrolment, answers, prior)


def own_attempt(user_id: int, attempt_id: int) -> Attempt | None:
    """The attempt if it belongs to this learner (anyone else gets None → 404), with its questions loaded."""
    ctx = load_attempt(user_id, attempt_id)
    return ctx.attempt if ctx else None


@dataclass
class QuestionView:
    answer: AttemptAnswer
    question: Question
    number: int
    view: Mapping[str, Any] = field(default_factory=dict)
    error: str = ""
    shown: Any = None  # the saved response in the widget's terms

    @property
    def field_name(self) -> str:
        return f"q{self.answer.id}"

    @property
    def answered(self) -> bool:
        return not is_blank(self.answer.response)


@dataclass(frozen=True)
class PageLayout:
    """Which part of an attempt one page shows: a question number (sequential navigation) or a page."""

    step: int | None
    page: int
    pages: int
    per_page: int


def page_layout(settings: Mapping[str, Any], count: int, q: int | None, page: int | None) -> PageLayout:
    """The attempt page's step or page for the requested ``q``/``page``, clamped to the attempt (pure).

    Shared by the learner's attempt page and the authors' preview, so a preview pages exactly as learners do.
    """
    sequential = settings.get("navigation") == "sequential"
    per_page = int(settings.get("questions_per_page") or 0)
    step = min(max(q or 1, 1), count) if sequential else None
    current, pages = 1, 1
    if not sequential and per_page > 0:
        pages = max(1, -(-count // per_page))
        current = min(max(page or 1, 1), pages)
    return PageLayout(step, current, pages, per_page)


def question_views(attempt: Attempt, registry: QuestionTypeRegistry) -> list[QuestionView]:
    """What the learner sees: learner-safe views only (no keys, no feedback)."""
    shuffle = attempt.quiz.settings.get("shuffle_options", True)
    views = []
    for n, answer in enumerate(attempt.answers, 1):
        q = answer.question
        try:
            qtype = registry.get(q.type)
        except UnknownQuestionType as exc:
            views.append(QuestionView(answer, q, n, {}, str(exc)))
            continue
        views.append(
            QuestionView(
                answer,
                q,
                n,
                qtype.learner_view(q.spec, attempt.seed, shuffle),
                shown=qtype.shown_response(q.spec, attempt.seed, answer.response),
            )
        )
    return views


def parse_responses(
    attempt: Attempt,
    form: Any,
    registry: QuestionTypeRegistry,
    only_present: bool = False,
    answers: list[AttemptAnswer] | None = None,
) -> dict[int, Any]:
    """Read each question's response from submitted values (a MultiDict), keyed by AttemptAnswer id.

    With ``only_present`` (autosave, step-by-step pages) questions with no field in the form are left out.
    ``answers`` (default: all of the attempt's) limits what is read.
    """
    out: dict[int, Any] = {}
    for answer in attempt.answers if answers is None else answers:
        name = f"q{answer.id}"
        if only_present and not any(k == name or k.startswith(name + "-") for k in form):
            continue
        if answer.question.type not in registry:
            continue
        out[answer.id] = registry.get(answer.question.type).parse_response(
            form, name, answer.question.spec, attempt.seed
        )
    return out


def answer_ids_in(form: Any) -> set[int]:
    """The AttemptAnswer ids named by a form's fields (``q<id>`` or ``q<id>-<part>``)."""
    ids = set()
    for name in form:
        head = name.split("-", 1)[0]
        if head.startswith("q") and head[1:].isdigit() and len(head) < 12:
            ids.add(int(head[1:]))
    return ids


def save_responses(
    attempt: Attempt, responses: Mapping[int, Any], now: datetime | None = None, grace_seconds: int = 0
) -> datetime:
    """Autosave: store responses of an open attempt. Refused once submitted or past the deadline.

    One statement writes every saved answer (an executemany), and only while the attempt is still open in
    the database: a submission that got there first wins and nothing is written. Routes load the attempt
    with ``lock=True`` so that, on PostgreSQL, a submission running in parallel waits for these answers.
    """
    now = now or utcnow()
    if not attempt.is_open:
        if attempt.frozen:
            raise QuizError("You left this course, so this attempt is closed and can no longer change.")
        raise QuizError("This attempt has been submitted and can no longer change.")
    if grading.is_late(attempt.deadline_at, now, grace_seconds):
        raise QuizError("Time is up: answers given after the time limit are not saved.")
    if not responses:
        return now
    table = AttemptAnswer.__table__
    still_open = select(Attempt.id).where(Attempt.id == attempt.id, Attempt.status == "in_progress").exists()
    result = db.session.execute(
        update(table)
        .where(table.c.id == bindparam("answer_id"), table.c.attempt_id == attempt.id, still_open)
        .values(response=bindparam("new_response", type_=table.c.response.type), saved_at=now),
        [{"answer_id": answer_id, "new_response": value} for answer_id, value in responses.items()],
    )
    if result.rowcount is not None and 0 <= result.rowcount < len(responses):
        db.session.expire(attempt)
        if attempt.frozen:
            raise QuizError("You left this course, so this attempt is closed and can no longer change.")
        raise QuizError("This attempt has been submitted and can no longer change.")
    return now


@dataclass(frozen=True)
class SubmitOutcome:
    attempt_id: int
    graded_now: bool  # False when another request had already submitted it
    late: bool = False


def claim_submission(attempt_id: int, user_id: int, now: datetime) -> bool:
    """Move the attempt from in_progress to submitted, once: the conditional UPDATE lets only one request
    win, and it holds the row (and, on SQLite, the write lock) until commit, so no autosave slips in
    between. Returns False when it was not open any more."""
    claimed = db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt_id, Attempt.user_id == user_id, Attempt.status == "in_progress")
        .values(status="submitted", submitted_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return claimed == 1


def submit_attempt(
    attempt: Attempt,
    responses: Mapping[int, Any] | None,
    registry: QuestionTypeRegistry,
    now: datetime | None = None,
    grace_seconds: int = 0,
) -> SubmitOutcome:
    """Submit and grade an attempt exactly once, whatever the number of concurrent submissions.

    Claims the attempt (see ``claim_submission``), then reads it again, so grading sees every answer
    saved before the claim, whatever copy of the attempt the caller held.
    """
    now = now or utcnow()
    if not claim_submission(attempt.id, attempt.user_id, now):
        db.session.expire(attempt)
        return SubmitOutcome(attempt.id, graded_now=False)
    ctx = load_attempt(attempt.user_id, attempt.id, prior_scores=True)
    assert ctx is not None
    return grade_claimed(ctx, responses, registry, now, grace_seconds)


def grade_claimed(
    ctx: AttemptContext,
    responses: Mapping[int, Any] | None,
    registry: QuestionTypeRegistry,
    now: datetime,
    grace_seconds: int = 0,
) -> SubmitOutcome:
    """Grade an attempt this request has just claimed (loaded after the claim, with ``prior_scores``).

    Set-based: one UPDATE for the attempt's result and one executemany for all its answers, whatever the
    number of questions. A late submission is graded on what was saved before the deadline.
    """
    attempt = ctx.attempt
    quiz = attempt.quiz
    late = grading.is_late(attempt.deadline_at, now, grace_seconds)
    graded: list[tuple[Grade, float]] = []
    rows = []
    for answer in ctx.answers:
        fresh = bool(responses) and not late and answer.id in responses  # type: ignore[operator]
        response = responses[answer.id] if fresh else answer.response  # type: ignore[index]
        q = answer.question
        try:
            grade = registry.get(q.type).grade(q.spec, response)
        except UnknownQuestionType as exc:
            grade = Grade(0.0, False, (str(exc),))
        values = {
            "response": response,
            "saved_at": now if fresh else answer.saved_at,
            "score": grade.score if grade.correct is not None else None,
            "correct": grade.correct,
            "feedback": list(grade.feedback),
        }
        for name, value in values.items():
            set_committed_value(answer, name, value)
        rows.append({"answer_id": answer.id, **{f"new_{k}": v for k, v in values.items()}})
        graded.append((grade, q.points))
    result_values: dict[str, Any] = {"late": late}
    if quiz.graded:
        result = grading.score_attempt(graded)
        result_values.update(
            points=result.points,
            max_points=result.max_points,
            score=result.score,
            passed=grading.passes(result.score, quiz.settings["pass_mark"]),
        )
    db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id)
        .values(**result_values)
        .execution_options(synchronize_session=False)
    )
    for name, value in {"status": "submitted", "submitted_at": now, **result_values}.items():
        set_committed_value(attempt, name, value)
    if rows:
        table = AttemptAnswer.__table__
        db.session.execute(
            update(table)
            .where(table.c.id == bindparam("answer_id"))
            .values(
                {
                    table.c[name]: bindparam(f"new_{name}", type_=table.c[name].type)
                    for name in ("response", "saved_at", "score", "correct", "feedback")
                }
            ),
            rows,
        )
    _record_if_done(ctx, quiz, now)
    return SubmitOutcome(attempt.id, graded_now=True, late=late)


def _record_if_done(ctx: AttemptContext, quiz: Quiz, now: datetime) -> None:
    from lms.catalog.content import version_content

    attempt = ctx.attempt
    content = version_content(ctx.course)
    if content.version.id == quiz.version_id:
        item = next(i for i in content.items if i.id == quiz.item_id)
        version_no, content_hash = content.version.number, item.content_hash
    else:  # an attempt begun on an earlier edition
        version_no, content_hash = db.session.execute(
            select(CourseVersion.number, Item.content_hash)
            .join(Item, Item.version_id == CourseVersion.id)
            .where(CourseVersion.id == quiz.version_id, Item.id == quiz.item_id)
        ).one()
    if not quiz.graded:
        record_completion(attempt.user_id, attempt.course_id, quiz.key, version_no, now, content_hash)
        return
    prior = ctx.prior or grading.PriorScores()
    final = grading.final_score_after(quiz.settings["grading_method"], prior, attempt.score or 0.0)
    if grading.passes(final, quiz.settings["pass_mark"]):
        record_completion(attempt.user_id, attempt.course_id, quiz.key, version_no, now, content_hash)


def finish_if_expired(
    attempt: Attempt, registry: QuestionTypeRegistry, now: datetime | None = None, grace_seconds: int = 0
) -> bool:
    """An open attempt whose time ran out is submitted with what was saved in time."""
    now = now or utcnow()
    if not attempt.submitted and grading.is_late(attempt.deadline_at, now, grace_seconds):
        submit_attempt(attempt, None, registry, now, grace_seconds)
        return True
    return False


@dataclass
class ReviewRow:
    number: int
    question: Question
    answer: AttemptAnswer
    review: Mapping[str, Any]
    reference: Mapping[str, Any] | None


def seen_order(review_options: list[dict[str, Any]], seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The review's option rows in the order the learner saw them (matched by text; pure).

    Question types build their review in authored order; the learner saw the attempt's shuffled order, and
    the review must not reshuffle what they remember. Rows that cannot be matched keep their place at the end.
    """
    remaining = list(review_options)
    ordered = []
    for option in seen:
        match = next((row for row in remaining if row.get("text") == option.get("text")), None)
        if match is not None:
            ordered.append(match)
            remaining.remove(match)
    return ordered + remaining


def review_rows(attempt: Attempt, registry: QuestionTypeRegistry, references: list[dict]) -> list[ReviewRow]:
    refs = {r["key"]: r for r in references}
    shuffle = attempt.quiz.settings.get("shuffle_options", True)
    rows = []
    for n, answer in enumerate(attempt.answers, 1):
        q = answer.question
        try:
            qtype = registry.get(q.type)
            detail = qtype.review(q.spec, answer.response)
            if isinstance(detail.get("options"), list):
                seen = qtype.learner_view(q.spec, attempt.seed, shuffle).get("options") or []
                detail = {**detail, "options": seen_order(detail["options"], seen)}
        except UnknownQuestionType as exc:
            detail = {"error": str(exc)}
        rows.append(ReviewRow(n, q, answer, detail, refs.get(q.reference)))
    return rows


class GrantError(Exception):
    """An extra attempt cannot be granted (unknown learner, course or quiz, or no reason); for the admin."""


def grant_attempt(
    learner_id: int, course: Course, quiz_key: str, reason: str, granted_by: Any, now: datetime | None = None
) -> AttemptGrant:
    """Grant one extra attempt on the current edition's quiz ``quiz_key``, with an audited reason."""
    now = now or utcnow()
    reason = reason.strip()
    if not reason:
        raise GrantError("Give a reason: an extra attempt is recorded for the audit trail.")
    found = current_quiz(course, quiz_key)
    if found is None:
        raise GrantError(f"{course.slug} has no quiz {quiz_key!r} in its current edition.")
    quiz = found[0]
    grant = AttemptGrant(
        user_id=learner_id,
        course_id=course.id,
        quiz_id=quiz.id,
        quiz_key=quiz.key,
        granted_by_id=getattr(granted_by, "id", None),
        reason=reason,
        granted_at=now,
    )
    db.session.add(grant)
    db.session.flush()
    audit(
        granted_by,
        "attempt.grant",
        "user",
        learner_id,
        f"{course.slug} {quiz.key} (quiz {quiz.id}): {reason}",
    )
    db.session.flush()
    return grant

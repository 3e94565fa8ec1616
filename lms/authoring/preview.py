"""Trying a quiz as a learner would, without recording anything: the draft's, or the published version's.

A preview is computed, never stored. The draft's quiz (as the package loader reads it) is shown with the
question types' learner-safe views and widgets; the published version's is shown through the learner's own
attempt and review pages (pages, navigation, timer) with stand-ins for the attempt rows. Either way a
submission is graded by the same pure functions as a real attempt. No Attempt row, no progress and no
completion can come from a preview, so reports, item analysis, attempt limits and certificates never see one.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup
from sqlalchemy import select

from lms.catalog.models import Course, CourseVersion, Item
from lms.coursepacks.manifest import VIGNETTE, CoursePackage, QuestionDef
from lms.coursepacks.manifest import Quiz as QuizDef
from lms.extensions import db
from lms.plugins import QuestionTypeRegistry, UnknownQuestionType
from lms.qtypes.base import Grade
from lms.quizzes import grading
from lms.quizzes.models import Question, Quiz

PREVIEW_SEED = 20261201  # a fixed seed: the same preview every time (authors can check the shuffled order)


def find_quiz(pkg: CoursePackage, path: str) -> QuizDef | None:
    return next((q for q in pkg.quizzes() if q.path == path), None)


@dataclass(frozen=True)
class PreviewQuestion:
    number: int
    question: QuestionDef
    widget: Markup
    name: str


def questions(
    quiz: QuizDef, registry: QuestionTypeRegistry, seed: int = PREVIEW_SEED
) -> list[PreviewQuestion]:
    """Every question of the quiz (a draw shows all of them, so the author sees the whole pool)."""
    shuffle = quiz.settings.shuffle_options
    out = []
    for n, q in enumerate(quiz.questions, 1):
        qtype = registry.get(q.type)
        name = f"p{n}"
        view = qtype.learner_view(q.spec, seed, shuffle)
        out.append(PreviewQuestion(n, q, qtype.render_widget(view, None, name), name))
    return out


@dataclass(frozen=True)
class PreviewResult:
    rows: list[tuple[PreviewQuestion, Grade, dict[str, Any]]]
    score: float | None
    passed: bool | None


def grade(
    quiz: QuizDef, form: Any, registry: QuestionTypeRegistry, seed: int = PREVIEW_SEED
) -> PreviewResult:
    """Grade submitted preview answers (a MultiDict) with the quiz's real rules; nothing is stored."""
    rows = []
    graded = []
    for pq in questions(quiz, registry, seed):
        qtype = registry.get(pq.question.type)
        response = qtype.parse_response(form, pq.name, pq.question.spec, seed)
        result = qtype.grade(pq.question.spec, response)
        rows.append((pq, result, qtype.review(pq.question.spec, response)))
        graded.append((result, pq.question.points))
    if not quiz.graded:
        return PreviewResult(rows, None, None)
    total = grading.score_attempt(graded)
    return PreviewResult(rows, total.score, grading.passes(total.score, quiz.settings.pass_mark))


# -- the published version, through the learner's own attempt and review pages ------------------------------
#
# A learner's attempt lives in Attempt and AttemptAnswer rows; a preview never does. These two small classes
# stand in for them (same attribute names), so the quiz services' view, parsing and review helpers and the
# learner's templates serve the preview unchanged, and the answers given so far travel in a signed hidden
# field from page to page instead of the database.


@dataclass
class PreviewAnswer:
    """Stands in for an AttemptAnswer: ``id`` is the question's position, so its fields are ``q<n>``."""

    id: int
    question: Question
    response: Any = None
    score: float | None = None
    correct: bool | None = None
    feedback: list[str] | None = None


@dataclass
class PreviewAttempt:
    """Stands in for an Attempt the learner's templates render (never added to a session)."""

    quiz: Quiz
    seed: int
    started_at: datetime
    answers: list[PreviewAnswer]
    id: int | None = None
    number: int = 1
    status: str = "in_progress"
    late: bool = False
    score: float | None = None
    points: float | None = None
    max_points: float | None = None
    passed: bool | None = None
    deadline_at: datetime | None = None

    @property
    def submitted(self) -> bool:
        return self.status == "submitted"

    @property
    def percent(self) -> float | None:
        return None if self.score is None else round(self.score * 100, 1)


def new_seed() -> int:
    """62 random bits, as a learner's attempt gets: each preview draws and shuffles afresh."""
    return secrets.randbits(62)


def published_attempt(
    quiz: Quiz,
    questions: Mapping[int, Question],
    seed: int,
    started_at: datetime,
    responses: Mapping[str, Any],
) -> PreviewAttempt:
    """The published quiz drawn and ordered exactly as ``start_attempt`` would for this seed, with the
    responses given so far (keyed by position, as text: they come back from JSON)."""
    by_key = {q.key: q for q in sorted(questions.values(), key=lambda q: q.position)}
    settings = quiz.settings
    order = grading.draw_questions(
        list(by_key),
        seed,
        draw=settings.get("draw", 0),
        shuffle=settings.get("shuffle_questions", False),
        tagged={q.key for q in by_key.values() if VIGNETTE in (q.spec.get("tags") or [])},
    )
    answers = [PreviewAnswer(n, by_key[key], responses.get(str(n))) for n, key in enumerate(order, 1)]
    limit = settings.get("time_limit_minutes", 0)
    deadline = started_at + timedelta(minutes=limit) if limit else None
    return PreviewAttempt(quiz, seed, started_at, answers, deadline_at=deadline)


def grade_published(attempt: PreviewAttempt, registry: QuestionTypeRegistry) -> PreviewAttempt:
    """Grade every answer and the whole attempt by the rules a real submission uses (the question types'
    ``grade``, ``score_attempt``, ``passes``); the result lives on the stand-ins only, nothing is stored."""
    graded: list[tuple[Grade, float]] = []
    for answer in attempt.answers:
        q = answer.question
        try:
            grade = registry.get(q.type).grade(q.spec, answer.response)
        except UnknownQuestionType as exc:
            grade = Grade(0.0, False, (str(exc),))
        answer.score = grade.score if grade.correct is not None else None
        answer.correct = grade.correct
        answer.feedback = list(grade.feedback)
        graded.append((grade, q.points))
    attempt.status = "submitted"
    if attempt.quiz.graded:
        result = grading.score_attempt(graded)
        attempt.points, attempt.max_points, attempt.score = result.points, result.max_points, result.score
        attempt.passed = grading.passes(result.score, attempt.quiz.settings["pass_mark"])
    return attempt


def dump_state(attempt: PreviewAttempt, secret: str) -> str:
    """The preview so far (seed, start, responses) as a signed token for the page's hidden field."""
    payload = {
        "seed": attempt.seed,
        "started": attempt.started_at.isoformat(),
        "responses": {str(a.id): a.response for a in attempt.answers if a.response is not None},
    }
    return URLSafeSerializer(secret, salt=STATE_SALT).dumps(payload)


def load_state(token: str, secret: str) -> tuple[int, datetime, dict[str, Any]] | None:
    """Seed, start time and responses from a page's token; None when it is missing or was altered."""
    try:
        payload = URLSafeSerializer(secret, salt=STATE_SALT).loads(token or "")
        return int(payload["seed"]), datetime.fromisoformat(payload["started"]), dict(payload["responses"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


STATE_SALT = "lms.authoring.preview"


def published_quizzes(course: Course) -> list[tuple[str, str]]:
    """(key, title) of every quiz and evaluation in the course's current version, in syllabus order."""
    return [
        (key, title)
        for key, title in db.session.execute(
            select(Quiz.key, Quiz.title)
            .join(CourseVersion, CourseVersion.id == Quiz.version_id)
            .join(Item, Item.id == Quiz.item_id)
            .where(CourseVersion.course_id == course.id, CourseVersion.number == course.current_version_no)
            .order_by(Item.position)
        )
    ]

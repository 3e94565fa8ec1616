"""Trying a draft quiz as a learner would, without recording anything.

A preview is computed, never stored: the draft's quiz (as the package loader reads it) is shown with the
question types' learner-safe views and widgets, and a submission is graded by the same pure functions as a
real attempt. No Attempt row, no progress and no completion can come from it, so reports never see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from lms.coursepacks.manifest import CoursePackage, QuestionDef
from lms.coursepacks.manifest import Quiz as QuizDef
from lms.plugins import QuestionTypeRegistry
from lms.qtypes.base import Grade
from lms.quizzes import grading

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

"""A course's question bank: GIFT import and export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from lms.catalog.models import Course, CourseVersion
from lms.catalog.services import is_current_version
from lms.coursepacks.gift import GiftProblem, parse_gift, to_gift
from lms.extensions import db
from lms.plugins import QuestionTypeRegistry
from lms.quizzes.models import BankQuestion, Question, Quiz


@dataclass(frozen=True)
class ImportReport:
    added: list[str]
    problems: list[GiftProblem]


def import_gift(course: Course, text: str, registry: QuestionTypeRegistry, source: str) -> ImportReport:
    """Add every importable question of a GIFT document to the course's bank (flush only).

    Keys already in the bank get a numeric suffix rather than replacing anything.
    """
    parsed = parse_gift(text, registry)
    existing = set(db.session.scalars(select(BankQuestion.key).where(BankQuestion.course_id == course.id)))
    added = []
    for q in parsed.questions:
        key, n = q.key, 2
        while key in existing:
            key, n = f"{q.key}-{n}", n + 1
        existing.add(key)
        db.session.add(
            BankQuestion(
                course_id=course.id,
                key=key,
                category=q.category,
                type=q.spec["type"],
                spec={**q.spec, "id": key},
                source=f"{source}:{q.line}",
            )
        )
        added.append(key)
    db.session.flush()
    return ImportReport(added, parsed.problems)


def bank_specs(course: Course) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(BankQuestion).where(BankQuestion.course_id == course.id).order_by(BankQuestion.id)
    )
    return [row.spec for row in rows]


def quiz_specs(course: Course, quiz_key: str) -> list[dict[str, Any]] | None:
    quiz = db.session.scalar(
        select(Quiz)
        .join(CourseVersion, CourseVersion.id == Quiz.version_id)
        .where(is_current_version(course), Quiz.key == quiz_key)
    )
    if quiz is None:
        return None
    questions = db.session.scalars(
        select(Question).where(Question.quiz_id == quiz.id).order_by(Question.position)
    )
    return [q.spec for q in questions]


def export_gift(
    specs: list[dict[str, Any]], registry: QuestionTypeRegistry, category: str = ""
) -> tuple[str, list[str]]:
    return to_gift(specs, registry, category)

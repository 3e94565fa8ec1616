"""A course's question bank: GIFT import and export."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from lms.catalog.models import Course, CourseVersion
from lms.catalog.services import is_current_version
from lms.coursepacks.gift import GiftExport, GiftProblem, parse_gift, to_gift
from lms.extensions import db
from lms.plugins import QuestionTypeRegistry
from lms.quizzes.models import BankQuestion, Question, Quiz


@dataclass(frozen=True)
class ImportReport:
    """What an import did, as data (the CLI prints it; a web page can show it)."""

    added: list[str]
    #: questions not imported, each with its line and the reason
    problems: list[GiftProblem]
    #: questions imported with a documented difference from Moodle's meaning
    warnings: list[GiftProblem] = field(default_factory=list)


def _column_length(column: Any) -> int:
    return int(column.type.length)


def import_gift(course: Course, text: str, registry: QuestionTypeRegistry, source: str) -> ImportReport:
    """Add every importable question of a GIFT document to the course's bank (flush only).

    Keys already in the bank get a numeric suffix rather than replacing anything. Every value is checked
    against its column's length before anything is added, so a long Moodle category is reported with its
    line instead of failing the whole import on PostgreSQL.
    """
    parsed = parse_gift(text, registry)
    problems = list(parsed.problems)
    key_max = _column_length(BankQuestion.__table__.c.key)
    category_max = _column_length(BankQuestion.__table__.c.category)
    source_max = _column_length(BankQuestion.__table__.c.source)
    existing = set(db.session.scalars(select(BankQuestion.key).where(BankQuestion.course_id == course.id)))
    added = []
    for q in parsed.questions:
        if len(q.category) > category_max:
            problems.append(
                GiftProblem(
                    q.line,
                    f"not imported: its category is {len(q.category)} characters long; "
                    f"the bank keeps at most {category_max}",
                )
            )
            continue
        key, n = q.key, 2
        while key in existing:
            key = f"{q.key[: key_max - len(str(n)) - 1]}-{n}"
            n += 1
        existing.add(key)
        where = f":{q.line}"
        db.session.add(
            BankQuestion(
                course_id=course.id,
                key=key,
                category=q.category,
                type=q.spec["type"],
                spec={**q.spec, "id": key},
                source=source[: source_max - len(where)] + where,
            )
        )
        added.append(key)
    db.session.flush()
    problems.sort(key=lambda p: p.line)
    return ImportReport(added, problems, parsed.warnings)


def bank_specs(course: Course) -> list[dict[str, Any]]:
    return [spec for _category, spec in bank_questions(course)]


def bank_questions(course: Course) -> list[tuple[str, dict[str, Any]]]:
    """(category, spec) of each question in the course's bank, in the order they were added."""
    rows = db.session.scalars(
        select(BankQuestion).where(BankQuestion.course_id == course.id).order_by(BankQuestion.id)
    )
    return [(row.category, row.spec) for row in rows]


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
    specs: list[dict[str, Any]],
    registry: QuestionTypeRegistry,
    category: str = "",
    categories: list[str] | None = None,
) -> GiftExport:
    """GIFT text plus its report: questions GIFT cannot express and questions Moodle grades differently."""
    return to_gift(specs, registry, category, categories)

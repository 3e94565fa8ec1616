"""Questions into a draft's quiz from a GIFT file or from the course's question bank (flush only).

GIFT import into the bank is ``lms.quizzes.bank.import_gift``; into a quiz file the same parser is used and
every refused question is reported with its line. Quiz files are Markdown: a question written in another
GIFT text format (html, plain, moodle) is refused for a quiz with a clear reason (the bank keeps it).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select

from lms.auth.models import User
from lms.authoring import services as svc
from lms.authoring import structure as st
from lms.catalog.models import Course
from lms.coursepacks.gift import GiftEncodingError, GiftProblem, decode, parse_gift
from lms.extensions import db
from lms.plugins import QuestionTypeRegistry
from lms.quizzes.bank import ImportReport, import_gift
from lms.quizzes.models import BankQuestion

#: characters Markdown would read differently from Moodle's plain "moodle"/"plain" text formats
MARKDOWN_SPECIAL = re.compile(r"[*_`#\[\]<>\\|~]|^\s*([-+]|\d+\.)\s", re.M)


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [
            t for k, v in value.items() if k not in ("id", "type", "format", "formats") for t in _texts(v)
        ]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def _quiz_ready(spec: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The spec as a quiz file holds it (Markdown), or None and why not.

    GIFT's default "moodle" format and "plain" text read the same as Markdown when they hold no character
    Markdown gives a meaning to; HTML, and anything else, stays in the bank.
    """
    used = {spec.get("format") or "markdown", *(spec.get("formats") or {}).values()} - {"markdown"}
    if used - {"moodle", "plain"}:
        names = ", ".join(sorted(used))
        return None, f"uses the {names} text format; quiz files are Markdown (keep it in the bank)"
    if used and any(MARKDOWN_SPECIAL.search(t) for t in _texts(spec)):
        return None, "its plain text contains characters Markdown reads differently (* _ ` # [ ] < >)"
    return {k: v for k, v in spec.items() if k not in ("format", "formats")}, ""


def _unique(key: str, taken: set[str]) -> str:
    candidate, n = key, 2
    while candidate in taken:
        candidate, n = f"{key[:70]}-{n}", n + 1
    taken.add(candidate)
    return candidate


def gift_into_quiz(
    draft: Any, path: str, data: bytes, registry: QuestionTypeRegistry, user: User | None, now: datetime
) -> ImportReport:
    """Append every importable question of a GIFT file to the quiz file at ``path``."""
    try:
        text = decode(data)
    except GiftEncodingError as exc:
        return ImportReport([], [GiftProblem(1, str(exc))])
    files = draft.files
    quiz = st.parse(files.get(path), path)
    parsed = parse_gift(text, registry)
    problems = list(parsed.problems)
    questions = st.questions_of(quiz)
    taken = {str(q.get("id")) for q in questions}
    added = []
    for q in parsed.questions:
        spec, why = _quiz_ready(q.spec)
        if spec is None:
            problems.append(GiftProblem(q.line, f"not imported: {why}"))
            continue
        spec = {**spec, "id": _unique(q.key, taken)}
        spec.pop("category", None)
        questions.append(spec)
        added.append(spec["id"])
    if added:
        new = {**st.settings_of(quiz), "questions": questions}
        svc.save_file(draft, path, st.dump(new), svc.file_hash(files.get(path)), user, now)
    problems.sort(key=lambda p: p.line)
    return ImportReport(added, problems, parsed.warnings)


def gift_into_bank(
    course: Course, data: bytes, filename: str, registry: QuestionTypeRegistry
) -> ImportReport:
    try:
        text = decode(data)
    except GiftEncodingError as exc:
        return ImportReport([], [GiftProblem(1, str(exc))])
    return import_gift(course, text, registry, source=filename)


def bank_rows(course: Course) -> list[BankQuestion]:
    return list(
        db.session.scalars(
            select(BankQuestion).where(BankQuestion.course_id == course.id).order_by(BankQuestion.id)
        )
    )


def bank_into_quiz(
    course: Course, draft: Any, path: str, key: str, base_hash: str, user: User | None, now: datetime
) -> str:
    """Copy one bank question into the quiz file; returns its id in the quiz."""
    row = db.session.scalar(
        select(BankQuestion).where(BankQuestion.course_id == course.id, BankQuestion.key == key)
    )
    if row is None:
        raise svc.AuthoringError(f'no question "{key}" in the bank')
    spec, why = _quiz_ready(dict(row.spec))
    if spec is None:
        raise svc.AuthoringError(f"{key} {why}")
    files = draft.files
    quiz = st.parse(files.get(path), path)
    questions = st.questions_of(quiz)
    spec["id"] = _unique(str(spec.get("id") or key), {str(q.get("id")) for q in questions})
    new = {**st.settings_of(quiz), "questions": [*questions, spec]}
    svc.save_file(draft, path, st.dump(new), base_hash, user, now)
    return spec["id"]

"""Quizzes and questions (immutable, per course version) and learners' attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.timeutil import utcnow


class Quiz(db.Model):
    __tablename__ = "quiz"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("course_version.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("course_item.id", ondelete="CASCADE"), unique=True)
    key: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))  # quiz | final | survey
    intro_html: Mapped[str] = mapped_column(Text, default="")
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)

    questions: Mapped[list[Question]] = relationship(order_by="Question.position", lazy="raise")

    @property
    def graded(self) -> bool:
        return self.kind != "survey"


class Question(db.Model):
    """A question as used by one course version. Never edited, so past attempts keep their meaning."""

    __tablename__ = "question"
    __table_args__ = (UniqueConstraint("quiz_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    position: Mapped[int]
    type: Mapped[str] = mapped_column(String(64))
    points: Mapped[float] = mapped_column(default=1.0)
    prompt_html: Mapped[str] = mapped_column(Text)
    explanation_html: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[str] = mapped_column(String(80), default="")
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: sha256 of the spec: the "version" of the question that an attempt records
    content_hash: Mapped[str] = mapped_column(String(64))


class Attempt(db.Model):
    """One learner's attempt at one quiz. Immutable once submitted."""

    __tablename__ = "attempt"
    #: two parallel "start" requests cannot both create attempt N (attempt limits hold under races)
    __table_args__ = (UniqueConstraint("user_id", "course_id", "quiz_key", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id", ondelete="CASCADE"), index=True)
    #: the quiz's stable key: attempt limits and grading span course versions
    quiz_key: Mapped[str] = mapped_column(String(80))
    number: Mapped[int]  # 1, 2, 3… for this learner and quiz key
    #: 62 random bits: drives shuffling and the opaque option tokens, so it must not be guessable
    seed: Mapped[int] = mapped_column(BigInteger)
    #: in_progress | submitted | frozen (the learner left the course while it was open: never changes again)
    status: Mapped[str] = mapped_column(String(16), default="in_progress")
    started_at: Mapped[datetime]
    deadline_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(default=False)
    score: Mapped[float | None]  # fraction in [0, 1]; None for surveys and unsubmitted attempts
    points: Mapped[float | None]
    max_points: Mapped[float | None]
    passed: Mapped[bool | None]

    quiz: Mapped[Quiz] = relationship(lazy="raise")
    answers: Mapped[list[AttemptAnswer]] = relationship(order_by="AttemptAnswer.position", lazy="raise")

    @property
    def submitted(self) -> bool:
        return self.status == "submitted"

    @property
    def is_open(self) -> bool:
        return self.status == "in_progress"

    @property
    def frozen(self) -> bool:
        return self.status == "frozen"

    @property
    def percent(self) -> float | None:
        return None if self.score is None else round(self.score * 100, 1)


class AttemptAnswer(db.Model):
    """A question drawn for an attempt, the learner's saved response, and (after submission) its grade."""

    __tablename__ = "attempt_answer"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    #: the question's content hash when drawn: later edits never change what this attempt was
    question_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[Any | None] = mapped_column(JSON)
    saved_at: Mapped[datetime | None]
    score: Mapped[float | None]
    correct: Mapped[bool | None]
    feedback: Mapped[list[str] | None] = mapped_column(JSON)

    question: Mapped[Question] = relationship(lazy="raise")


class BankQuestion(db.Model):
    """A course's question bank: questions imported from GIFT (or authored) for use in quizzes."""

    __tablename__ = "bank_question"
    __table_args__ = (UniqueConstraint("course_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(300), default="")
    type: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AttemptGrant(db.Model):
    """One extra attempt an admin granted a learner on one edition's quiz, with the reason (also audited).

    A grant lets the learner start one attempt beyond the attempt rules (even while locked out); it is used
    up by the next attempt submitted after it.
    """

    __tablename__ = "attempt_grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    #: the quiz of the edition the grant is for: grants count per edition, like attempts
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id", ondelete="CASCADE"), index=True)
    quiz_key: Mapped[str] = mapped_column(String(80))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


class TimeExtension(db.Model):
    """Extra minutes on a timed quiz for one learner (an accommodation), with the reason (also audited).

    Applies to attempts started after it on that quiz key; several extensions add up.
    """

    __tablename__ = "time_extension"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    quiz_key: Mapped[str] = mapped_column(String(80))
    minutes: Mapped[int]
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

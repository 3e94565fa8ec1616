"""Quizzes and questions (immutable, per course version) and learners' attempts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db


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

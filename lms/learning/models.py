"""Learner progress: one row per (learner, course, item key), unique in the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db
from lms.timeutil import utcnow


class ProgressRecord(db.Model):
    """An item a learner has completed. Keyed by the item's stable key, so it survives new course versions."""

    __tablename__ = "progress_record"
    __table_args__ = (UniqueConstraint("user_id", "course_id", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    item_key: Mapped[str] = mapped_column(String(80))
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the course version the learner was on when completing (the final and evaluation count per edition)
    version_no: Mapped[int] = mapped_column(default=0)
    #: the item's content hash when completed: a changed lesson must be read again
    content_hash: Mapped[str] = mapped_column(String(64), default="")

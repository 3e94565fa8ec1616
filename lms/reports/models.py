"""Precomputed quiz statistics, refreshed by a background job (``lms.reports.jobs.refresh_statistics``).

Rows hold *sufficient statistics* (counts and sums), not coefficients: the pure functions in
``lms.reports.stats`` turn them into difficulty, discrimination and reliability when a page is drawn, so a
change to a formula never needs a data migration. Each row records when it was computed ("as of").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, func
from sqlalchemy.orm import Mapped, mapped_column

from lms.auth.models import User
from lms.extensions import db


class QuizStatistic(db.Model):
    """One graded quiz over each learner's first submitted attempt (staff and previews left out)."""

    __tablename__ = "quiz_statistic"

    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id", ondelete="CASCADE"), primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    #: learners with a first attempt (n), the sum and sum of squares of those attempts' points
    attempts: Mapped[int]
    sum_points: Mapped[float]
    sum_points_sq: Mapped[float]
    #: the sum of those attempts' scores as fractions (their mean is the quiz's mean score)
    sum_score: Mapped[float]
    #: first attempts that passed; learners who passed on any attempt; every submitted attempt
    first_passed: Mapped[int]
    ever_passed: Mapped[int]
    all_attempts: Mapped[int]
    #: how many questions the quiz has, and how many each attempt draws (0: all of them)
    questions: Mapped[int]
    draw: Mapped[int]
    #: counts of first-attempt scores in ten bins: [0, 10 %), [10, 20 %) … [90, 100 %]
    histogram: Mapped[list[int]] = mapped_column(JSON)
    computed_at: Mapped[datetime]


class ItemStatistic(db.Model):
    """One graded question over the first attempts that drew it.

    With x the item's score in [0, 1] and r the attempt's points minus the item's points (the "rest"):
    n, Σx, Σx², Σr, Σr², Σxr, plus how often each option was chosen (choice questions).
    """

    __tablename__ = "item_statistic"

    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id", ondelete="CASCADE"), index=True)
    n: Mapped[int]
    sum_x: Mapped[float]
    sum_x2: Mapped[float]
    sum_r: Mapped[float]
    sum_r2: Mapped[float]
    sum_xr: Mapped[float]
    #: {"A": 12, "B": 3, …} for choice questions ({"true": …, "false": …} for true/false), else {}
    option_counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: responses left blank
    blank: Mapped[int]
    computed_at: Mapped[datetime]


class ReportRefresh(db.Model):
    """When a course's statistics were last recomputed: the "as of" time every report page shows."""

    __tablename__ = "report_refresh"

    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), primary_key=True)
    computed_at: Mapped[datetime]
    #: the enrolment funnel counted at ``computed_at``: {"enrolled": …, "started": …, "completed": …,
    #: "claimed": …, "certified": …}; None on rows from before migration 0015 (the next refresh fills it).
    #: Counting it live took minutes at 100,000 learners (bench/SCALE.md), so the overview reads it here.
    funnel: Mapped[dict[str, int] | None] = mapped_column(JSON)


class LearnerStatistic(db.Model):
    """One learner's standing on a course's current edition, so the learners' table sorts 10,000 rows fast.

    ``status_rank``: 0 not started, 1 in progress, 2 completed, 3 claimed, 4 certified.
    """

    __tablename__ = "learner_statistic"
    __table_args__ = (Index("ix_learner_statistic_course_rank", "course_id", "status_rank"),)

    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    done: Mapped[int]
    #: best submitted score on the final (fraction), None without one
    best_final: Mapped[float | None]
    status_rank: Mapped[int]


#: The learners' table of a report sorts by name by default: with this index PostgreSQL walks the course's
#: learners in name order and stops at the page, instead of joining and sorting every enrolled learner
#: (about 500 ms for 38,000 of 100,000 learners; under 100 ms with it, on the 2-core machine, bench/SCALE.md).
#: Declared here, beside the report that needs it, on the accounts table (migration 0012).
#: PostgreSQL only: SQLite cannot reflect an expression index (so models and migrations could not be compared
#: there), and it serves the small databases where the sort costs nothing.
ix_user_account_lower_full_name = Index(
    "ix_user_account_lower_full_name", func.lower(User.__table__.c.full_name)
).ddl_if(dialect="postgresql")


#: The learners' table's text filter. PostgreSQL's trigram indexes (the pg_trgm extension, shipped with
#: PostgreSQL and "trusted", so the database owner may create it: migration 0015) answer ``LIKE '%x%'`` from
#: the index instead of reading every account (about 120 ms per statement at 100,000 learners,
#: bench/SCALE.md). The filter matches the normalised ``search_text`` (name and email, lms.textsearch) through
#: the first, the licence number through the second. Elsewhere (SQLite) the same conditions scan.
ix_user_account_search_trgm = Index(
    "ix_user_account_search_trgm",
    func.lower(User.__table__.c.search_text).label("search_lower"),
    postgresql_using="gin",
    postgresql_ops={"search_lower": "gin_trgm_ops"},
).ddl_if(dialect="postgresql")
ix_user_account_licence_trgm = Index(
    "ix_user_account_licence_trgm",
    func.lower(User.__table__.c.licence_number).label("licence_lower"),
    postgresql_using="gin",
    postgresql_ops={"licence_lower": "gin_trgm_ops"},
).ddl_if(dialect="postgresql")

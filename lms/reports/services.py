"""The queries behind a course's reports: funnel, learners' progress, quiz results, evaluation, items.

Who is counted: learners only. Staff (accounts holding the educator or admin role) are left out everywhere,
and an author's quiz preview is never stored, so trying one's own course never moves its numbers. Item
analysis reads each learner's *first* submitted attempt, the one least shaped by practice.

Every function runs a fixed number of queries whatever the number of learners or questions: counts come from
``GROUP BY`` queries, never from loops over rows. Item statistics are precomputed into ``item_statistic`` and
``quiz_statistic``, learners' standings into ``learner_statistic`` and the enrolment funnel onto
``report_refresh`` by ``compute_statistics`` (run by the background job in ``lms.reports.jobs``); the pages
read those rows and say how old they are. Services only flush; routes, jobs and the CLI commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    union,
)

from lms.auth.models import User, UserRole
from lms.catalog.models import Course, CourseStaff, CourseVersion, Enrolment, Item
from lms.catalog.services import current_version, policy_of, staff_role
from lms.certificates.models import Certificate, CertificateClaim, CertificateRevocation, CourseCompletion
from lms.csvutil import csv_text
from lms.extensions import db
from lms.jobs import BackgroundJob
from lms.learning.models import ProgressRecord
from lms.learning.progress import SyllabusItem, required_keys
from lms.quizzes.models import Attempt, AttemptAnswer, Question, Quiz
from lms.reports import stats
from lms.reports.models import ItemStatistic, LearnerStatistic, QuizStatistic, ReportRefresh
from lms.textsearch import normalise_search

#: Accounts holding these roles are staff: never counted as learners.
STAFF_ROLES = ("educator", "admin")
#: Question types whose responses are options: their distractor counts are shown.
CHOICE_TYPES = ("single_choice", "multiple_response", "true_false")
#: The evaluation summary is shown only from this many responses, so no answer can be traced to a person.
MIN_EVALUATION_RESPONSES = 5
LEARNERS_PER_PAGE = 100


# -- who may see what -----------------------------------------------------------------------------------


def is_admin(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.is_active and user.has_role("admin")


def can_view_reports(user: Any, course: Course) -> bool:
    """Admins, and educators who are the course's owner or a co-author (one query for educators)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.has_role("admin") or staff_role(user, course) is not None


def get_course(slug: str) -> Course | None:
    return db.session.scalar(select(Course).where(Course.slug == slug, Course.current_version_no > 0))


def reportable_courses(user: Any) -> list[tuple[Course, str]]:
    """The courses whose reports ``user`` may open, with the user's role on each ("admin" for admins)."""
    if is_admin(user):
        courses = db.session.scalars(
            select(Course).where(Course.current_version_no > 0).order_by(Course.title)
        )
        return [(c, "admin") for c in courses]
    rows = db.session.execute(
        select(Course, CourseStaff.role)
        .join(CourseStaff, CourseStaff.course_id == Course.id)
        .where(CourseStaff.user_id == user.id, Course.current_version_no > 0)
        .order_by(Course.title)
    )
    return [(c, role) for c, role in rows]


def _staff_ids() -> Select[tuple[int]]:
    return select(UserRole.user_id).where(UserRole.role.in_(STAFF_ROLES))


def _counted(attempt: Any = Attempt) -> ColumnElement[bool]:
    """A submitted learner attempt, not by staff (previews are never stored: lms/authoring/preview.py)."""
    return and_(
        attempt.status == "submitted",
        attempt.user_id.not_in(_staff_ids()),
    )


# -- the enrolment funnel --------------------------------------------------------------------------------


FUNNEL_STEPS = (
    ("enrolled", "Enrolled", "Learners who enrolled (including those who later left)."),
    ("started", "Started", "Enrolled learners who completed at least one item or submitted a quiz."),
    ("completed", "Completed", "Learners who completed the course on any edition."),
    ("claimed", "Claimed", "Learners who claimed a certificate (attested their participation)."),
    ("certified", "Certified", "Learners holding a certificate that has not been revoked."),
)


@dataclass(frozen=True)
class FunnelStep:
    key: str
    label: str
    explanation: str
    count: int
    #: of the enrolled learners, in whole percent
    percent: int


def count_funnel(course: Course) -> dict[str, int]:
    """Enrolled → started → completed → claimed → certified, counted live in one statement (for the job).

    "Started" is a semi-join against one de-duplicated list of the course's active learners (a progress row
    or a submitted attempt), so PostgreSQL hashes that list once instead of testing every enrolment against
    the progress rows (minutes at 100,000 learners, bench/SCALE.md).
    """
    learners = select(Enrolment.user_id).where(
        Enrolment.course_id == course.id, Enrolment.user_id.not_in(_staff_ids())
    )

    def distinct_learners(model: Any, *where: ColumnElement[bool]) -> Any:
        return (
            select(func.count(func.distinct(model.user_id)))
            .where(model.course_id == course.id, model.user_id.in_(learners), *where)
            .scalar_subquery()
        )

    active = union(
        select(ProgressRecord.user_id).where(ProgressRecord.course_id == course.id),
        # staff are already left out by the enrolments this is matched against
        select(Attempt.user_id).where(Attempt.course_id == course.id, Attempt.status == "submitted"),
    ).subquery()
    started = (
        select(func.count())
        .select_from(Enrolment)
        .where(
            Enrolment.course_id == course.id,
            Enrolment.user_id.not_in(_staff_ids()),
            Enrolment.user_id.in_(select(active.c.user_id)),
        )
        .scalar_subquery()
    )
    row = db.session.execute(
        select(
            select(func.count()).select_from(learners.subquery()).scalar_subquery(),
            started,
            distinct_learners(CourseCompletion),
            distinct_learners(CertificateClaim),
            distinct_learners(
                Certificate, Certificate.id.not_in(select(CertificateRevocation.certificate_id))
            ),
        )
    ).one()
    return {key: int(count or 0) for (key, _, _), count in zip(FUNNEL_STEPS, row, strict=True)}


def funnel_steps(counts: Mapping[str, int] | None) -> list[FunnelStep]:
    """The funnel's steps from its counts (pure); no counts yet (never computed) reads as all zero."""
    counts = counts or {}
    enrolled = int(counts.get("enrolled", 0))
    return [
        FunnelStep(key, label, text, n, (100 * n) // enrolled if enrolled else 0)
        for key, label, text in FUNNEL_STEPS
        for n in [int(counts.get(key, 0))]
    ]


def funnel(course: Course) -> list[FunnelStep]:
    """The funnel counted now (one query); pages read the stored one (``stored_funnel``) instead."""
    return funnel_steps(count_funnel(course))


def stored_funnel(refreshed: ReportRefresh | None) -> list[FunnelStep] | None:
    """The funnel as of the last statistics refresh (no query: it is on the ``report_refresh`` row);
    None when it has not been counted yet."""
    if refreshed is None or refreshed.funnel is None:
        return None
    return funnel_steps(refreshed.funnel)


# -- the course's current edition -------------------------------------------------------------------------


@dataclass
class Edition:
    version: CourseVersion
    items: list[Item]
    quizzes: list[Quiz]
    required: list[str]
    final_key: str
    evaluation_key: str

    @property
    def graded_quizzes(self) -> list[Quiz]:
        return [q for q in self.quizzes if q.graded]

    def quiz(self, key: str) -> Quiz | None:
        return next((q for q in self.quizzes if q.key == key), None)


def edition(course: Course) -> Edition:
    """The current version, its items and quizzes (three queries)."""
    version = current_version(course)
    items = list(
        db.session.scalars(select(Item).where(Item.version_id == version.id).order_by(Item.position))
    )
    positions = {i.id: i.position for i in items}
    quizzes = sorted(
        db.session.scalars(select(Quiz).where(Quiz.version_id == version.id)),
        key=lambda q: positions.get(q.item_id, 0),
    )
    policy = policy_of(version)
    syllabus = [SyllabusItem(i.key, i.kind, i.title, "", i.content_hash) for i in items]
    return Edition(
        version, items, quizzes, required_keys(syllabus, policy), policy.final_quiz, policy.evaluation
    )


# -- learners' progress ---------------------------------------------------------------------------------


LEARNER_SORTS = ("name", "progress", "score", "enrolled", "activity", "status")
LEARNER_STATUSES = {
    "": "Any status",
    "not_started": "Not started",
    "in_progress": "In progress",
    "completed": "Completed",
    "claimed": "Claimed",
    "certified": "Certified",
    "left": "Left the course",
}
_STATUS_RANK = {"not_started": 0, "in_progress": 1, "completed": 2, "claimed": 3, "certified": 4}


@dataclass(frozen=True)
class LearnerFilter:
    query: str = ""
    status: str = ""
    profession: str = ""
    sort: str = "name"
    descending: bool = False
    page: int = 1


@dataclass
class LearnerRow:
    user_id: int
    name: str
    profession: str
    email: str
    licence_number: str
    enrolled_at: datetime
    left_at: datetime | None
    last_activity_at: datetime
    done: int
    total: int
    final_score: float | None
    status: str
    #: best submitted score per graded quiz key (fractions)
    scores: dict[str, float | None] = field(default_factory=dict)

    @property
    def percent(self) -> int:
        return min(100, (100 * self.done) // self.total) if self.total else 0

    @property
    def status_label(self) -> str:
        return LEARNER_STATUSES.get(self.status, self.status)


@dataclass
class LearnerTable:
    rows: list[LearnerRow]
    total_rows: int
    page: int
    pages: int
    filters: LearnerFilter
    quizzes: list[Quiz]
    required: int


def standings_query(course: Course, ed: Edition) -> Select[Any]:
    """Each learner's items done on this edition, best final score and status rank: the heavy aggregate
    that ``compute_statistics`` stores in ``learner_statistic`` so the learners' table stays fast."""
    version = ed.version
    special = [k for k in (ed.final_key, ed.evaluation_key) if k]
    counts_on_edition = or_(
        and_(Item.key.in_(special), ProgressRecord.version_no == version.number),
        and_(
            Item.key.not_in(special),
            or_(
                Item.content_hash == "",
                ProgressRecord.content_hash == "",
                ProgressRecord.content_hash == Item.content_hash,
            ),
        ),
    )
    done = (
        select(ProgressRecord.user_id, func.count().label("done"))
        .join(Item, and_(Item.version_id == version.id, Item.key == ProgressRecord.item_key))
        .where(ProgressRecord.course_id == course.id, Item.key.in_(ed.required), counts_on_edition)
        .group_by(ProgressRecord.user_id)
        .subquery()
    )
    final = ed.quiz(ed.final_key) if ed.final_key else None
    best = (
        select(Attempt.user_id, func.max(Attempt.score).label("best"))
        .where(Attempt.quiz_id == (final.id if final else -1), _counted())
        .group_by(Attempt.user_id)
        .subquery()
    )
    completed = (
        select(CourseCompletion.user_id)
        .where(CourseCompletion.course_id == course.id)
        .group_by(CourseCompletion.user_id)
        .subquery()
    )
    claimed = (
        select(CertificateClaim.user_id)
        .where(CertificateClaim.course_id == course.id)
        .group_by(CertificateClaim.user_id)
        .subquery()
    )
    certified = (
        select(Certificate.user_id)
        .where(
            Certificate.course_id == course.id,
            Certificate.id.not_in(select(CertificateRevocation.certificate_id)),
        )
        .group_by(Certificate.user_id)
        .subquery()
    )
    done_count = func.coalesce(done.c.done, 0)
    rank = case(
        (certified.c.user_id.is_not(None), 4),
        (claimed.c.user_id.is_not(None), 3),
        (completed.c.user_id.is_not(None), 2),
        (done_count > 0, 1),
        else_=0,
    )
    return (
        select(Enrolment.user_id, done_count.label("done"), best.c.best, rank.label("rank"))
        .outerjoin(done, done.c.user_id == Enrolment.user_id)
        .outerjoin(best, best.c.user_id == Enrolment.user_id)
        .outerjoin(completed, completed.c.user_id == Enrolment.user_id)
        .outerjoin(claimed, claimed.c.user_id == Enrolment.user_id)
        .outerjoin(certified, certified.c.user_id == Enrolment.user_id)
        .where(Enrolment.course_id == course.id, Enrolment.user_id.not_in(_staff_ids()))
    )


_RANK_STATUS = {rank: status for status, rank in _STATUS_RANK.items()}


def _learner_query(course: Course, filters: LearnerFilter, *, admin: bool) -> Select[Any]:
    """Learners with their stored standing (anyone enrolled since the last refresh shows as not started)."""
    ls = LearnerStatistic
    done = func.coalesce(ls.done, 0)
    rank = func.coalesce(ls.status_rank, 0)
    stmt = (
        select(
            User.id,
            User.full_name,
            User.profession,
            User.email,
            User.licence_number,
            Enrolment.enrolled_at,
            Enrolment.left_at,
            Enrolment.last_activity_at,
            done.label("done"),
            ls.best_final.label("best"),
            rank.label("rank"),
        )
        .join(Enrolment, Enrolment.user_id == User.id)
        .outerjoin(ls, and_(ls.course_id == course.id, ls.user_id == User.id))
    )
    stmt = _learner_filters(stmt, course, filters, admin=admin)
    if filters.status in _STATUS_RANK:
        stmt = stmt.where(rank == _STATUS_RANK[filters.status])
    return stmt.order_by(*_order_keys(filters), User.id)


def _order_keys(filters: LearnerFilter) -> list[Any]:
    """The sort of the learners' table (then by account id, so pages never overlap)."""
    ls = LearnerStatistic
    order = {
        "name": (func.lower(User.full_name),),
        "progress": (func.coalesce(ls.done, 0),),
        "score": (func.coalesce(ls.best_final, -1.0),),
        "enrolled": (Enrolment.enrolled_at,),
        "activity": (Enrolment.last_activity_at,),
        "status": (func.coalesce(ls.status_rank, 0),),
    }[filters.sort if filters.sort in LEARNER_SORTS else "name"]
    return [c.desc() if filters.descending else c.asc() for c in order]


def _learner_page_query(course: Course, filters: LearnerFilter, *, admin: bool, offset: int) -> Select[Any]:
    """One page of ``_learner_query``, same rows in the same order.

    Sorted by name, PostgreSQL walks the lower(full_name) index and stops at the page. Sorted by anything
    stored on the enrolment or the standing, the page's account ids are chosen first from those two narrow
    tables (an account is read only when a filter needs it) and only those hundred accounts are then
    joined: sorting 38,000 learners joined with every account took over 100 ms at 100,000 learners
    (bench/SCALE.md), the narrow sort about half of that.
    """
    stmt = _learner_query(course, filters, admin=admin)
    if filters.sort not in LEARNER_SORTS or filters.sort == "name":
        return stmt.limit(LEARNERS_PER_PAGE).offset(offset)
    ls = LearnerStatistic
    ids = select(Enrolment.user_id).outerjoin(
        ls, and_(ls.course_id == course.id, ls.user_id == Enrolment.user_id)
    )
    if _needs_account(filters):
        ids = ids.join(User, User.id == Enrolment.user_id)
    ids = ids.where(*_learner_conditions(course, filters, admin=admin))
    if filters.status in _STATUS_RANK:
        ids = ids.where(func.coalesce(ls.status_rank, 0) == _STATUS_RANK[filters.status])
    page = ids.order_by(*_order_keys(filters), Enrolment.user_id).limit(LEARNERS_PER_PAGE).offset(offset)
    return stmt.where(User.id.in_(page.scalar_subquery()))


def _learner_filters(
    stmt: Select[Any], course: Course, filters: LearnerFilter, *, admin: bool
) -> Select[Any]:
    """The course's learners (not staff) matching the text, profession and "left" filters."""
    return stmt.where(*_learner_conditions(course, filters, admin=admin))


def _needs_account(filters: LearnerFilter) -> bool:
    """The filters read the account (name, contact details, profession), not only the enrolment."""
    return bool(filters.query.strip() or filters.profession)


def _learner_conditions(course: Course, filters: LearnerFilter, *, admin: bool) -> list[ColumnElement[bool]]:
    """The filters as conditions on ``Enrolment`` (and on ``User`` only when ``_needs_account``)."""
    where = [Enrolment.course_id == course.id, Enrolment.user_id.not_in(_staff_ids())]
    text = filters.query.strip()
    if text:
        where.append(_text_match(text, admin=admin))
    if filters.profession:
        where.append(User.profession == filters.profession)
    if filters.status == "left":
        where.append(Enrolment.left_at.is_not(None))
    return where


def _contains(text: str) -> str:
    """A LIKE pattern for "contains ``text``" (``\\`` escapes)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _text_match(text: str, *, admin: bool) -> ColumnElement[bool]:
    """Name (admins: or email, or licence number) contains ``text``, case-blind, as ``ILIKE`` decides.

    Each ``ILIKE`` is paired with a ``LIKE`` on the same text lowercased (the normalised ``search_text``
    for name and email: whatever contains the text also contains it normalised), which PostgreSQL answers
    from the trigram indexes (lms.reports.models) instead of reading every account; the ``ILIKE`` then
    keeps exactly today's matches. On SQLite both are plain filters.
    """
    like = _contains(text)
    normalised = func.lower(User.search_text).like(_contains(normalise_search(text)), escape="\\")
    if not admin:  # only admins see (and so may search) contact details
        return and_(normalised, User.full_name.ilike(like, escape="\\"))
    return or_(
        and_(normalised, or_(User.full_name.ilike(like, escape="\\"), User.email.ilike(like, escape="\\"))),
        and_(
            func.lower(User.licence_number).like(like.lower(), escape="\\"),
            User.licence_number.ilike(like, escape="\\"),
        ),
    )


def _learner_count(course: Course, filters: LearnerFilter, *, admin: bool) -> int:
    """How many learners match (one query). Unlike the page's query it joins the accounts and the stored
    standings only when a filter reads them: counting 38,000 enrolments is then an index-only scan
    instead of a join with every account (about 290 ms at 100,000 learners, bench/SCALE.md)."""
    stmt = select(func.count()).select_from(Enrolment)
    if _needs_account(filters):
        stmt = stmt.join(User, User.id == Enrolment.user_id)
    if filters.status in _STATUS_RANK:
        ls = LearnerStatistic
        stmt = stmt.outerjoin(ls, and_(ls.course_id == course.id, ls.user_id == Enrolment.user_id)).where(
            func.coalesce(ls.status_rank, 0) == _STATUS_RANK[filters.status]
        )
    return db.session.scalar(stmt.where(*_learner_conditions(course, filters, admin=admin))) or 0


def _row(r: Any, total: int) -> LearnerRow:
    return LearnerRow(
        r.id,
        r.full_name,
        r.profession,
        r.email,
        r.licence_number or "",
        r.enrolled_at,
        r.left_at,
        r.last_activity_at,
        r.done,
        total,
        r.best,
        _RANK_STATUS.get(r.rank, "not_started"),
    )


def _best_scores(quizzes: Sequence[Quiz], user_ids: Iterable[int] | None) -> dict[tuple[int, int], float]:
    ids = [q.id for q in quizzes]
    if not ids:
        return {}
    stmt = (
        select(Attempt.user_id, Attempt.quiz_id, func.max(Attempt.score))
        .where(Attempt.quiz_id.in_(ids), _counted())
        .group_by(Attempt.user_id, Attempt.quiz_id)
    )
    if user_ids is not None:
        stmt = stmt.where(Attempt.user_id.in_(list(user_ids)))
    return {(u, q): s for u, q, s in db.session.execute(stmt)}


def learner_table(course: Course, ed: Edition, filters: LearnerFilter, *, admin: bool) -> LearnerTable:
    """One page of the learners' table (three queries: the count, the page, the page's quiz scores)."""
    total_rows = _learner_count(course, filters, admin=admin)
    pages = max(1, -(-total_rows // LEARNERS_PER_PAGE))
    page = min(max(1, filters.page), pages)
    rows = [
        _row(r, len(ed.required))
        for r in db.session.execute(
            _learner_page_query(course, filters, admin=admin, offset=(page - 1) * LEARNERS_PER_PAGE)
        )
    ]
    graded = ed.graded_quizzes
    best = _best_scores(graded, [r.user_id for r in rows]) if rows else {}
    for row in rows:
        row.scores = {q.key: best.get((row.user_id, q.id)) for q in graded}
    return LearnerTable(rows, total_rows, page, pages, filters, graded, len(ed.required))


def _percent(score: float | None) -> str:
    return "" if score is None else f"{score * 100:.1f}"


def learners_csv(course: Course, ed: Edition, filters: LearnerFilter, *, admin: bool) -> str:
    """Every learner matching the filters (not only one page), with each graded quiz's best score."""
    rows = [
        _row(r, len(ed.required)) for r in db.session.execute(_learner_query(course, filters, admin=admin))
    ]
    graded = ed.graded_quizzes
    best = _best_scores(graded, None)
    header = ["name", "profession"]
    if admin:
        header += ["email", "licence_number"]
    header += [
        "enrolled_utc",
        "left_utc",
        "last_activity_utc",
        "items_done",
        "items_required",
        "progress_percent",
    ]
    header += [f"best_percent_{q.key}" for q in graded] + ["status"]
    out = []
    for r in rows:
        cells: list[Any] = [r.name, r.profession]
        if admin:
            cells += [r.email, r.licence_number]
        cells += [
            r.enrolled_at,  # ISO 8601 with the UTC offset (lms.csvutil)
            r.left_at,
            r.last_activity_at,
            r.done,
            r.total,
            r.percent,
        ]
        cells += [_percent(best.get((r.user_id, q.id))) for q in graded] + [r.status]
        out.append(cells)
    return to_csv(header, out)


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """UTF-8 CSV with a byte-order mark, ISO 8601 dates and formula-safe cells (``lms.csvutil``)."""
    return csv_text([header, *rows])


def funnel_csv(steps: Sequence[FunnelStep]) -> str:
    return to_csv(["step", "learners", "percent_of_enrolled"], [(s.key, s.count, s.percent) for s in steps])


# -- precomputed statistics -------------------------------------------------------------------------------


def _first_attempts(quiz_ids: Sequence[int]) -> Any:
    """Each learner's first submitted, counted attempt at each of these quizzes (a subquery).

    Numbered with a window over one scan of the quizzes' attempts: the former join back on
    ``min(number)`` was estimated at one row, so PostgreSQL picked nested loops and sorts on disk for the
    item sums (seconds at 100,000 learners).
    """
    numbered = (
        select(
            Attempt.id,
            Attempt.quiz_id,
            Attempt.points,
            Attempt.score,
            Attempt.passed,
            func.row_number()
            .over(partition_by=(Attempt.quiz_id, Attempt.user_id), order_by=Attempt.number)
            .label("nth"),
        )
        .where(Attempt.quiz_id.in_(quiz_ids), _counted())
        .subquery()
    )
    return (
        select(numbered.c.id, numbered.c.quiz_id, numbered.c.points, numbered.c.score, numbered.c.passed)
        .where(numbered.c.nth == 1)
        .subquery()
    )


def _bin_of(score: Any) -> Any:
    # The same bins as stats.score_bin, in SQL (CAST rounds on PostgreSQL, so no arithmetic tricks).
    return case(
        *((score >= (b / stats.BINS) - 1e-9, b) for b in range(stats.BINS - 1, 0, -1)),
        else_=0,
    )


def _option_key(response: Any) -> list[str]:
    """The options a stored choice response names: "B" → ["B"], ["A", "C"] → both, True → ["true"]."""
    if isinstance(response, bool):
        return ["true" if response else "false"]
    if isinstance(response, str):
        return [response]
    if isinstance(response, list):
        return [str(v) for v in response if isinstance(v, str)]
    return []


def _store_standings(course: Course, ed: Edition) -> None:
    """Replace the course's ``learner_statistic`` rows: one ``INSERT … SELECT`` of the aggregate, so the
    rows never travel to Python and back (38,000 of them per course at 100,000 learners)."""
    db.session.execute(delete(LearnerStatistic).where(LearnerStatistic.course_id == course.id))
    standings = standings_query(course, ed).add_columns(literal(course.id).label("course_id"))
    db.session.execute(
        insert(LearnerStatistic).from_select(
            ["user_id", "done", "best_final", "status_rank", "course_id"], standings
        )
    )


def compute_statistics(course: Course, now: datetime) -> int:
    """Recompute the course's learner standings and current quizzes' statistics; returns how many
    questions were analysed. Idempotent: the course's rows are replaced. A fixed number of aggregate
    queries and bulk inserts whatever the number of learners.
    """
    ed = edition(course)
    graded = ed.graded_quizzes
    _store_standings(course, ed)
    counts = count_funnel(course)
    refreshed = db.session.get(ReportRefresh, course.id)
    if refreshed is None:
        db.session.add(ReportRefresh(course_id=course.id, computed_at=now, funnel=counts))
    else:
        refreshed.computed_at = now
        refreshed.funnel = counts
    db.session.execute(delete(QuizStatistic).where(QuizStatistic.course_id == course.id))
    # Every edition's rows go: questions of older editions are no longer reported.
    course_quizzes = select(Quiz.id).join(CourseVersion, CourseVersion.id == Quiz.version_id)
    db.session.execute(
        delete(ItemStatistic).where(
            ItemStatistic.quiz_id.in_(course_quizzes.where(CourseVersion.course_id == course.id))
        )
    )
    if not graded:
        db.session.flush()
        return 0
    ids = [q.id for q in graded]
    questions = list(db.session.scalars(select(Question).where(Question.quiz_id.in_(ids))))
    first = _first_attempts(ids)
    x = AttemptAnswer.score
    rest = first.c.points - AttemptAnswer.score * Question.points
    sums = db.session.execute(
        select(
            AttemptAnswer.question_id,
            func.count(),
            func.sum(x),
            func.sum(x * x),
            func.sum(rest),
            func.sum(rest * rest),
            func.sum(x * rest),
        )
        .join(first, first.c.id == AttemptAnswer.attempt_id)
        .join(Question, Question.id == AttemptAnswer.question_id)
        .where(AttemptAnswer.score.is_not(None))
        .group_by(AttemptAnswer.question_id)
    ).all()
    response_text = cast(AttemptAnswer.response, String)
    options: dict[int, dict[str, int]] = {}
    blanks: dict[int, int] = {}
    for question_id, text, count in db.session.execute(
        select(AttemptAnswer.question_id, response_text, func.count())
        .join(first, first.c.id == AttemptAnswer.attempt_id)
        .join(Question, Question.id == AttemptAnswer.question_id)
        .where(Question.type.in_(CHOICE_TYPES))
        .group_by(AttemptAnswer.question_id, response_text)
    ):
        chosen = _option_key(json.loads(text)) if text else []
        if not chosen:
            blanks[question_id] = blanks.get(question_id, 0) + count
        for key in chosen:
            bucket = options.setdefault(question_id, {})
            bucket[key] = bucket.get(key, 0) + count
    totals: dict[int, dict[str, Any]] = {
        q: {"n": 0, "sum": 0.0, "sq": 0.0, "score": 0.0, "passed": 0, "hist": [0] * stats.BINS} for q in ids
    }
    bin_ = _bin_of(first.c.score)
    for quiz_id, b, n, s, sq, sc, passed in db.session.execute(
        select(
            first.c.quiz_id,
            bin_,
            func.count(),
            func.sum(first.c.points),
            func.sum(first.c.points * first.c.points),
            func.sum(first.c.score),
            func.sum(case((first.c.passed.is_(True), 1), else_=0)),
        ).group_by(first.c.quiz_id, bin_)
    ):
        t = totals[quiz_id]
        t["n"] += n
        t["sum"] += s or 0.0
        t["sq"] += sq or 0.0
        t["score"] += sc or 0.0
        t["passed"] += passed or 0
        t["hist"][int(b)] += n
    everyone = {
        quiz_id: (all_attempts, ever)
        for quiz_id, all_attempts, ever in db.session.execute(
            select(
                Attempt.quiz_id,
                func.count(),
                func.count(func.distinct(case((Attempt.passed.is_(True), Attempt.user_id)))),
            )
            .where(Attempt.quiz_id.in_(ids), _counted())
            .group_by(Attempt.quiz_id)
        )
    }
    per_quiz = {q: sum(1 for question in questions if question.quiz_id == q) for q in ids}
    for quiz in graded:
        t = totals[quiz.id]
        all_attempts, ever = everyone.get(quiz.id, (0, 0))
        db.session.add(
            QuizStatistic(
                quiz_id=quiz.id,
                course_id=course.id,
                attempts=t["n"],
                sum_points=t["sum"],
                sum_points_sq=t["sq"],
                sum_score=t["score"],
                first_passed=t["passed"],
                ever_passed=ever,
                all_attempts=all_attempts,
                questions=per_quiz[quiz.id],
                draw=int(quiz.settings.get("draw", 0) or 0),
                histogram=t["hist"],
                computed_at=now,
            )
        )
    quiz_of = {q.id: q.quiz_id for q in questions}
    for question_id, n, sx, sx2, sr, sr2, sxr in sums:
        db.session.add(
            ItemStatistic(
                question_id=question_id,
                quiz_id=quiz_of[question_id],
                n=n,
                sum_x=sx or 0.0,
                sum_x2=sx2 or 0.0,
                sum_r=sr or 0.0,
                sum_r2=sr2 or 0.0,
                sum_xr=sxr or 0.0,
                option_counts=options.get(question_id, {}),
                blank=blanks.get(question_id, 0),
                computed_at=now,
            )
        )
    db.session.flush()
    return len(sums)


REFRESH_JOB = "lms.reports.jobs:refresh_statistics"


def statistics_as_of(course: Course) -> datetime | None:
    return db.session.scalar(select(ReportRefresh.computed_at).where(ReportRefresh.course_id == course.id))


def report_refresh(course: Course) -> ReportRefresh | None:
    """The course's last refresh: its "as of" time and the funnel counted then (one query, never cached
    in the session, so a refresh that just ran is seen)."""
    return db.session.scalar(
        select(ReportRefresh)
        .where(ReportRefresh.course_id == course.id)
        .execution_options(populate_existing=True)
    )


def refresh_pending(course: Course) -> bool:
    """A refresh of this course's statistics is queued or running (one query)."""
    args = db.session.scalars(
        select(BackgroundJob.args).where(
            BackgroundJob.name == REFRESH_JOB, BackgroundJob.status.in_(("queued", "running"))
        )
    )
    return any(a.get("course_id") == course.id for a in args)


def needs_refresh(as_of: datetime | None, now: datetime, max_age: timedelta | None) -> bool:
    """Statistics never computed, or older than ``max_age`` (None: only when never computed)."""
    return as_of is None or (max_age is not None and now - as_of > max_age)


# -- quiz results and item analysis ----------------------------------------------------------------------


@dataclass
class QuizResult:
    quiz: Quiz
    stat: QuizStatistic | None

    @property
    def mean_percent(self) -> float | None:
        s = self.stat
        return round(100 * s.sum_score / s.attempts, 1) if s and s.attempts else None

    @property
    def first_pass_percent(self) -> int | None:
        s = self.stat
        return (100 * s.first_passed) // s.attempts if s and s.attempts else None


def quiz_results(course: Course, ed: Edition) -> list[QuizResult]:
    """Each graded quiz of the current edition with its precomputed statistics (one query)."""
    graded = ed.graded_quizzes
    by_quiz = {
        s.quiz_id: s
        for s in db.session.scalars(
            select(QuizStatistic).where(QuizStatistic.quiz_id.in_([q.id for q in graded]))
        )
    }
    return [QuizResult(q, by_quiz.get(q.id)) for q in graded]


def quiz_results_csv(results: Sequence[QuizResult]) -> str:
    rows = []
    for r in results:
        s = r.stat
        rows.append(
            [
                r.quiz.key,
                r.quiz.title,
                s.attempts if s else 0,
                "" if r.mean_percent is None else r.mean_percent,
                "" if r.first_pass_percent is None else r.first_pass_percent,
                s.ever_passed if s else 0,
                s.all_attempts if s else 0,
            ]
        )
    header = [
        "quiz",
        "title",
        "learners_first_attempt",
        "mean_first_attempt_percent",
        "first_attempt_pass_percent",
        "learners_passed_any_attempt",
        "attempts_submitted",
    ]
    return to_csv(header, rows)


@dataclass
class OptionCount:
    key: str
    text: str
    count: int
    correct: bool


@dataclass
class ItemRow:
    number: int
    question: Question
    analysis: stats.ItemAnalysis
    options: list[OptionCount]
    blank: int | None

    @property
    def flag_labels(self) -> list[str]:
        return [stats.FLAG_LABELS[f] for f in self.analysis.flags]


@dataclass
class ItemReport:
    quiz: Quiz
    stat: QuizStatistic | None
    items: list[ItemRow]
    reliability: stats.Reliability | None

    @property
    def histogram(self) -> list[int]:
        return list(self.stat.histogram) if self.stat else [0] * stats.BINS


def _options(question: Question, counts: dict[str, Any]) -> list[OptionCount]:
    spec = question.spec
    if question.type == "true_false":
        return [
            OptionCount("true", "True", int(counts.get("true", 0)), spec.get("answer") is True),
            OptionCount("false", "False", int(counts.get("false", 0)), spec.get("answer") is False),
        ]
    if question.type not in CHOICE_TYPES:
        return []
    correct = {spec.get("answer", "")} if question.type == "single_choice" else set(spec.get("answers", []))
    letters = [chr(ord("A") + i) for i in range(len(spec.get("options", [])))]
    return [
        OptionCount(letter, opt.get("text", ""), int(counts.get(letter, 0)), letter in correct)
        for letter, opt in zip(letters, spec.get("options", []), strict=True)
    ]


def item_report(quiz: Quiz) -> ItemReport:
    """Item analysis of one graded quiz from the precomputed rows (three queries)."""
    stat = db.session.get(QuizStatistic, quiz.id)
    questions = list(
        db.session.scalars(select(Question).where(Question.quiz_id == quiz.id).order_by(Question.position))
    )
    rows_by_question = {
        r.question_id: r
        for r in db.session.scalars(select(ItemStatistic).where(ItemStatistic.quiz_id == quiz.id))
    }
    items = []
    weighted: list[tuple[stats.ItemSums, float]] = []
    for number, q in enumerate(questions, 1):
        row = rows_by_question.get(q.id)
        sums = (
            stats.ItemSums(row.n, row.sum_x, row.sum_x2, row.sum_r, row.sum_r2, row.sum_xr)
            if row
            else stats.ItemSums(0, 0.0, 0.0, 0.0, 0.0, 0.0)
        )
        weighted.append((sums, q.points))
        items.append(
            ItemRow(
                number,
                q,
                stats.analyse_item(sums),
                _options(q, row.option_counts if row else {}),
                (row.blank if row else 0) if q.type in CHOICE_TYPES else None,
            )
        )
    reliability = (
        stats.reliability(weighted, stat.attempts, stat.sum_points, stat.sum_points_sq) if stat else None
    )
    return ItemReport(quiz, stat, items, reliability)


ITEM_SORTS = ("number", "responses", "difficulty", "discrimination")


def sort_items(items: Sequence[ItemRow], sort: str, descending: bool, flagged_only: bool) -> list[ItemRow]:
    """The item table in the chosen order; questions without a figure sort last either way."""
    key = sort if sort in ITEM_SORTS else "number"
    chosen = [i for i in items if i.analysis.flags] if flagged_only else list(items)

    def value(row: ItemRow) -> float | None:
        return {
            "number": row.number,
            "responses": row.analysis.n,
            "difficulty": row.analysis.difficulty,
            "discrimination": row.analysis.discrimination,
        }[key]

    # Ties keep question order whatever the direction (Python's sort stays stable with reverse=True).
    known = sorted(
        (i for i in chosen if value(i) is not None), key=lambda i: value(i) or 0.0, reverse=descending
    )
    return known + [i for i in chosen if value(i) is None]


def _num(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def items_csv(report: ItemReport) -> str:
    header = [
        "number",
        "question",
        "type",
        "points",
        "responses",
        "difficulty",
        "discrimination",
        "flags",
        "blank",
        "option_counts",
    ]
    rows = [
        [
            i.number,
            i.question.key,
            i.question.type,
            f"{i.question.points:g}",
            i.analysis.n,
            _num(i.analysis.difficulty),
            _num(i.analysis.discrimination),
            " ".join(i.analysis.flags),
            "" if i.blank is None else i.blank,
            " ".join(f"{o.key}{'*' if o.correct else ''}:{o.count}" for o in i.options),
        ]
        for i in report.items
    ]
    return to_csv(header, rows)


# -- evaluation summary ----------------------------------------------------------------------------------


@dataclass
class LikertRow:
    question: Question
    labels: list[str]
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)

    def percent(self, count: int) -> int:
        return round(100 * count / self.total) if self.total else 0


@dataclass
class Comments:
    question: Question
    texts: list[str]


@dataclass
class EvaluationSummary:
    quiz: Quiz | None
    responses: int
    likert: list[LikertRow]
    comments: list[Comments]

    @property
    def shown(self) -> bool:
        return self.responses >= MIN_EVALUATION_RESPONSES


DEFAULT_SCALE = ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"]


def evaluation_summary(ed: Edition) -> EvaluationSummary:
    """Likert distributions and comments of the course evaluation; nothing is read below 5 responses.

    Comments are shown without names, newest first. Four queries.
    """
    quiz = ed.quiz(ed.evaluation_key) if ed.evaluation_key else None
    if quiz is None:
        quiz = next((q for q in ed.quizzes if not q.graded), None)
    if quiz is None:
        return EvaluationSummary(None, 0, [], [])
    counted = and_(Attempt.quiz_id == quiz.id, _counted())
    responses = db.session.scalar(select(func.count(func.distinct(Attempt.user_id))).where(counted)) or 0
    if responses < MIN_EVALUATION_RESPONSES:
        return EvaluationSummary(quiz, responses, [], [])
    questions = list(
        db.session.scalars(select(Question).where(Question.quiz_id == quiz.id).order_by(Question.position))
    )
    # The answers are picked by question id (known from the query above), not joined with the questions.
    likert_ids = [q.id for q in questions if q.type == "likert"] or [-1]
    comment_ids = [q.id for q in questions if q.type == "free_text"] or [-1]
    text = cast(AttemptAnswer.response, String)
    counts: dict[int, dict[int, int]] = {}
    for question_id, value, n in db.session.execute(
        select(AttemptAnswer.question_id, text, func.count())
        .join(Attempt, Attempt.id == AttemptAnswer.attempt_id)
        .where(counted, AttemptAnswer.question_id.in_(likert_ids))
        .group_by(AttemptAnswer.question_id, text)
    ):
        parsed = json.loads(value) if value else None
        if isinstance(parsed, int) and not isinstance(parsed, bool):
            bucket = counts.setdefault(question_id, {})
            bucket[parsed] = bucket.get(parsed, 0) + n
    texts: dict[int, list[str]] = {}
    for question_id, value in db.session.execute(
        select(AttemptAnswer.question_id, AttemptAnswer.response)
        .join(Attempt, Attempt.id == AttemptAnswer.attempt_id)
        .where(counted, AttemptAnswer.question_id.in_(comment_ids))
        .order_by(Attempt.submitted_at.desc(), Attempt.id.desc())
    ):
        if isinstance(value, str) and value.strip():
            texts.setdefault(question_id, []).append(value.strip())
    likert = []
    comments = []
    for q in questions:
        if q.type == "likert":
            labels = list(q.spec.get("scale", DEFAULT_SCALE))
            got = counts.get(q.id, {})
            likert.append(LikertRow(q, labels, [got.get(i, 0) for i in range(len(labels))]))
        elif q.type == "free_text":
            comments.append(Comments(q, texts.get(q.id, [])))
    return EvaluationSummary(quiz, responses, likert, comments)


def evaluation_csv(summary: EvaluationSummary) -> str:
    rows: list[list[Any]] = []
    for row in summary.likert:
        for label, count in zip(row.labels, row.counts, strict=True):
            rows.append([row.question.key, "likert", label, count])
    for group in summary.comments:
        for text in group.texts:
            rows.append([group.question.key, "comment", text, ""])
    return to_csv(["question", "kind", "answer", "count"], rows)


__all__ = [
    "can_view_reports",
    "compute_statistics",
    "evaluation_summary",
    "funnel",
    "item_report",
    "learner_table",
]

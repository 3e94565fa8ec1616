"""Report pages for a course's owners, co-authors and administrators, with a CSV of each table.

Access: ``/reports`` is for educators and admins (anyone else: 403). A course's report pages answer 404 to
anyone who is not its owner, a co-author or an admin, so they do not even reveal that the course exists.
Every response is ``Cache-Control: no-store``: reports hold personal data.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from lms import jobs
from lms.auth.models import PROFESSIONS
from lms.auth.permissions import role_required
from lms.catalog.models import Course
from lms.extensions import db
from lms.reports import services as svc
from lms.reports.charts import bin_labels, histogram_svg
from lms.reports.jobs import refresh_statistics
from lms.reports.stats import MIN_RESPONSES_FOR_FLAGS
from lms.timeutil import utcnow

bp = Blueprint("reports", __name__)


@bp.after_request
def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def course_or_404(slug: str) -> Course:
    """The course if the current user may see its reports; 404 for everyone else."""
    course = svc.get_course(slug)
    if course is None or not svc.can_view_reports(current_user, course):
        abort(404)
    return course


def _csv(text: str, filename: str) -> Response:
    return Response(
        text.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _max_age() -> timedelta | None:
    """How old statistics may be before a page queues a refresh; 0 turns that off (cron only)."""
    minutes = int(current_app.config.get("REPORTS_STATS_MAX_AGE_MINUTES", 15))
    return timedelta(minutes=minutes) if minutes > 0 else None


def _keep_fresh(course: Course, as_of: datetime | bool | None = False) -> bool:
    """Queue a statistics refresh when they are missing or stale; True if one is queued or running.

    ``as_of`` is the refresh time when the caller has already read it (False: read it here).
    """
    now = utcnow()
    if as_of is False:
        as_of = svc.statistics_as_of(course)
    if not svc.needs_refresh(as_of, now, _max_age()):
        return False
    if not svc.refresh_pending(course):
        jobs.enqueue(refresh_statistics, course_id=course.id)
        db.session.commit()  # eager (tests) runs it now; otherwise a worker picks it up
    return svc.refresh_pending(course)


@bp.get("")
@role_required("educator", "admin")
def index() -> str:
    return render_template("reports/index.html", courses=svc.reportable_courses(current_user))


@bp.get("/<slug>")
@login_required
def overview(slug: str) -> str:
    course = course_or_404(slug)
    refreshed, refreshing = _fresh_refresh(course)
    ed = svc.edition(course)
    return render_template(
        "reports/overview.html",
        course=course,
        funnel=svc.stored_funnel(refreshed),
        results=svc.quiz_results(course, ed),
        evaluation=ed.quiz(ed.evaluation_key) if ed.evaluation_key else None,
        as_of=refreshed.computed_at if refreshed else None,
        refreshing=refreshing,
        form=FlaskForm(),
    )


def _fresh_refresh(course: Course) -> tuple[svc.ReportRefresh | None, bool]:
    """The course's refresh row (as of, funnel) after queueing a refresh if it is stale or missing, and
    whether a refresh is queued or running.

    One query when the statistics are fresh; the row is read again only after a job was queued (run at
    once in tests and with eager jobs).
    """
    refreshed = svc.report_refresh(course)
    missing_funnel = refreshed is not None and refreshed.funnel is None  # a row from before migration 0015
    refreshing = _keep_fresh(
        course, None if missing_funnel else (refreshed.computed_at if refreshed else None)
    )
    if refreshing or refreshed is None or missing_funnel:
        refreshed = svc.report_refresh(course)
    return refreshed, refreshing


@bp.get("/<slug>/funnel.csv")
@login_required
def funnel_csv(slug: str) -> Response:
    course = course_or_404(slug)
    steps = svc.stored_funnel(_fresh_refresh(course)[0]) or []  # not counted yet: the header only
    return _csv(svc.funnel_csv(steps), f"{course.slug}-funnel.csv")


@bp.get("/<slug>/quizzes.csv")
@login_required
def quizzes_csv(slug: str) -> Response:
    course = course_or_404(slug)
    results = svc.quiz_results(course, svc.edition(course))
    return _csv(svc.quiz_results_csv(results), f"{course.slug}-quizzes.csv")


def _learner_filter() -> svc.LearnerFilter:
    args = request.args
    sort = args.get("sort", "name")
    status = args.get("status", "")
    profession = args.get("profession", "")
    page = args.get("page", "1")
    return svc.LearnerFilter(
        query=args.get("q", "")[:100],
        status=status if status in svc.LEARNER_STATUSES else "",
        profession=profession if profession in PROFESSIONS else "",
        sort=sort if sort in svc.LEARNER_SORTS else "name",
        descending=args.get("dir") == "desc",
        page=int(page) if page.isdecimal() and len(page) < 7 else 1,
    )


@bp.get("/<slug>/learners")
@login_required
def learners(slug: str) -> str:
    course = course_or_404(slug)
    refreshing = _keep_fresh(course)
    admin = svc.is_admin(current_user)
    table = svc.learner_table(course, svc.edition(course), _learner_filter(), admin=admin)
    return render_template(
        "reports/learners.html",
        course=course,
        table=table,
        admin=admin,
        as_of=svc.statistics_as_of(course),
        refreshing=refreshing,
        statuses=svc.LEARNER_STATUSES,
        professions=PROFESSIONS,
    )


@bp.get("/<slug>/learners.csv")
@login_required
def learners_csv(slug: str) -> Response:
    course = course_or_404(slug)
    admin = svc.is_admin(current_user)
    text = svc.learners_csv(course, svc.edition(course), _learner_filter(), admin=admin)
    return _csv(text, f"{course.slug}-learners.csv")


def _graded_quiz_or_404(course: Course, key: str) -> svc.Quiz:
    quiz = svc.edition(course).quiz(key)
    if quiz is None or not quiz.graded:
        abort(404)
    return quiz


@bp.get("/<slug>/quizzes/<key>")
@login_required
def quiz(slug: str, key: str) -> str:
    course = course_or_404(slug)
    refreshing = _keep_fresh(course)
    report = svc.item_report(_graded_quiz_or_404(course, key))
    sort = request.args.get("sort", "number")
    sort = sort if sort in svc.ITEM_SORTS else "number"
    descending, flagged = request.args.get("dir") == "desc", request.args.get("flagged") == "1"
    return render_template(
        "reports/quiz.html",
        course=course,
        report=report,
        items=svc.sort_items(report.items, sort, descending, flagged),
        sort=sort,
        descending=descending,
        flagged=flagged,
        chart=histogram_svg(report.histogram, f"Scores on the first attempt at {report.quiz.title}"),
        bins=list(zip(bin_labels(len(report.histogram)), report.histogram, strict=True)),
        min_flags=MIN_RESPONSES_FOR_FLAGS,
        refreshing=refreshing,
        form=FlaskForm(),
    )


@bp.get("/<slug>/quizzes/<key>/items.csv")
@login_required
def items_csv(slug: str, key: str) -> Response:
    course = course_or_404(slug)
    report = svc.item_report(_graded_quiz_or_404(course, key))
    return _csv(svc.items_csv(report), f"{course.slug}-{key}-items.csv")


@bp.get("/<slug>/evaluation")
@login_required
def evaluation(slug: str) -> str:
    course = course_or_404(slug)
    summary = svc.evaluation_summary(svc.edition(course))
    return render_template(
        "reports/evaluation.html", course=course, summary=summary, minimum=svc.MIN_EVALUATION_RESPONSES
    )


@bp.get("/<slug>/evaluation.csv")
@login_required
def evaluation_csv(slug: str) -> Response:
    course = course_or_404(slug)
    summary = svc.evaluation_summary(svc.edition(course))
    if not summary.shown:
        abort(404)
    return _csv(svc.evaluation_csv(summary), f"{course.slug}-evaluation.csv")


@bp.post("/<slug>/refresh")
@login_required
def refresh(slug: str) -> Response:
    course = course_or_404(slug)
    if not FlaskForm().validate_on_submit():
        abort(400)
    if not svc.refresh_pending(course):
        jobs.enqueue(refresh_statistics, course_id=course.id)
        db.session.commit()
    flash("The statistics are being recalculated. Reload the page in a moment for new figures.", "info")
    target = request.form.get("quiz", "")
    if target and svc.edition(course).quiz(target) is not None:
        return redirect(url_for("reports.quiz", slug=course.slug, key=target))
    return redirect(url_for("reports.overview", slug=course.slug))

"""Quiz pages: start page, attempt (one page or question by question), autosave, submit, review."""

from __future__ import annotations

from datetime import tzinfo
from functools import partial
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from lms.catalog.models import CourseVersion
from lms.catalog.services import published_course_for
from lms.extensions import db, limiter
from lms.plugins import QuestionTypeRegistry
from lms.quizzes import grading, services
from lms.quizzes.window import closed_by_window, in_words, quiz_window
from lms.templating import site_zone
from lms.timeutil import utcnow

bp = Blueprint("quizzes", __name__)


def _registry() -> QuestionTypeRegistry:
    return current_app.extensions["lms"].question_types


def _grace() -> int:
    return int(current_app.config.get("QUIZ_GRACE_SECONDS", 5))


def _zone() -> tzinfo:
    """The site's time zone (LMS_TIMEZONE): quiz open/close times without an offset are read in it."""
    return site_zone(current_app.config.get("TIMEZONE", "UTC"))


def _enrolled_quiz_or_redirect(slug: str, key: str) -> tuple:
    """(course, (quiz, item, version), progress records, None), or a redirect in the last place.

    One statement (the course with the learner's enrolment and progress, as on the lesson page); the quiz
    comes from the per-process content cache. This is the exam's start spike: every examinee loads the
    start page and presses Start within the same minute.
    """
    loaded = published_course_for(slug, current_user)
    if loaded is None:
        abort(404)
    course, enrolment, records = loaded
    if enrolment is None or not enrolment.active:
        flash("Enrol in this course to take its quizzes.", "info")
        return course, None, {}, redirect(url_for("catalog.detail", slug=slug))
    found = services.published_quiz(course, key)
    if found is None:
        abort(404)
    return course, found, records, None


@bp.get("/courses/<slug>/quizzes/<key>")
@login_required
def start(slug: str, key: str) -> str | Response:
    course, found, records, gate = _enrolled_quiz_or_redirect(slug, key)
    if gate is not None:
        return gate
    quiz, item, _version = found
    info = services.overview(current_user.id, course, quiz, item, _registry(), zone=_zone(), records=records)
    when = partial(in_words, zone=_zone())
    return render_template("quizzes/start.html", course=course, info=info, form=FlaskForm(), when=when)


@bp.post("/courses/<slug>/quizzes/<key>/start")
@login_required
def begin(slug: str, key: str) -> Response:
    course, found, records, gate = _enrolled_quiz_or_redirect(slug, key)
    if gate is not None:
        return gate
    if not FlaskForm().validate_on_submit():
        abort(400)
    quiz, _item, _version = found
    try:
        attempt = services.start_attempt(
            current_user.id, course, quiz, _registry(), zone=_zone(), records=records
        )
    except services.QuizError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
        return redirect(url_for("quizzes.start", slug=slug, key=key))
    attempt_id = attempt.id  # read before the commit expires it (else one more SELECT to redirect)
    db.session.commit()
    return redirect(url_for("quizzes.attempt", attempt_id=attempt_id))


def _own_or_404(attempt_id: int, **options: Any) -> services.AttemptContext:
    ctx = services.load_attempt(current_user.id, attempt_id, **options)
    if ctx is None:
        abort(404)  # someone else's attempt looks exactly like a missing one
    return ctx


def _closed_reason(ctx: services.AttemptContext) -> str | None:
    """Why an unsubmitted attempt may not be worked on now: the learner left the course."""
    if ctx.attempt.frozen:
        return "You left this course, so this attempt is closed. Enrol again to start a new attempt."
    if ctx.attempt.is_open and (ctx.enrolment is None or not ctx.enrolment.active):
        return "You are no longer enrolled in this course. Enrol again to continue."
    return None


@bp.get("/attempts/<int(max=2147483647):attempt_id>")
@login_required
def attempt(attempt_id: int) -> str | Response:
    ctx = _own_or_404(attempt_id)
    attempt = ctx.attempt
    # read before a submission below commits (and expires the attempt's loaded quiz)
    ended_by_close = closed_by_window(attempt.deadline_at, quiz_window(attempt.quiz.settings, _zone()))
    if services.finish_if_expired(attempt, _registry(), grace_seconds=_grace()):
        db.session.commit()
        if ended_by_close:
            flash(
                "The quiz has closed. Your attempt was submitted with the answers saved before it closed.",
                "info",
            )
        else:
            flash("Time is up. Your attempt was submitted with the answers saved in time.", "info")
    if attempt.submitted:
        return redirect(url_for("quizzes.review", attempt_id=attempt.id))
    if (reason := _closed_reason(ctx)) is not None:
        flash(reason, "info")
        return redirect(url_for("catalog.detail", slug=ctx.course.slug))
    views = services.question_views(attempt, _registry())
    layout = services.page_layout(
        attempt.quiz.settings,
        len(views),
        request.args.get("q", 1, type=int),
        request.args.get("page", 1, type=int),
    )
    return render_template(
        "quizzes/attempt.html",
        attempt=attempt,
        course=ctx.course,
        views=views,
        step=layout.step,
        page=layout.page,
        pages=layout.pages,
        per_page=layout.per_page,
        registry=_registry(),
        form=FlaskForm(),
        unanswered=sum(1 for v in views if not v.answered),
        **_time_left(attempt),
    )


#: a deadline set by the quiz's closing time shows as a countdown only from this many seconds before it
CLOSE_COUNTDOWN_SECONDS = 24 * 3600


def _time_left(attempt: Any) -> dict[str, Any]:
    """The attempt page's timer: seconds to the deadline, or, when the deadline is a closing time more than a
    day away, the closing time in words (a countdown of weeks helps nobody)."""
    if attempt.deadline_at is None:
        return {"seconds_left": None, "closes_in_words": ""}
    seconds = int((attempt.deadline_at - utcnow()).total_seconds())
    if seconds > CLOSE_COUNTDOWN_SECONDS and closed_by_window(
        attempt.deadline_at, quiz_window(attempt.quiz.settings, _zone())
    ):
        return {"seconds_left": None, "closes_in_words": in_words(attempt.deadline_at, _zone())}
    return {"seconds_left": seconds, "closes_in_words": ""}


@bp.post("/attempts/<int(max=2147483647):attempt_id>/save")
@login_required
@limiter.limit("120 per minute", key_func=lambda: f"user:{current_user.id}", scope="autosave")
def save(attempt_id: int) -> Response | tuple[Response, int]:
    """Autosave (JSON for scripts) and the step-by-step pages' save-and-move (form posts).

    Reads and writes only the answers named in the form, with the attempt row locked (see save_responses).
    """
    ctx = _own_or_404(attempt_id, lock=True, answer_ids=services.answer_ids_in(request.form))
    attempt = ctx.attempt
    wants_json = request.accept_mimetypes.best == "application/json"
    if not FlaskForm().validate_on_submit():
        if wants_json:
            return jsonify(error="The page expired. Reload it to continue."), 400
        abort(400)
    if (reason := _closed_reason(ctx)) is not None:
        if wants_json:
            return jsonify(error=reason), 409
        flash(reason, "info")
        return redirect(url_for("catalog.detail", slug=ctx.course.slug))
    responses = services.parse_responses(
        attempt, request.form, _registry(), only_present=True, answers=ctx.answers
    )
    try:
        saved_at = services.save_responses(attempt, responses, grace_seconds=_grace())
    except services.QuizError as exc:
        db.session.rollback()
        if wants_json:
            return jsonify(error=str(exc)), 409
        flash(str(exc), "warning")
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))
    db.session.commit()
    if wants_json:
        return jsonify(saved_at=saved_at.isoformat() + "Z", saved=len(responses))
    go = request.form.get("go", type=int)
    page = request.form.get("page", type=int)
    return redirect(url_for("quizzes.attempt", attempt_id=attempt.id, q=go, page=page))


@bp.post("/attempts/<int(max=2147483647):attempt_id>/submit")
@login_required
def submit(attempt_id: int) -> Response:
    """Claim first (one conditional UPDATE), then read the attempt once and grade it set-based."""
    if not FlaskForm().validate_on_submit():
        if services.load_attempt(current_user.id, attempt_id) is None:
            abort(404)
        abort(400)
    now = utcnow()
    claimed = services.claim_submission(attempt_id, current_user.id, now)
    ctx = _own_or_404(attempt_id, prior_scores=claimed)
    if not claimed:
        if (reason := _closed_reason(ctx)) is not None:
            flash(reason, "info")
            return redirect(url_for("catalog.detail", slug=ctx.course.slug))
        return redirect(url_for("quizzes.review", attempt_id=attempt_id))
    if ctx.enrolment is None or not ctx.enrolment.active:
        db.session.rollback()  # the claim is undone: a learner who left cannot submit
        flash("You are no longer enrolled in this course. Enrol again to continue.", "info")
        return redirect(url_for("catalog.detail", slug=ctx.course.slug))
    responses = services.parse_responses(ctx.attempt, request.form, _registry(), only_present=True)
    outcome = services.grade_claimed(ctx, responses, _registry(), now, grace_seconds=_grace())
    db.session.commit()
    if outcome.late:
        flash(
            "Time was up when you submitted: the answers saved before the time limit were graded.", "warning"
        )
    return redirect(url_for("quizzes.review", attempt_id=attempt_id))


@bp.get("/attempts/<int(max=2147483647):attempt_id>/review")
@login_required
def review(attempt_id: int) -> str | Response:
    ctx = _own_or_404(attempt_id)
    attempt = ctx.attempt
    if not attempt.submitted:
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))
    course = ctx.course
    found = services.current_quiz(course, attempt.quiz_key)
    item = found[1] if found else None
    quiz = attempt.quiz
    info = services.overview(current_user.id, course, quiz, item, _registry(), zone=_zone()) if item else None
    level = grading.review_level(
        quiz.settings.get("review", "answers"), passed_quiz=bool(info and info.passed)
    )
    version = db.session.get(CourseVersion, quiz.version_id)
    rows = services.review_rows(
        attempt, _registry(), version.details.get("references", []) if version else []
    )
    return render_template(
        "quizzes/review.html", attempt=attempt, course=course, quiz=quiz, rows=rows, level=level, info=info
    )

"""Learner pages: dashboard, resume, lessons and completion."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from lms.catalog.models import Course
from lms.catalog.routes import published_or_404
from lms.catalog.services import course_page, get_enrolment, published_course_for
from lms.extensions import db
from lms.learning import services

bp = Blueprint("learning", __name__)


@bp.app_template_global()
def learner_course_statuses() -> dict[int, str]:
    """For catalog cards: course id → "completed" or "enrolled" for the signed-in learner (else empty).

    Registered by this area so the catalog, which sits below learning, needs no upward import.
    """
    if not current_user.is_authenticated:
        return {}
    return {
        row.course.id: "completed" if row.progress.complete else "enrolled"
        for row in services.dashboard(current_user)
    }


@bp.get("/dashboard")
@login_required
def dashboard() -> str:
    return render_template("learning/dashboard.html", rows=services.dashboard(current_user))


def _require_enrolment(course: Course) -> Response | None:
    enrolment = get_enrolment(current_user, course)
    if enrolment is None or not enrolment.active:
        flash("Enrol in this course to open its lessons and quizzes.", "info")
        return redirect(url_for("catalog.detail", slug=course.slug))
    return None


@bp.get("/courses/<slug>/resume")
@login_required
def resume(slug: str) -> Response:
    """Send the learner to the first unfinished item."""
    course = published_or_404(slug)
    if (gate := _require_enrolment(course)) is not None:
        return gate
    page = course_page(course, current_user)
    target = page.progress.next_item
    if target is None:
        flash("You have finished every item of this course.", "success")
        return redirect(url_for("catalog.detail", slug=slug))
    return redirect(item_url(slug, target.key, target.kind))


def item_url(slug: str, key: str, kind: str) -> str:
    if kind == "lesson":
        return url_for("learning.lesson", slug=slug, key=key)
    return url_for("quizzes.start", slug=slug, key=key)


@bp.get("/courses/<slug>/lessons/<key>")
@login_required
def lesson(slug: str, key: str) -> str | Response:
    found = published_course_for(slug, current_user)  # course, enrolment and progress: one statement
    if found is None:
        abort(404)
    course, enrolment, records = found
    if enrolment is None or not enrolment.active:
        flash("Enrol in this course to open its lessons and quizzes.", "info")
        return redirect(url_for("catalog.detail", slug=course.slug))
    page = services.lesson_page(course, current_user, key, records)
    if page is None:
        abort(404)
    return render_template("learning/lesson.html", page=page)  # its one form takes csrf_token() directly


@bp.post("/courses/<slug>/lessons/<key>/complete")
@login_required
def complete(slug: str, key: str) -> Response:
    course = published_or_404(slug)
    if (gate := _require_enrolment(course)) is not None:
        return gate
    if not FlaskForm().validate_on_submit():
        abort(400)
    page = services.lesson_page(course, current_user, key)
    if page is None:
        abort(404)
    services.record_completion(
        current_user.id, course.id, key, page.version.number, content_hash=page.item.content_hash
    )
    db.session.commit()
    if page.next is not None:
        return redirect(item_url(slug, page.next.key, page.next.kind))
    flash("Lesson complete.", "success")
    return redirect(url_for("catalog.detail", slug=slug))

"""Catalog pages: the course list, a course's page, enrolment and course media."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from lms.auth.permissions import has_role
from lms.catalog import services
from lms.catalog.media import media_version
from lms.catalog.models import Course
from lms.extensions import db
from lms.specialties import normalise_specialty
from lms.staticfiles import LONG_MAX_AGE, SHORT_MAX_AGE, shared_response
from lms.timeutil import utcnow

bp = Blueprint("catalog", __name__)


def published_or_404(slug: str) -> Course:
    course = services.get_published_course(slug)
    if course is None:
        abort(404)
    return course


@bp.get("/courses")
def index() -> str:
    query = request.args.get("q", "")[:100]
    specialty = normalise_specialty(request.args.get("specialty", "")[:120])
    courses = services.published_courses(query, specialty)
    return render_template(
        "catalog/index.html",
        courses=courses,
        lessons=services.matching_lessons(courses, query),
        q=query,
        specialty=specialty,
        # Unfiltered, the list already holds every published course: no second query for the filter menu.
        specialties=services.all_specialties() if query or specialty else services.specialties_of(courses),
    )


@bp.get("/courses/<slug>")
def detail(slug: str) -> str:
    found = services.published_course_for(slug, current_user)  # course, enrolment, progress: one statement
    if found is None:
        abort(404)
    course, enrolment, records = found
    page = services.course_page(course, current_user, (enrolment, records))
    staff = any(has_role(current_user, role) for role in ("educator", "admin"))
    overdue = staff and services.review_is_overdue(page.version, utcnow().date())
    return render_template("catalog/detail.html", page=page, form=FlaskForm(), review_overdue=overdue)


@bp.post("/courses/<slug>/enrol")
@login_required
def enrol(slug: str) -> Response:
    course = published_or_404(slug)
    if not FlaskForm().validate_on_submit():
        abort(400)
    if request.form.get("action") == "leave":
        services.leave(current_user, course)
        db.session.commit()
        flash(f"You have left “{course.title}”. Your progress is kept if you enrol again.", "info")
        return redirect(url_for("catalog.detail", slug=slug))
    services.enrol(current_user, course)
    db.session.commit()
    flash(f"You are enrolled in “{course.title}”.", "success")
    return redirect(url_for("learning.resume", slug=slug))


@bp.get("/courses/<slug>/media/<path:path>")
def media(slug: str, path: str) -> Response:
    """A published course's media file: anyone may load it, as anyone may read the catalog.

    ``?v=`` naming the file's content (lms/catalog/media.py) is cached for a year; any other URL briefly.
    """
    course = published_or_404(slug)
    asset = services.media_asset(course, f"media/{path}")
    if asset is None:
        abort(404)
    shared_response()
    response = Response(mimetype=asset.mime)
    response.set_etag(asset.sha256)
    response.cache_control.public = True
    if request.args.get("v") == media_version(asset.sha256):
        response.cache_control.max_age = LONG_MAX_AGE
        response.cache_control.immutable = True
    else:
        response.cache_control.max_age = SHORT_MAX_AGE
    # SVGs opened directly get no script at all.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'none'; sandbox"
    )
    response.make_conditional(request)
    if response.status_code != 304:
        response.set_data(asset.data)
    return response

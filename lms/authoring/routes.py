"""/author: educators write, import, publish and export their courses.

Access: ``/author`` is for educators and admins (anyone else: 403). A course's authoring pages answer 404 to
anyone who is not its owner, a co-author or an admin. Each handler: load (404) → check → validate → one
service call → commit once → redirect.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.auth.permissions import role_required
from lms.auth.sessionuser import account_of
from lms.authoring import invitations
from lms.authoring import services as svc
from lms.authoring.forms import (
    ActionForm,
    DeleteFileForm,
    FileForm,
    ImageForm,
    ImportForm,
    InviteForm,
    NewCourseForm,
    PublishForm,
)
from lms.catalog.models import Course
from lms.catalog.services import course_staff
from lms.coursepacks.loader import FRONT_MATTER
from lms.coursepacks.markdown import render_markdown
from lms.coursepacks.reader import MEDIA_SUFFIXES
from lms.coursepacks.sources import bundled_packages, entry_point_packages
from lms.extensions import db
from lms.signals import email_confirmed
from lms.timeutil import utcnow

bp = Blueprint("authoring", __name__)


@bp.record_once
def _subscribe(_state: Any) -> None:
    # Registration finishing (email confirmed) turns waiting co-author invitations into co-authorships.
    email_confirmed.connect(invitations.on_email_confirmed)  # blinker keeps one connection per receiver


@bp.after_request
def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _registry() -> Any:
    return current_app.extensions["lms"].question_types


def _sources() -> list:
    root = Path(current_app.config["COURSES_DIR"])
    return bundled_packages(root) + entry_point_packages(current_app.extensions["lms"].course_entry_points)


def course_or_404(slug: str) -> tuple[Course, str]:
    """The course and the user's role on it; 404 for anyone who is not its owner, co-author or an admin."""
    course = svc.get_course(slug)
    role = svc.role_on(current_user, course) if course is not None else None
    if course is None or role is None:
        abort(404)
    return course, role


def _draft_or_redirect(course: Course) -> Any:
    draft = svc.get_draft(course)
    if draft is None:
        flash("Start a draft first.", "error")
    return draft


def _apply_problems(form: Any, error: svc.AuthoringError, field_map: dict[str, str]) -> None:
    """Show a service's problems next to the fields they name; the rest above the form."""
    shown = False
    for problem in error.problems:
        name = field_map.get(problem.file)
        if name and hasattr(form, name):
            getattr(form, name).errors = [*getattr(form, name).errors, str(error)]
            shown = True
    if not shown:
        form.form_errors.append(str(error))


@bp.get("")
@role_required("educator", "admin")
def index() -> str:
    today = utcnow().date()
    rows = []
    for course, role in svc.editable_courses(current_user):
        draft = svc.get_draft(course)
        rows.append((course, role, svc.course_states(course, draft, svc.latest_version(course), today)))
    return render_template("authoring/index.html", rows=rows)


@bp.route("/new", methods=["GET", "POST"])
@role_required("educator", "admin")
def new_course() -> Any:
    form = NewCourseForm()
    if form.validate_on_submit():
        try:
            course = svc.create_course(form.slug.data, form.title.data, current_user, utcnow())
        except svc.AuthoringError as exc:
            db.session.rollback()
            _apply_problems(form, exc, {"slug": "slug", "title": "title"})
        else:
            db.session.commit()
            flash("Course created: its draft has one lesson to start from.", "success")
            return redirect(url_for("authoring.course", slug=course.slug))
    return render_template("authoring/new.html", form=form), 400 if form.errors or form.form_errors else 200


def _course_page(course: Course, role: str, status: int = 200, **forms: Any) -> Any:
    draft = svc.get_draft(course)
    version = svc.latest_version(course)
    problems = svc.validate_draft(course, draft.files, _registry()).problems if draft else []
    files = sorted(draft.files) if draft else []
    context = {
        "course": course,
        "role": role,
        "draft": draft,
        "version": version,
        "files": files,
        "problems": problems,
        "states": svc.course_states(course, draft, version, utcnow().date()),
        "staff": course_staff(course),
        "can_manage_staff": svc.can_manage_staff(current_user, course),
        "invitations": invitations.waiting(course) if svc.can_manage_staff(current_user, course) else [],
        "now": utcnow(),
        "publish_form": forms.get("publish_form") or PublishForm(),
        "image_form": forms.get("image_form") or ImageForm(),
        "import_form": forms.get("import_form") or ImportForm(),
        "invite_form": forms.get("invite_form") or InviteForm(),
        "new_file_form": forms.get("new_file_form") or FileForm(formdata=None),
        "import_problems": forms.get("import_problems") or [],
        "action_form": ActionForm(),
        "delete_form": DeleteFileForm(formdata=None),
    }
    return render_template("authoring/course.html", **context), status


@bp.get("/<slug>")
@login_required
def course(slug: str) -> Any:
    course, role = course_or_404(slug)
    return _course_page(course, role)


@bp.post("/<slug>/draft")
@login_required
def start_draft(slug: str) -> Any:
    course, _role = course_or_404(slug)
    if ActionForm().validate_on_submit():
        try:
            svc.start_draft(course, _sources(), current_user, utcnow())
            db.session.commit()
            flash("The published course was copied into a draft you can edit.", "success")
        except svc.AuthoringError as exc:
            db.session.rollback()
            flash(str(exc), "error")
    return redirect(url_for("authoring.course", slug=slug))


def _preview_html(course: Course, files: dict[str, bytes], path: str, text: str) -> tuple[str, list[str]]:
    """A lesson rendered by the same Markdown code learners see (sanitised), with its problems."""
    match = FRONT_MATTER.match(text)
    body = text[match.end() :] if match else text
    try:
        manifest = tomllib.loads(files.get("course.toml", b"").decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        manifest = {}
    refs = manifest.get("references") if isinstance(manifest.get("references"), list) else []
    numbers = {r.get("key"): n for n, r in enumerate(refs, 1) if isinstance(r, dict)}
    rendered = render_markdown(
        body,
        references=numbers,
        base_dir=path.rsplit("/", 1)[0] if "/" in path else "lessons",
        media_exists=lambda p: p in files,
        media_url=lambda p: url_for("authoring.media", slug=course.slug, path=p.removeprefix("media/")),
    )
    return rendered.html, rendered.problems


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_file(slug: str) -> Any:
    course, _role = course_or_404(slug)
    draft = svc.get_draft(course)
    if draft is None:
        abort(404)
    files = draft.files
    path = request.args.get("path", "") or (request.form.get("path") or "")
    if request.method == "GET":
        current = files.get(path)
        if current is None and not request.args.get("new"):
            abort(404)
        content = current.decode("utf-8", "replace") if current is not None else ""
        form = FileForm(formdata=None, path=path, content=content, base_hash=svc.file_hash(current))
        return _editor(course, draft, form)
    form = FileForm()
    if not form.validate_on_submit():
        return _editor(course, draft, form, status=400)
    text = (form.content.data or "").replace("\r\n", "\n")
    if "preview" in request.form:
        return _editor(course, draft, form, preview_text=text)
    try:
        svc.save_file(
            draft, form.path.data, text.encode("utf-8"), form.base_hash.data or "", current_user, utcnow()
        )
    except svc.EditConflict as conflict:
        db.session.rollback()
        theirs = conflict.theirs.decode("utf-8", "replace") if conflict.theirs is not None else None
        form.base_hash.data = svc.file_hash(conflict.theirs)
        form.content.errors = [
            "Someone else saved this file after you opened it. Their version is shown below; "
            "merge your changes into the box and save again."
        ]
        return _editor(course, draft, form, theirs=theirs, status=409)
    except svc.AuthoringError as exc:
        db.session.rollback()
        form.path.errors = [str(exc)]
        return _editor(course, draft, form, status=400)
    db.session.commit()
    flash(f"Saved {form.path.data}.", "success")
    return redirect(url_for("authoring.edit_file", slug=slug, path=form.path.data))


def _editor(
    course: Course,
    draft: Any,
    form: FileForm,
    *,
    preview_text: str | None = None,
    theirs: str | None = None,
    status: int = 200,
) -> Any:
    path = form.path.data or ""
    files = draft.files
    is_lesson = path.startswith("lessons/") and path.endswith(".md")
    text = preview_text if preview_text is not None else (form.content.data or "")
    preview, preview_problems = _preview_html(course, files, path, text) if is_lesson else ("", [])
    return render_template(
        "authoring/edit.html",
        course=course,
        form=form,
        is_lesson=is_lesson,
        preview=preview,
        preview_problems=preview_problems,
        theirs=theirs,
        delete_form=DeleteFileForm(formdata=None, path=path),
    ), status


@bp.post("/<slug>/preview")
@login_required
def preview(slug: str) -> Any:
    """The live preview behind the editor's script: the lesson as learners will see it (sanitised HTML)."""
    course, _role = course_or_404(slug)
    draft = svc.get_draft(course)
    if draft is None:
        abort(404)
    html, problems = _preview_html(
        course, draft.files, request.form.get("path", ""), request.form.get("content", "")
    )
    return render_template("authoring/_preview.html", preview=html, preview_problems=problems)


@bp.get("/<slug>/media/<path:path>")
@login_required
def media(slug: str, path: str) -> Any:
    course, _role = course_or_404(slug)
    draft = svc.get_draft(course)
    data = draft.files.get(f"media/{path}") if draft else None
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if data is None or suffix not in MEDIA_SUFFIXES:
        abort(404)
    response = Response(data, mimetype=MEDIA_SUFFIXES[suffix])
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/<slug>/delete")
@login_required
def delete_file(slug: str) -> Any:
    course, _role = course_or_404(slug)
    draft = svc.get_draft(course)
    form = DeleteFileForm()
    if draft is None or not form.validate_on_submit():
        abort(400)
    try:
        svc.delete_file(draft, form.path.data, current_user, utcnow())
        db.session.commit()
        flash(f"Deleted {form.path.data} from the draft.", "success")
    except svc.AuthoringError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("authoring.course", slug=slug))


@bp.post("/<slug>/image")
@login_required
def upload_image(slug: str) -> Any:
    course, role = course_or_404(slug)
    draft = svc.get_draft(course)
    form = ImageForm()
    if draft is None:
        abort(404)
    if form.validate_on_submit():
        upload = form.image.data
        try:
            path = svc.upload_image(draft, upload.filename or "", upload.read(), current_user, utcnow())
        except svc.AuthoringError as exc:
            db.session.rollback()
            form.image.errors = [str(exc)]
        else:
            db.session.commit()
            flash(f"Uploaded {path}. In a lesson write: ![description](../{path})", "success")
            return redirect(url_for("authoring.course", slug=slug))
    return _course_page(course, role, 400, image_form=form)


@bp.post("/<slug>/import")
@login_required
def import_package(slug: str) -> Any:
    course, role = course_or_404(slug)
    form = ImportForm()
    import_problems: list = []
    if form.validate_on_submit():
        upload = form.package.data
        try:
            svc.import_package(
                course, upload.read(), upload.filename or "upload.zip", _registry(), current_user, utcnow()
            )
        except svc.AuthoringError as exc:
            db.session.rollback()
            form.package.errors = [str(exc)]
            import_problems = exc.problems
        else:
            db.session.commit()
            flash("The package replaced the draft. Publish it when ready.", "success")
            return redirect(url_for("authoring.course", slug=slug))
    return _course_page(course, role, 400, import_form=form, import_problems=import_problems)


@bp.post("/<slug>/publish")
@login_required
def publish(slug: str) -> Any:
    course, role = course_or_404(slug)
    draft = svc.get_draft(course)
    form = PublishForm()
    if draft is None:
        abort(404)
    if form.validate_on_submit():
        try:
            result = svc.publish(course, draft, _registry(), current_user, form.note.data, utcnow())
        except svc.AuthoringError as exc:
            db.session.rollback()
            form.note.errors = [str(exc)]
        else:
            db.session.commit()
            flash(f"Published version {result.version}. Learners now see it.", "success")
            return redirect(url_for("authoring.history", slug=slug))
    return _course_page(course, role, 400, publish_form=form)


@bp.post("/<slug>/staff")
@login_required
def invite(slug: str) -> Any:
    """Invite a co-author by email: an existing account is added at once, a new address gets a link."""
    course, role = course_or_404(slug)
    if not svc.can_manage_staff(current_user, course):
        abort(403)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            result = invitations.invite(course, form.email.data, current_user, utcnow())
        except svc.AuthoringError as exc:
            db.session.rollback()
            form.email.errors = [str(exc)]
        else:
            db.session.commit()
            if result.added:
                flash(f"{result.email} is now a co-author; we have emailed them.", "success")
            else:
                flash(
                    f"No account uses {result.email} yet: we have emailed an invitation. They become a "
                    "co-author when they register with that address (or follow the link signed in).",
                    "success",
                )
            return redirect(url_for("authoring.course", slug=slug))
    return _course_page(course, role, 400, invite_form=form)


@bp.post("/<slug>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(slug: str, invitation_id: int) -> Any:
    course, _role = course_or_404(slug)
    if not svc.can_manage_staff(current_user, course):
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    invitation = invitations.revoke(course, invitation_id, current_user, utcnow())
    if invitation is None:
        abort(404)
    db.session.commit()
    flash(f"The invitation to {invitation.email} was withdrawn; its link no longer works.", "success")
    return redirect(url_for("authoring.course", slug=slug))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Any:
    """The mailed link. Signed out: how to register or sign in with the invited address. Signed in with that
    address: accept. Signed in as anyone else, or a revoked, expired or unknown link: 404, nothing changes."""
    now = utcnow()
    found = invitations.find(token, now)
    signed_in = current_user.is_authenticated
    if found is not None and signed_in and current_user.email != found.email:
        found = None
    form = ActionForm()
    if found is not None and signed_in and request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        course = invitations.accept(found, account_of(current_user), now)
        if course is None:
            abort(404)
        db.session.commit()
        flash(f"You are now a co-author of {course.title or course.slug}.", "success")
        return redirect(url_for("authoring.course", slug=course.slug))
    course = db.session.get(Course, found.course_id) if found is not None else None
    status = 404 if found is None or (request.method == "POST" and not signed_in) else 200
    return render_template(
        "authoring/invitation.html", invitation=found, course=course, token=token, form=form
    ), status


@bp.get("/<slug>/export.zip")
@login_required
def export(slug: str) -> Any:
    course, _role = course_or_404(slug)
    which = request.args.get("from", "published")
    draft = svc.get_draft(course) if which == "draft" else None
    files = draft.files if draft is not None else svc.published_files(course, _sources())
    if files is None and which != "draft":  # never published: the draft is all there is
        draft = svc.get_draft(course)
        files = draft.files if draft is not None else None
    if files is None:
        abort(404)
    suffix = "-draft" if draft is not None else ""
    return Response(
        svc.export_zip(files, course.slug),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{course.slug}{suffix}.zip"'},
    )


@bp.get("/<slug>/history")
@login_required
def history(slug: str) -> Any:
    course, _role = course_or_404(slug)
    return render_template("authoring/history.html", course=course, rows=svc.history(course))


@bp.get("/<slug>/history/<int:number>")
@login_required
def diff(slug: str, number: int) -> Any:
    course, _role = course_or_404(slug)
    numbers = [r.number for r in svc.history(course)]
    if number not in numbers:
        abort(404)
    against = request.args.get("against", type=int) or max((n for n in numbers if n < number), default=0)
    changes = svc.lesson_diff(course, against, number) if against else None
    return render_template(
        "authoring/diff.html", course=course, number=number, against=against, changes=changes
    )

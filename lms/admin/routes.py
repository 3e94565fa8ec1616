"""Administration pages: accounts, roles, the mail outbox, the flags regrades raise."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from lms.admin import services as admin_services
from lms.admin.forms import DisableForm, EnableForm, GrantAttemptForm, ResolveFlagForm, RoleForm
from lms.auth import services as account_services
from lms.auth.models import ALL_ROLES, User
from lms.auth.permissions import role_required
from lms.authoring import regrade
from lms.catalog.models import Course
from lms.catalog.services import get_published_course
from lms.certificates import serials
from lms.csvutil import csv_text
from lms.extensions import db
from lms.mail import read_outbox, read_outbox_message, redact_links
from lms.quizzes import services as quiz_services
from lms.timeutil import utcnow

bp = Blueprint("admin", __name__)


@bp.app_template_global()
def open_regrade_flags() -> int:
    """For the administrators' certificate queue: flags waiting for a decision (one query).

    Registered by this area so lms/certificates, which sits below authoring, needs no upward import.
    """
    return regrade.open_flag_count()


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/")
@role_required("admin")
def index() -> Response:
    return redirect(url_for("admin.users"))


def _user_filters() -> tuple[str, str, str]:
    query = request.args.get("q", "")[:100]
    role = request.args.get("role", "")
    sort = request.args.get("sort", "joined")
    return query, role if role in ALL_ROLES else "", sort if sort in admin_services.SORTS else "joined"


@bp.get("/users")
@role_required("admin")
def users() -> str:
    query, role, sort = _user_filters()
    rows = admin_services.search_users(query, role, sort)
    return render_template("admin/users.html", users=rows, q=query, role=role, sort=sort, roles=ALL_ROLES)


@bp.get("/users.csv")
@role_required("admin")
def users_csv() -> Response:
    query, role, sort = _user_filters()
    rows = admin_services.users_csv_rows(admin_services.search_users(query, role, sort, None))
    return Response(
        csv_text(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="users.csv"'},
    )


@bp.get("/users/<int(max=2147483647):user_id>")
@role_required("admin")
def user_detail(user_id: int) -> str:
    user = _user_or_404(user_id)
    return _render_detail(user)


def _render_detail(
    user: User,
    role_form: RoleForm | None = None,
    disable_form: DisableForm | None = None,
    grant_form: GrantAttemptForm | None = None,
) -> str:
    return render_template(
        "admin/user_detail.html",
        user=user,
        role_form=role_form or RoleForm(),
        disable_form=disable_form or DisableForm(),
        enable_form=EnableForm(),
        grant_form=grant_form or GrantAttemptForm(),
        events=admin_services.audit_trail(user),
        record=admin_services.user_record(user, utcnow().date()),
    )


@bp.post("/users/<int(max=2147483647):user_id>/roles")
@role_required("admin")
def change_role(user_id: int) -> Response | tuple[str, int]:
    user = _user_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _render_detail(user, role_form=form), 400
    try:
        if form.action.data == "grant":
            account_services.grant_role(user, form.role.data, actor=current_user)
        else:
            account_services.revoke_role(user, form.role.data, actor=current_user)
    except account_services.AccountError as exc:
        db.session.rollback()
        form.role.errors.append(exc.message)
        return _render_detail(user, role_form=form), 400
    db.session.commit()
    flash(f"Roles of {user.full_name} updated.", "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.post("/users/<int(max=2147483647):user_id>/disable")
@role_required("admin")
def disable(user_id: int) -> Response | tuple[str, int]:
    user = _user_or_404(user_id)
    form = DisableForm()
    if not form.validate_on_submit():
        return _render_detail(user, disable_form=form), 400
    try:
        account_services.disable_user(user, form.reason.data, actor=current_user)
    except account_services.AccountError as exc:
        db.session.rollback()
        form.reason.errors.append(exc.message)
        return _render_detail(user, disable_form=form), 400
    db.session.commit()
    flash(f"{user.full_name} can no longer log in. Their records are kept.", "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.post("/users/<int(max=2147483647):user_id>/enable")
@role_required("admin")
def enable(user_id: int) -> Response:
    user = _user_or_404(user_id)
    if EnableForm().validate_on_submit():
        account_services.enable_user(user, actor=current_user)
        db.session.commit()
        flash(f"{user.full_name} can log in again.", "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.post("/users/<int(max=2147483647):user_id>/grant-attempt")
@role_required("admin")
def grant_attempt(user_id: int) -> Response | tuple[str, int]:
    """One extra attempt on a quiz of the current edition (e.g. after three failed finals), audited."""
    user = _user_or_404(user_id)
    form = GrantAttemptForm()
    if not form.validate_on_submit():
        return _render_detail(user, grant_form=form), 400
    course = get_published_course(form.course.data.strip())
    if course is None:
        form.course.errors.append("No published course has this slug.")
        return _render_detail(user, grant_form=form), 400
    try:
        quiz_services.grant_attempt(user.id, course, form.quiz.data.strip(), form.reason.data, current_user)
    except quiz_services.GrantError as exc:
        db.session.rollback()
        form.quiz.errors.append(str(exc))
        return _render_detail(user, grant_form=form), 400
    db.session.commit()
    flash(f"{user.full_name} may start one extra attempt on {course.title}.", "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.get("/outbox")
@role_required("admin")
def outbox() -> str:
    """Metadata only: bodies hold sign-in links, so each is opened (and audited) one at a time."""
    return render_template("admin/outbox.html", messages=read_outbox())


@bp.get("/outbox/<name>")
@role_required("admin")
def outbox_message(name: str) -> str:
    """One message: full text only when it was sent to the viewing admin, links hidden otherwise."""
    message = read_outbox_message(name)
    if message is None:
        abort(404)
    own = message.to.strip().lower() == current_user.email
    body = message.body if own else redact_links(message.body)
    account_services.audit(current_user, "read_mail", "mail", name, f"to {message.to}: {message.subject}")
    db.session.commit()
    return render_template("admin/outbox_message.html", message=message, body=body, own=own)


# -- regrade flags -----------------------------------------------------------------------------------------


def _flag_filters() -> tuple[Course | None, str]:
    slug = request.args.get("course", "")[:80]
    course = db.session.scalar(select(Course).where(Course.slug == slug)) if slug else None
    if slug and course is None:
        abort(404)
    state = request.args.get("state", "open")
    return course, state if state in regrade.FLAG_STATES else "open"


def _flag_form(row: regrade.FlagRow, formdata: bool = False) -> ResolveFlagForm:
    form = ResolveFlagForm(prefix=f"f{row.flag.id}", **({} if formdata else {"formdata": None}))
    form.outcome.choices = row.outcomes()
    return form


def _flags_page(invalid: ResolveFlagForm | None = None, invalid_id: int = 0, status: int = 200) -> Any:
    course, state = _flag_filters()
    rows = regrade.flag_rows(course.id if course else None, state)
    forms = {
        row.flag.id: invalid if row.flag.id == invalid_id and invalid else _flag_form(row)
        for row in rows
        if row.resolution is None
    }
    return render_template(
        "admin/regrade_flags.html",
        rows=rows,
        forms=forms,
        course=course,
        state=state,
        courses=list(db.session.scalars(select(Course).order_by(Course.title))),
        open_count=regrade.open_flag_count(),
        serial_display=serials.display,
        outcome_label=lambda key: regrade.OUTCOMES.get(key, (key,))[0],
    ), status


@bp.get("/regrade-flags")
@role_required("admin")
def regrade_flags() -> Any:
    """Completions, certificates and quiz outcomes a regrade put in doubt: filter, review, resolve."""
    return _flags_page()


@bp.post("/regrade-flags/<int(max=2147483647):flag_id>/resolve")
@role_required("admin")
def resolve_flag(flag_id: int) -> Any:
    """Record the outcome and a note for one flag (a new row; the flag is never changed), audited."""
    row = next(iter(regrade.flag_rows(state="all", flag_id=flag_id)), None) or abort(404)
    if row.resolution is not None:  # e.g. two admins on the same flag: the first decision stands
        flash(f"This flag was already resolved by {row.resolved_by or 'an administrator'}.", "info")
        return redirect(url_for("admin.regrade_flags", state="resolved", _anchor=f"flag-{flag_id}"))
    form = _flag_form(row, formdata=True)
    if form.validate_on_submit():
        try:
            regrade.resolve_flag(flag_id, form.outcome.data, form.note.data, current_user, utcnow())
        except regrade.FlagError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors = [str(exc)]
        else:
            db.session.commit()
            flash(f"Flag resolved: {regrade.OUTCOMES[form.outcome.data][0].lower()}.", "success")
            return redirect(url_for("admin.regrade_flags", **request.args))
    return _flags_page(form, flag_id, 400)

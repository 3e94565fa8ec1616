"""Account pages: register, log in/out, profile, password change and reset."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from lms.auth import notices, services
from lms.auth.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    LoginLinkForm,
    LoginWithLinkForm,
    ProfileForm,
    RegistrationForm,
    ResendConfirmationForm,
    ResetPasswordForm,
    SignOutEverywhereForm,
)
from lms.auth.models import User
from lms.auth.permissions import is_safe_next
from lms.auth.sessionuser import account_of
from lms.errors import render_error
from lms.extensions import db, limiter, login_account_key, rate_limit_wait
from lms.jobs import enqueue
from lms.timeutil import utcnow

bp = Blueprint("auth", __name__)


def _login_limit_address() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ADDRESS"]


def _login_limit_account() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]


def _start_session(user: User, remember: bool = False) -> None:
    """Sign ``user`` in with a new server-side session, committed before the cookies are set."""
    # A fresh session at login: nothing an attacker planted before login survives it.
    session.clear()
    services.start_session(user, utcnow(), remember=remember)
    db.session.commit()
    login_user(user, remember=remember)
    session.permanent = True


def _next_url() -> str:
    target = request.args.get("next")
    return target if is_safe_next(target) else url_for("learning.dashboard")


def _register_limit() -> str:
    return current_app.config["REGISTER_LIMIT_PER_ADDRESS"]


CHECK_EMAIL = "Check your email to finish: we have sent a message to {email}."


@bp.route("/register", methods=["GET", "POST"])
# Only posts that created an account count (see deduct_when): typos on a shared hospital address do not.
@limiter.limit(
    _register_limit,
    methods=["POST"],
    scope="register",
    deduct_when=lambda response: bool(g.get("account_created")),
)
def register() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("learning.dashboard"))
    form = RegistrationForm()
    if form.validate_on_submit():
        data = services.Registration(form.email.data, form.password.data, form.profile_data())
        try:
            user = services.start_registration(data, utcnow())
        except services.AccountError as exc:
            getattr(form, exc.field or "email").errors.append(exc.message)
        else:
            db.session.commit()
            g.account_created = user is not None
            # The same answer whether or not the address already had an account.
            return render_template("auth/check_email.html", email=services.normalise_email(data.email))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status  # type: ignore[return-value]


@bp.get("/confirm-email/<token>")
def confirm_email(token: str) -> Response | tuple[str, int]:
    try:
        user = services.confirm_email(token, utcnow())
    except services.AccountError:
        db.session.rollback()
        return render_template("auth/link_invalid.html", resend_form=ResendConfirmationForm()), 410
    db.session.commit()
    flash(f"Thank you, {user.full_name}: your email address is confirmed. You can log in now.", "success")
    return redirect(url_for("auth.login"))


@bp.post("/confirm-email/resend")
@limiter.limit("10 per hour", methods=["POST"], scope="resend-confirmation")
def resend_confirmation() -> Response:
    form = ResendConfirmationForm()
    if form.validate_on_submit():
        user = services.get_user_by_email(form.email.data)
        if user is not None:
            services.send_confirmation(user, utcnow())
        db.session.commit()
    # The same answer whether or not the account exists (or is already confirmed).
    flash(
        "If an account with that address is waiting for confirmation, we have emailed it a new link.", "info"
    )
    return redirect(url_for("auth.login"))


def _login_page(form: LoginForm, status: int, locked_for: str | None = None) -> tuple[str, int]:
    link_form = LoginLinkForm(email=form.email.data) if locked_for else LoginLinkForm(formdata=None)
    resend_form = ResendConfirmationForm(email=form.email.data, formdata=None)
    return render_template(
        "auth/login.html",
        form=form,
        link_form=link_form,
        resend_form=resend_form,
        locked_for=locked_for,
        unconfirmed=g.get("unconfirmed", False),
    ), status


@bp.route("/login", methods=["GET", "POST"])
# Every attempt is counted before the password is checked, so parallel requests cannot overrun the limits.
@limiter.limit(_login_limit_address, methods=["POST"], scope="login-address")
@limiter.limit(_login_limit_account, key_func=login_account_key, methods=["POST"], scope="login-account")
def login() -> Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(_next_url())
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.UnconfirmedEmail as exc:
            g.unconfirmed = True
            form.form_errors.append(exc.message)
        else:
            if user is not None:
                _start_session(user, remember=form.remember.data)
                return redirect(_next_url())
            form.form_errors.append("The email or password is not correct.")
    return _login_page(form, 400 if form.is_submitted() else 200)


@bp.errorhandler(429)
def too_many_attempts(exc: Exception) -> tuple[str, int]:
    """A paused form keeps what was typed (never the password) and says in words how long to wait."""
    wait = rate_limit_wait(exc)
    if request.endpoint == "auth.login":
        form = LoginForm()
        form.password.data = ""
        form.form_errors.append(
            f"Too many sign-in attempts. For your security, sign-in is paused: wait {wait}, then try again, "
            "or have a one-time sign-in link emailed to you."
        )
        return _login_page(form, 429, locked_for=wait)
    if request.endpoint == "auth.register":
        reg = RegistrationForm()
        reg.password.data = reg.confirm_password.data = ""
        reg.form_errors.append(
            f"Too many accounts were created from your network just now. Wait {wait}, then try again."
        )
        return render_template("auth/register.html", form=reg), 429
    if request.endpoint == "auth.forgot_password":
        forgot = ForgotPasswordForm()
        forgot.form_errors.append(f"Too many reset requests from your network. Wait {wait}, then try again.")
        return render_template("auth/forgot_password.html", form=forgot), 429
    return render_error(429, f"Wait {wait}, then try again.")


@bp.post("/login/link")
@limiter.limit("10 per hour", methods=["POST"], scope="login-link")
def request_login_link() -> Response:
    """Email a one-time sign-in link: the way in for an owner whose sign-in is paused."""
    form = LoginLinkForm()
    if form.validate_on_submit():
        user = services.get_user_by_email(form.email.data)
        if user is not None:
            enqueue(notices.send_login_link, user_id=user.id, issued_at=utcnow().isoformat())
            db.session.commit()
    flash(
        "If an active, confirmed account exists for that address, we have emailed it a sign-in link. "
        f"It works once, for {current_app.config['LOGIN_LINK_MINUTES']} minutes.",
        "info",
    )
    return redirect(url_for("auth.login"))


@bp.route("/login/link/<token>", methods=["GET", "POST"])
def login_with_link(token: str) -> Response | tuple[str, int]:
    """GET only shows a button (mail scanners that open links must not use them up); POST signs in."""
    now = utcnow()
    row = services.find_account_token(token, "login_link", now)
    if row is None or not services.can_use_login_link(row.user):
        return render_template("auth/link_invalid.html", resend_form=None), 410
    form = LoginWithLinkForm()
    if form.validate_on_submit():
        user = services.sign_in_with_link(token, now)
        _start_session(user)
        flash("You are signed in. If you did not expect to be locked out, change your password.", "info")
        return redirect(url_for("learning.dashboard"))
    return render_template("auth/login_link.html", form=form, user=row.user), 200


@bp.post("/logout")
@login_required
def logout() -> Response:
    # The server-side row is revoked, so a copied session or remember-me cookie stops working too.
    services.end_session(current_user.session_key, utcnow())
    db.session.commit()
    # Clear first: logout_user() then records that the remember-me cookie must be deleted too.
    session.clear()
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("main.index"))


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere() -> Response:
    """End every session of this account, on every device, including this one."""
    if not SignOutEverywhereForm().validate_on_submit():
        abort(400)
    user = account_of(current_user)
    count = services.revoke_sessions(user, utcnow())
    services.audit(user, "sign_out_everywhere", "user", user.id, f"{count} sessions")
    db.session.commit()
    session.clear()
    logout_user()
    flash("You are signed out on every device.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile() -> Response | str:
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        services.update_profile(account_of(current_user), form.profile_data())
        db.session.commit()
        flash("Your profile is saved.", "success")
        return redirect(url_for("auth.profile"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/profile.html", form=form, everywhere_form=SignOutEverywhereForm()), status  # type: ignore[return-value]


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per 5 minutes", methods=["POST"], scope="change-password")
def change_password() -> Response | str:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                account_of(current_user), form.current_password.data, form.new_password.data
            )
        except services.AccountError as exc:
            getattr(form, exc.field or "new_password").errors.append(exc.message)
        else:
            db.session.commit()
            _start_session(account_of(current_user))
            flash("Your password is changed. Other devices have been signed out.", "success")
            return redirect(url_for("auth.profile"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/change_password.html", form=form), status  # type: ignore[return-value]


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"], scope="forgot-password")
def forgot_password() -> Response | str:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = services.get_user_by_email(form.email.data)
        if user is not None and user.is_active:
            # The mail (and the token) are made by a background job after commit, off the request path.
            enqueue(notices.send_password_reset, user_id=user.id, issued_at=utcnow().isoformat())
            db.session.commit()
        # The same answer whether or not the account exists.
        flash(
            "If an account exists for that address, we have emailed a link to reset its password.",
            "info",
        )
        return redirect(url_for("auth.login"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/forgot_password.html", form=form), status  # type: ignore[return-value]


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response | str:
    if len(token) > 128:
        abort(404)
    if services.user_for_reset_token(token) is None:
        return render_template("auth/reset_invalid.html"), 410  # type: ignore[return-value]
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.new_password.data)
        except services.AccountError as exc:
            getattr(form, exc.field or "new_password").errors.append(exc.message)
        else:
            db.session.commit()
            flash("Your password is reset. Log in with your new password.", "success")
            return redirect(url_for("auth.login"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/reset_password.html", form=form), status  # type: ignore[return-value]

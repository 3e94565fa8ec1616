"""Account pages: register, log in/out, profile, password change and reset."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from lms.auth import services
from lms.auth.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    RegistrationForm,
    ResetPasswordForm,
    SignOutEverywhereForm,
)
from lms.auth.models import User
from lms.auth.permissions import is_safe_next
from lms.extensions import db, limiter, login_account_key
from lms.mail import send_mail
from lms.timeutil import utcnow
from lms.urls import external_url

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


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"], scope="register")
def register() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("learning.dashboard"))
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            user = services.register(
                services.Registration(form.email.data, form.password.data, form.profile_data())
            )
        except services.AccountError as exc:
            getattr(form, exc.field or "email").errors.append(exc.message)
        else:
            db.session.commit()
            _start_session(user)
            flash(f"Welcome, {user.full_name}. Your account is ready.", "success")
            return redirect(_next_url())
    status = 400 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status  # type: ignore[return-value]


@bp.route("/login", methods=["GET", "POST"])
# Every attempt is counted before the password is checked, so parallel requests cannot overrun the limits.
@limiter.limit(_login_limit_address, methods=["POST"], scope="login-address")
@limiter.limit(_login_limit_account, key_func=login_account_key, methods=["POST"], scope="login-account")
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(_next_url())
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            db.session.commit()
            _start_session(user, remember=form.remember.data)
            return redirect(_next_url())
        form.form_errors.append("The email or password is not correct.")
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status  # type: ignore[return-value]


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
    user = current_user._get_current_object()
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
        services.update_profile(current_user, form.profile_data())
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
            services.change_password(current_user, form.current_password.data, form.new_password.data)
        except services.AccountError as exc:
            getattr(form, exc.field or "new_password").errors.append(exc.message)
        else:
            db.session.commit()
            _start_session(current_user._get_current_object())
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
            token = services.create_reset_token(user)
            db.session.commit()
            link = external_url("auth.reset_password", token=token)
            hours = current_app.config["PASSWORD_RESET_HOURS"]
            send_mail(
                user.email,
                f"Reset your {current_app.config['SITE_NAME']} password",
                render_template("auth/email/reset_password.txt", user=user, link=link, hours=hours),
            )
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

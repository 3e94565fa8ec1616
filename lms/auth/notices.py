"""Account mail, sent by background jobs off the request path.

The request only enqueues ``job(user_id=...)``; the job itself issues the token and sends the message. So
the answer a visitor sees (and how long it takes) is the same whether or not an account exists, and raw tokens
are never written to the job table. Each job is safe to run twice: at worst a second valid link is mailed.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, render_template

from lms.auth import services
from lms.auth.models import User
from lms.extensions import db
from lms.jobs import job
from lms.mail import send_mail
from lms.timeutil import utcnow
from lms.urls import external_url


def _user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def _when(issued_at: str | None) -> datetime:
    """The request's time when the caller passed it (tokens count from the request), else now."""
    return datetime.fromisoformat(issued_at) if issued_at else utcnow()


def _site() -> str:
    return str(current_app.config["SITE_NAME"])


@job
def send_password_reset(user_id: int, issued_at: str | None = None) -> None:
    user = _user(user_id)
    if user is None or not user.is_active:
        return
    token = services.create_reset_token(user, _when(issued_at))
    if token is None:  # per-account limit reached: the earlier links still work
        return
    send_mail(
        user.email,
        f"Reset your {_site()} password",
        render_template(
            "auth/email/reset_password.txt",
            user=user,
            link=external_url("auth.reset_password", token=token),
            hours=current_app.config["PASSWORD_RESET_HOURS"],
        ),
    )


@job
def send_login_link(user_id: int, issued_at: str | None = None) -> None:
    user = _user(user_id)
    if user is None:
        return
    token = services.issue_login_link(user, _when(issued_at))
    if token is None:
        return
    send_mail(
        user.email,
        f"Your one-time {_site()} sign-in link",
        render_template(
            "auth/email/login_link.txt",
            user=user,
            link=external_url("auth.login_with_link", token=token),
            minutes=current_app.config["LOGIN_LINK_MINUTES"],
        ),
    )


@job
def send_confirmation_mail(user_id: int, issued_at: str | None = None) -> None:
    user = _user(user_id)
    if user is None or user.email_confirmed_at is not None or not user.is_active:
        return
    token = services.create_confirmation_token(user, _when(issued_at))
    if token is None:
        return
    send_mail(
        user.email,
        f"Confirm your email address for {_site()}",
        render_template(
            "auth/email/confirm_email.txt",
            user=user,
            link=external_url("auth.confirm_email", token=token),
            hours=current_app.config["CONFIRM_EMAIL_HOURS"],
        ),
    )


@job
def send_registration_attempt_notice(user_id: int) -> None:
    user = _user(user_id)
    if user is None:
        return
    send_mail(
        user.email,
        f"Someone tried to register with your address at {_site()}",
        render_template(
            "auth/email/register_attempt.txt",
            user=user,
            login=external_url("auth.login"),
            forgot=external_url("auth.forgot_password"),
        ),
    )

"""Co-author invitations by email. Services flush only; routes commit; mail goes out through background jobs.

An owner (or an admin) enters an email address:

- the address has an account: it becomes a co-author at once (given the educator role if it lacked it:
  the owner vouches for a colleague) and is told by mail;
- it has none: a pending invitation is stored (the SHA-256 of a token, an expiry) and the mail links to the
  invitation page, which sends them to register or sign in with that address. When an account with that
  address confirms its email (``signals.email_confirmed``), or follows the link while signed in, it becomes
  a co-author. A link followed by anyone else gives nothing (404), as does a revoked or expired one.

As in ``lms.auth.notices``, the raw token is made by the mail job, never written to the job table; every link
is built from ``LMS_BASE_URL``. Every change is audited like the other staff changes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, render_template
from sqlalchemy import select

from lms.auth.models import User
from lms.auth.services import audit, get_user_by_email, grant_role, normalise_email
from lms.authoring.models import CoauthorInvitation
from lms.authoring.services import AuthoringError
from lms.catalog.models import Course, CourseStaff
from lms.catalog.services import add_staff
from lms.coursepacks.manifest import Problem
from lms.extensions import db
from lms.jobs import enqueue, job
from lms.mail import send_mail
from lms.timeutil import utcnow
from lms.urls import external_url

INVITATION_DAYS = 14


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Invited:
    email: str
    #: True: an existing account became a co-author now; False: an invitation waits for registration
    added: bool


def _staff_row(course: Course, user: User) -> CourseStaff | None:
    return db.session.scalar(
        select(CourseStaff).where(CourseStaff.course_id == course.id, CourseStaff.user_id == user.id)
    )


def _make_coauthor(course: Course, user: User, actor: User | None, now: datetime, how: str) -> None:
    grant_role(user, "educator", actor)  # audited there; a no-op for an educator
    add_staff(course, user, "coauthor", now)
    audit(actor, "coauthor_add", "course", course.id, f"{user.email} on {course.slug}: {how}")


def invite(course: Course, email: str, actor: User, now: datetime) -> Invited:
    """Make the account with this email a co-author, or store an invitation for it; mail either way."""
    address = normalise_email(email)
    user = get_user_by_email(address)
    if user is not None:
        row = _staff_row(course, user)
        if row is not None and row.role == "owner":
            raise AuthoringError(f"{user.email} already owns this course", [Problem("email", "owner")])
        if row is not None and user.has_role("educator"):
            raise AuthoringError(f"{user.email} is already a co-author", [Problem("email", "co-author")])
        if not user.is_active:
            raise AuthoringError(f"the account {user.email} is disabled", [Problem("email", "disabled")])
        _make_coauthor(course, user, actor, now, f"added by {actor.email}")
        enqueue(send_coauthor_added, course_id=course.id, user_id=user.id, actor_id=actor.id)
        return Invited(user.email, True)
    for old in _open_invitations(course, address, now):  # a new invitation replaces a waiting one
        old.revoked_at = now
    invitation = CoauthorInvitation(
        course_id=course.id,
        email=address,
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    db.session.add(invitation)
    db.session.flush()
    audit(
        actor,
        "coauthor_invite",
        "course",
        course.id,
        f"{address} to {course.slug} (invitation {invitation.id})",
    )
    enqueue(send_coauthor_invitation, invitation_id=invitation.id)
    return Invited(address, False)


def _open_invitations(course: Course | None, email: str, now: datetime) -> list[CoauthorInvitation]:
    stmt = select(CoauthorInvitation).where(
        CoauthorInvitation.email == email,
        CoauthorInvitation.accepted_at.is_(None),
        CoauthorInvitation.revoked_at.is_(None),
        CoauthorInvitation.expires_at > now,
    )
    if course is not None:
        stmt = stmt.where(CoauthorInvitation.course_id == course.id)
    return list(db.session.scalars(stmt.order_by(CoauthorInvitation.id)))


def waiting(course: Course) -> list[CoauthorInvitation]:
    """Invitations neither accepted nor revoked (expired ones included: the page says so), newest first."""
    return list(
        db.session.scalars(
            select(CoauthorInvitation)
            .where(
                CoauthorInvitation.course_id == course.id,
                CoauthorInvitation.accepted_at.is_(None),
                CoauthorInvitation.revoked_at.is_(None),
            )
            .order_by(CoauthorInvitation.created_at.desc(), CoauthorInvitation.id.desc())
        )
    )


def revoke(course: Course, invitation_id: int, actor: User, now: datetime) -> CoauthorInvitation | None:
    """Withdraw a waiting invitation (its link stops working). None if the course has no such invitation."""
    invitation = db.session.scalar(
        select(CoauthorInvitation).where(
            CoauthorInvitation.id == invitation_id, CoauthorInvitation.course_id == course.id
        )
    )
    if invitation is None or invitation.accepted_at is not None or invitation.revoked_at is not None:
        return None
    invitation.revoked_at = now
    audit(
        actor,
        "coauthor_invite_revoke",
        "course",
        course.id,
        f"{invitation.email} (invitation {invitation.id})",
    )
    db.session.flush()
    return invitation


def find(token: str, now: datetime) -> CoauthorInvitation | None:
    """The waiting, unexpired invitation behind a mailed token, or None."""
    if not token or len(token) > 200:
        return None
    invitation = db.session.scalar(
        select(CoauthorInvitation).where(CoauthorInvitation.token_hash == token_hash(token))
    )
    return invitation if invitation is not None and invitation.pending(now) else None


def accept(invitation: CoauthorInvitation, user: Any, now: datetime) -> Course | None:
    """The invited address's own account becomes a co-author; anyone else gets None (and nothing changes)."""
    if (
        not getattr(user, "is_authenticated", False)
        or not user.is_active
        or normalise_email(user.email) != invitation.email
        or not invitation.pending(now)
    ):
        return None
    course = db.session.get(Course, invitation.course_id)
    if course is None:
        return None
    row = _staff_row(course, user)
    if row is None or row.role != "owner":
        _make_coauthor(course, user, user, now, f"accepted invitation {invitation.id}")
    invitation.accepted_at = now
    invitation.accepted_by_id = user.id
    db.session.flush()
    return course


def on_email_confirmed(user: User, now: datetime | None = None, **_: Any) -> None:
    """Registration finished: every waiting invitation to this address makes its course's co-author."""
    moment = now or utcnow()
    for invitation in _open_invitations(None, normalise_email(user.email), moment):
        accept(invitation, user, moment)


# -- mail (background jobs) ----------------------------------------------------------------------------


def _site() -> str:
    return str(current_app.config["SITE_NAME"])


@job
def send_coauthor_invitation(invitation_id: int) -> None:
    invitation = db.session.get(CoauthorInvitation, invitation_id)
    if invitation is None or not invitation.pending(utcnow()):
        return
    course = db.session.get(Course, invitation.course_id)
    inviter = db.session.get(User, invitation.invited_by_id) if invitation.invited_by_id else None
    token = secrets.token_urlsafe(32)
    invitation.token_hash = token_hash(token)
    db.session.flush()
    send_mail(
        invitation.email,
        f"You are invited to co-author a course on {_site()}",
        render_template(
            "authoring/email/coauthor_invitation.txt",
            course=course,
            inviter=inviter,
            link=external_url("authoring.invitation", token=token),
            days=INVITATION_DAYS,
            expires_at=invitation.expires_at,
        ),
    )


@job
def send_coauthor_added(course_id: int, user_id: int, actor_id: int | None = None) -> None:
    course, user = db.session.get(Course, course_id), db.session.get(User, user_id)
    if course is None or user is None:
        return
    actor = db.session.get(User, actor_id) if actor_id else None
    send_mail(
        user.email,
        f"You are now a co-author of {course.title or course.slug}",
        render_template(
            "authoring/email/coauthor_added.txt",
            course=course,
            user=user,
            inviter=actor,
            link=external_url("authoring.course", slug=course.slug),
        ),
    )

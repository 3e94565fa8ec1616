"""Account rules: registration, authentication, passwords, roles, disabling.

Services take plain arguments, never read the request, and only flush: the caller commits once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2 import Type as Argon2Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from lms.auth.models import (
    GRANTABLE_ROLES,
    AccountToken,
    AuditEvent,
    PasswordResetToken,
    User,
    UserRole,
    UserSession,
)
from lms.auth.sessionuser import SessionUser, load_session_user
from lms.extensions import db
from lms.signals import email_confirmed
from lms.specialties import normalise_specialty
from lms.timeutil import utcnow

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256


class AccountError(Exception):
    """A rule was broken; ``field`` names the form field the message belongs to, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class ProfileData:
    full_name: str
    profession: str
    specialty: str
    country: str
    licence_number: str | None


@dataclass(frozen=True)
class Registration:
    email: str
    password: str
    profile: ProfileData


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _argon2() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=int(cfg.get("PASSWORD_ARGON2_TIME_COST", 2)),
        memory_cost=int(cfg.get("PASSWORD_ARGON2_MEMORY_KIB", 19 * 1024)),
        parallelism=int(cfg.get("PASSWORD_ARGON2_PARALLELISM", 1)),
        type=Argon2Type.ID,
    )


def hash_password(password: str) -> str:
    """A new hash with the configured method: argon2id (production) or a Werkzeug method (tests)."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "argon2id")
    if method == "argon2id":
        return _argon2().hash(password)
    return generate_password_hash(password, method=method)


def verify_password(stored: str, password: str) -> bool:
    """Does ``password`` match ``stored``, whatever method made it (argon2id, scrypt, pbkdf2)?"""
    if stored.startswith("$argon2"):
        try:
            return PasswordHasher().verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    return check_password_hash(stored, password)


def password_needs_rehash(stored: str) -> bool:
    """Was ``stored`` made by another method or weaker parameters than configured now?"""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "argon2id")
    if method == "argon2id":
        if not stored.startswith("$argon2id$"):
            return True
        try:
            return _argon2().check_needs_rehash(stored)
        except InvalidHashError:
            return True
    return stored.split("$", 1)[0] != method


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lms/auth/data/README.md records its source and licence)."""
    path = Path(__file__).parent / "data" / "common-passwords.txt"
    return frozenset(line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines() if line)


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why a new password is refused, or None. Length and a common-password list beat composition rules
    (NIST SP 800-63B)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    if email and password.strip().lower() == normalise_email(email):
        return "Do not use your email address as your password."
    if len(set(password)) < 4 or password.strip().lower() in common_passwords():
        return "This password is too common and easy to guess. Try a passphrase of several words."
    return None


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def _clean_profile(profile: ProfileData) -> ProfileData:
    return ProfileData(
        full_name=" ".join(profile.full_name.split()),
        profession=profile.profession,
        specialty=normalise_specialty(profile.specialty),
        country=profile.country.strip().upper(),
        licence_number=(profile.licence_number or "").strip() or None,
    )


def register(data: Registration) -> User:
    """Create a learner account. Raises AccountError if the email is taken or the password is weak."""
    email = normalise_email(data.email)
    if get_user_by_email(email) is not None:
        raise AccountError(
            "An account with this email already exists. Log in or reset your password.", "email"
        )
    problem = password_problem(data.password, email)
    if problem:
        raise AccountError(problem, "password")
    profile = _clean_profile(data.profile)
    user = User(
        email=email,
        password_hash=hash_password(data.password),
        full_name=profile.full_name,
        profession=profile.profession,
        specialty=profile.specialty,
        country=profile.country,
        licence_number=profile.licence_number,
    )
    db.session.add(user)
    db.session.flush()
    return user


class UnconfirmedEmail(AccountError):
    """The password is right, but the owner has not opened the confirmation link yet."""


def start_registration(data: Registration, now: datetime) -> User | None:
    """Registration as visitors see it: the same answer whether or not the address has an account.

    A new address gets an unconfirmed account and a confirmation link; an address that already has an account
    gets a "someone tried to register with your address" mail instead (None is returned). A weak password
    still raises AccountError, for both cases alike.
    """
    from lms.auth import notices
    from lms.jobs import enqueue

    problem = password_problem(data.password, data.email)
    if problem:
        raise AccountError(problem, "password")
    existing = get_user_by_email(data.email)
    if existing is not None:
        enqueue(notices.send_registration_attempt_notice, user_id=existing.id)
        return None
    user = register(data)
    user.created_at = now
    send_confirmation(user, now)
    return user


def send_confirmation(user: User, now: datetime) -> None:
    """Queue a confirmation mail (a single-use link valid ``CONFIRM_EMAIL_HOURS``, 24 h) for ``user``.

    Used at registration, by "resend the link", and by areas that need a confirmed address (certificate
    claims). Does nothing for a confirmed or disabled account; flushes only, the mail goes after commit.
    """
    from lms.auth import notices
    from lms.jobs import enqueue

    if user.email_confirmed_at is not None or not user.is_active:
        return
    enqueue(notices.send_confirmation_mail, user_id=user.id, issued_at=now.isoformat())


def create_confirmation_token(user: User, now: datetime) -> str | None:
    """A confirmation token (24 h), or None past ``CONFIRM_MAILS_PER_HOUR`` for this account."""
    cfg = current_app.config
    if _recent_tokens(user, "confirm_email", now - timedelta(hours=1)) >= int(
        cfg.get("CONFIRM_MAILS_PER_HOUR", 3)
    ):
        return None
    return _create_account_token(
        user, "confirm_email", now, timedelta(hours=int(cfg.get("CONFIRM_EMAIL_HOURS", 24)))
    )


def confirm_email(token: str, now: datetime) -> User:
    """Use a confirmation link once; raises AccountError when it is invalid, expired or used."""
    row = find_account_token(token, "confirm_email", now)
    if row is None or not row.user.is_active:
        raise AccountError("This confirmation link is invalid, expired or already used. Ask for a new one.")
    row.used_at = now
    if row.user.email_confirmed_at is None:
        row.user.email_confirmed_at = now
        audit(row.user, "email_confirmed", "user", row.user.id, "")
        db.session.flush()
        email_confirmed.send(row.user, now=now)  # e.g. pending co-author invitations to this address
    db.session.flush()
    return row.user


def create_user(
    email: str,
    full_name: str,
    password: str,
    roles: tuple[str, ...] = (),
    *,
    profession: str = "other",
    country: str = "US",
    specialty: str = "",
) -> User:
    """Create an account for scripts and the CLI (same rules as registration)."""
    user = register(
        Registration(
            email=email,
            password=password,
            profile=ProfileData(full_name, profession, specialty, country, None),
        )
    )
    # An operator vouches for the address: CLI-made accounts need no confirmation link.
    user.email_confirmed_at = utcnow()
    for role in roles:
        grant_role(user, role)
    return user


_DUMMY_HASH: str | None = None


def authenticate(email: str, password: str, now: datetime | None = None) -> User | None:
    """The active user with these credentials, or None (same answer for unknown email and bad password)."""
    global _DUMMY_HASH
    user = get_user_by_email(email)
    if user is None:
        # Spend the same time hashing so response times do not reveal which emails exist.
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password(secrets.token_hex(8))
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if not user.is_active:
        return None
    if user.email_confirmed_at is None:
        raise UnconfirmedEmail(
            "Confirm your email address first: open the link we emailed you, or ask for a new one below."
        )
    if password_needs_rehash(user.password_hash):
        # The only moment the plain password is known: an older hash is upgraded transparently.
        user.password_hash = hash_password(password)
    user.last_login_at = now or utcnow()
    return user


def update_profile(user: User, profile: ProfileData) -> None:
    clean = _clean_profile(profile)
    user.full_name = clean.full_name
    user.profession = clean.profession
    user.specialty = clean.specialty
    user.country = clean.country
    user.licence_number = clean.licence_number
    db.session.flush()


def set_password(user: User, new_password: str) -> None:
    problem = password_problem(new_password, user.email)
    if problem:
        raise AccountError(problem, "new_password")
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    now = utcnow()
    # Every route that changes a password (change, reset, CLI) ends every session and every live reset link.
    revoke_sessions(user, now)
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        raise AccountError("Your current password is not correct.", "current_password")
    set_password(user, new_password)
    audit(user, "password_change", "user", user.id, "by the account owner")


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_reset_token(user: User, now: datetime | None = None) -> str | None:
    """Issue a single-use reset token (only its digest is stored), or None past the per-account limit.

    Older live links are not cancelled: otherwise anyone who knows the address could keep killing the
    owner's link by asking again. The limit (``RESET_MAILS_PER_HOUR``) stops the mailbox being flooded, and
    every live link dies when the password changes.
    """
    now = now or utcnow()
    recent = db.session.scalar(
        select(func.count())
        .select_from(PasswordResetToken)
        .where(
            PasswordResetToken.user_id == user.id, PasswordResetToken.created_at > now - timedelta(hours=1)
        )
    )
    if (recent or 0) >= int(current_app.config.get("RESET_MAILS_PER_HOUR", 3)):
        return None
    token = secrets.token_urlsafe(32)
    hours = current_app.config.get("PASSWORD_RESET_HOURS", 2)
    db.session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=_token_digest(token),
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    db.session.flush()
    return token


def user_for_reset_token(token: str, now: datetime | None = None) -> User | None:
    row = _valid_token_row(token, now or utcnow())
    return row.user if row else None


def _valid_token_row(token: str, now: datetime) -> PasswordResetToken | None:
    row = db.session.scalar(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == _token_digest(token))
    )
    if row is None or row.used_at is not None or row.expires_at <= now or not row.user.is_active:
        return None
    return row


def reset_password(token: str, new_password: str, now: datetime | None = None) -> User:
    """Use a reset token once to set a new password."""
    now = now or utcnow()
    row = _valid_token_row(token, now)
    if row is None:
        raise AccountError("This reset link is invalid, expired or already used. Ask for a new one.")
    set_password(row.user, new_password)
    row.used_at = now
    audit(row.user, "password_reset", "user", row.user.id, "by emailed link")
    db.session.flush()
    return row.user


# -- single-use account links (email confirmation, one-time sign-in) ------------------------------------


def _create_account_token(user: User, purpose: str, now: datetime, lifetime: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_token_digest(token),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    db.session.flush()
    return token


def _recent_tokens(user: User, purpose: str, since: datetime) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(AccountToken)
            .where(
                AccountToken.user_id == user.id,
                AccountToken.purpose == purpose,
                AccountToken.created_at > since,
            )
        )
        or 0
    )


def find_account_token(token: str, purpose: str, now: datetime) -> AccountToken | None:
    """The live (unused, unexpired) token row, or None."""
    if not token or len(token) > 128:
        return None
    row = db.session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == _token_digest(token), AccountToken.purpose == purpose
        )
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return row


def can_use_login_link(user: User) -> bool:
    return user.is_active and user.email_confirmed_at is not None


def issue_login_link(user: User, now: datetime) -> str | None:
    """A one-time sign-in token for a locked-out owner, or None (disabled, unconfirmed, over the limit).

    Valid ``LOGIN_LINK_MINUTES`` (15) and single use; at most ``LOGIN_LINKS_PER_HOUR`` per account.
    """
    cfg = current_app.config
    if not can_use_login_link(user):
        return None
    if _recent_tokens(user, "login_link", now - timedelta(hours=1)) >= int(
        cfg.get("LOGIN_LINKS_PER_HOUR", 3)
    ):
        audit(None, "login_link_refused", "user", user.id, "per-account limit")
        return None
    token = _create_account_token(
        user, "login_link", now, timedelta(minutes=int(cfg.get("LOGIN_LINK_MINUTES", 15)))
    )
    audit(None, "login_link_sent", "user", user.id, "")
    return token


def sign_in_with_link(token: str, now: datetime) -> User:
    """Use a one-time sign-in link; raises AccountError when it is not (or no longer) valid."""
    row = find_account_token(token, "login_link", now)
    if row is None or not can_use_login_link(row.user):
        raise AccountError("This sign-in link is invalid, expired or already used. Ask for a new one.")
    row.used_at = now
    row.user.last_login_at = now
    audit(row.user, "login_link_used", "user", row.user.id, "")
    db.session.flush()
    return row.user


def grant_role(user: User, role: str, actor: User | None = None) -> bool:
    """Give ``user`` a role; returns False if they already had it."""
    if role not in GRANTABLE_ROLES:
        raise AccountError(f"Unknown role {role!r}: choose one of {', '.join(GRANTABLE_ROLES)}.")
    if user.has_role(role):
        return False
    user.role_rows.append(UserRole(role=role))
    audit(actor, "grant_role", "user", user.id, role)
    db.session.flush()
    return True


def revoke_role(user: User, role: str, actor: User | None = None) -> bool:
    if role not in GRANTABLE_ROLES:
        raise AccountError(f"Unknown role {role!r}: choose one of {', '.join(GRANTABLE_ROLES)}.")
    rows = [r for r in user.role_rows if r.role == role]
    if not rows:
        return False
    if role == "admin" and actor is not None and actor.id == user.id:
        raise AccountError("You cannot remove your own administrator role.")
    for r in rows:
        user.role_rows.remove(r)
    audit(actor, "revoke_role", "user", user.id, role)
    db.session.flush()
    return True


def disable_user(user: User, reason: str, actor: User | None = None, now: datetime | None = None) -> None:
    """Stop an account from logging in; all its records stay."""
    reason = reason.strip()
    if not reason:
        raise AccountError("Give a reason: it is kept in the audit trail.", "reason")
    if actor is not None and actor.id == user.id:
        raise AccountError("You cannot disable your own account.")
    user.disabled_at = now or utcnow()
    user.disabled_reason = reason
    user.session_version += 1
    revoke_sessions(user, now or utcnow())
    audit(actor, "disable_user", "user", user.id, reason)
    db.session.flush()


def enable_user(user: User, actor: User | None = None) -> None:
    user.disabled_at = None
    user.disabled_reason = None
    audit(actor, "enable_user", "user", user.id, "")
    db.session.flush()


def audit(actor: User | None, action: str, target_type: str, target_id: object, detail: str) -> None:
    db.session.add(
        AuditEvent(
            actor_id=actor.id if actor else None,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            detail=detail,
        )
    )


def count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0


def start_session(user: User, now: datetime, remember: bool = False) -> str:
    """Record a new signed-in session for ``user`` and return its key (for the cookies).

    A new key at every login means a remember-me cookie from an earlier login is never renewed.
    """
    key = secrets.token_urlsafe(32)
    cfg = current_app.config
    lifetime = (
        timedelta(days=cfg.get("REMEMBER_DAYS", 14))
        if remember
        else timedelta(seconds=int(cfg.get("PERMANENT_SESSION_LIFETIME", 12 * 3600)))
    )
    db.session.add(
        UserSession(
            user_id=user.id,
            key_hash=_token_digest(key),
            remember=remember,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    user.session_key = key
    db.session.flush()
    return key


def end_session(key: str | None, now: datetime) -> None:
    """Revoke one session (logout): its session and remember-me cookies stop working everywhere."""
    if not key:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.key_hash == _token_digest(key), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


def revoke_sessions(user: User, now: datetime) -> int:
    """End every session of ``user`` (sign out everywhere, password change or reset, disabling)."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def load_user_from_session(session_id: str, now: datetime | None = None) -> SessionUser | None:
    """Flask-Login loader: the user, their roles and their live server-side session, in one statement.

    Runs on every signed-in request, so it is one prebuilt Core statement read into a light object
    (``lms.auth.sessionuser``), not an ORM user with its role rows; nothing is cached in the process, so a
    revoked session ends at once in every worker.

    The id is ``<user id>.<session key>``; a revoked, expired or unknown key gives no user, whichever cookie
    (session or remember-me) carried it.
    """
    raw_id, _, key = session_id.partition(".")
    if not raw_id.isdigit() or not key or len(key) > 128 or int(raw_id) > 2**31 - 1:
        return None
    return load_session_user(int(raw_id), _token_digest(key), now or utcnow(), key)

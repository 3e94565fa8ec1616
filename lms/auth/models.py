"""Account models: users, their extra roles, and password-reset tokens."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from lms.extensions import db
from lms.textsearch import normalise_search
from lms.timeutil import utcnow

#: Every account is a learner; these are the roles that can be granted on top.
GRANTABLE_ROLES = ("educator", "admin")
ALL_ROLES = ("learner", *GRANTABLE_ROLES)

PROFESSIONS: dict[str, str] = {
    "physician": "Physician",
    "nurse": "Nurse",
    "pharmacist": "Pharmacist",
    "genetic_counsellor": "Genetic counsellor",
    "researcher": "Researcher",
    "other": "Other",
}


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased, so the unique constraint makes emails case-insensitively unique.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200))
    profession: Mapped[str] = mapped_column(String(32))
    specialty: Mapped[str] = mapped_column(String(120), default="")
    country: Mapped[str] = mapped_column(String(2))
    licence_number: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    #: set when the owner opens the emailed confirmation link (or an operator creates the account)
    email_confirmed_at: Mapped[datetime | None]
    #: Bumped on password change/reset and on disabling: every older session stops being valid.
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    #: name and email through ``lms.textsearch.normalise_search``, kept in step by ``_keep_search_text``:
    #: admin search is then one LIKE, accent- and case-blind, on SQLite and PostgreSQL alike.
    search_text: Mapped[str] = mapped_column(Text, default="", nullable=False)

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @validates("full_name", "email")
    def _keep_search_text(self, key: str, value: str) -> str:
        """Whoever creates or renames an account (registration, profile, CLI, admin), the column follows."""
        name = value if key == "full_name" else self.full_name
        email = value if key == "email" else self.email
        self.search_text = search_text_for(name or "", email or "")
        return value

    @property
    def roles(self) -> set[str]:
        return {"learner", *(r.role for r in self.role_rows)}

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.disabled_at is None

    #: the server-side session this object was loaded for (set by the session loader and at login)
    session_key: ClassVar[str | None] = None

    def get_id(self) -> str:
        # The session cookie and the remember-me cookie carry the session's key, never just the user id:
        # revoking the server-side row ends both.
        return f"{self.id}.{self.session_key or ''}"

    @property
    def profession_label(self) -> str:
        return PROFESSIONS.get(self.profession, self.profession)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


def search_text_for(full_name: str, email: str) -> str:
    """What admin search matches against: the normalised name, then the normalised email."""
    return f"{normalise_search(full_name)} {normalise_search(email)}".strip()


class UserRole(db.Model):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="role_rows")


class PasswordResetToken(db.Model):
    """A single-use, expiring reset link. Only the token's SHA-256 is stored."""

    __tablename__ = "password_reset_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class AuditEvent(db.Model):
    """Who did what to which record, and why: accreditors ask for this trail."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship()


class UserSession(db.Model):
    """A signed-in session, kept on the server so logout and "sign out everywhere" really end it.

    The browser holds the raw key (inside the signed session and remember-me cookies); only its SHA-256 is
    stored, so a copy of this table cannot be replayed as cookies.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


#: What an AccountToken is for; each purpose has its own lifetime and rules.
TOKEN_PURPOSES = ("confirm_email", "login_link")


class AccountToken(db.Model):
    """A single-use emailed link (email confirmation, one-time sign-in); only its SHA-256 is stored."""

    __tablename__ = "account_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

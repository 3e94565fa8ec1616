"""The signed-in account as every request sees it: one Core statement, no ORM object.

Loading the session user runs on every signed-in request, so it is one prebuilt statement (the user's
columns, the live server-side session row and the roles in a single row) read into a plain slotted object.
Nothing is cached between requests or in the process: a revoked or expired session ends at once in every
worker. The few pages that change the account itself (profile, password) ask for the ORM row with
``account_of``; reading a column the light object does not carry falls back to it too (one more query).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import bindparam, func, select

from lms.auth.models import PROFESSIONS, User, UserRole, UserSession
from lms.extensions import db

#: the columns pages read from ``current_user``; anything else is loaded on demand (see __getattr__)
_FIELDS = (
    "id",
    "email",
    "full_name",
    "profession",
    "specialty",
    "country",
    "licence_number",
    "created_at",
    "last_login_at",
    "email_confirmed_at",
    "session_version",
)

_user, _session, _role = User.__table__.c, UserSession.__table__.c, UserRole.__table__.c

#: roles come back in the same row: a correlated aggregate (group_concat on SQLite, string_agg on PostgreSQL)
_roles = select(func.aggregate_strings(_role.role, ",")).where(_role.user_id == _user.id).scalar_subquery()

#: built once from table columns (plain Core: no ORM compile or result step) and run on the session's
#: connection; per request only the parameters change, so SQLAlchemy's compiled cache hits at no cost
SESSION_USER = (
    select(*(_user[name] for name in _FIELDS), _roles)
    .select_from(User.__table__.join(UserSession.__table__, _session.user_id == _user.id))
    .where(
        _user.id == bindparam("user_id"),
        _session.key_hash == bindparam("key_hash"),
        _session.revoked_at.is_(None),
        _session.expires_at > bindparam("now"),
        _user.disabled_at.is_(None),
    )
)


class SessionUser(UserMixin):
    """A read-mostly view of the signed-in account (columns, roles, session key).

    Writes to account columns go to the ORM row (``account``) so a service handed ``current_user`` still
    changes the database; the mirrored value follows.
    """

    __slots__ = (*_FIELDS, "roles", "session_key", "_account")

    id: int
    email: str
    full_name: str
    profession: str
    specialty: str
    country: str
    licence_number: str | None
    created_at: datetime
    last_login_at: datetime | None
    email_confirmed_at: datetime | None
    session_version: int
    roles: frozenset[str]
    session_key: str
    _account: User | None

    #: the loader only returns live accounts (``disabled_at IS NULL`` is in the statement)
    is_active = True
    disabled_at = None
    disabled_reason = None

    @classmethod
    def from_row(cls, row: Any, key: str) -> SessionUser:
        user = object.__new__(cls)
        for name, value in zip(_FIELDS, row, strict=False):
            object.__setattr__(user, name, value)
        extra = row[len(_FIELDS)]
        object.__setattr__(user, "roles", frozenset({"learner", *(extra.split(",") if extra else ())}))
        object.__setattr__(user, "session_key", key)
        object.__setattr__(user, "_account", None)
        return user

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def get_id(self) -> str:
        return f"{self.id}.{self.session_key or ''}"

    @property
    def profession_label(self) -> str:
        return PROFESSIONS.get(self.profession, self.profession)

    @property
    def account(self) -> User:
        """The ORM row, loaded on first use in this request (identity map: no query if already there)."""
        if self._account is None:
            found = db.session.get(User, self.id)
            if found is None:  # deleted in the middle of the request
                raise LookupError(f"account {self.id} no longer exists")
            found.session_key = self.session_key
            object.__setattr__(self, "_account", found)
        return self._account  # type: ignore[return-value]

    def __getattr__(self, name: str) -> Any:
        # Only called for names the object does not carry (relationships, rarely read columns).
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.account, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.account, name, value)
        if name in SessionUser.__slots__:
            object.__setattr__(self, name, value)

    def __eq__(self, other: object) -> bool:
        other_id = getattr(other, "id", None)
        return isinstance(other, SessionUser | User) and other_id == self.id

    def __hash__(self) -> int:
        return hash(("user", self.id))

    def __repr__(self) -> str:
        return f"<SessionUser {self.id} {self.email}>"


def load_session_user(user_id: int, key_hash: str, now: datetime, key: str) -> SessionUser | None:
    params = {"user_id": user_id, "key_hash": key_hash, "now": now}
    row = db.session.connection().execute(SESSION_USER, params).first()
    return SessionUser.from_row(row, key) if row is not None else None


def account_of(user: Any) -> User:
    """The ORM account behind ``current_user`` (for the pages that change the account itself)."""
    return user.account if isinstance(user, SessionUser) else user

"""Queries behind the administration screens."""

from __future__ import annotations

from sqlalchemy import or_, select

from lms.auth.models import AuditEvent, User, UserRole
from lms.extensions import db
from lms.textsearch import normalise_search

SORTS = {
    "joined": (User.created_at.desc(), User.id.desc()),
    "name": (User.full_name, User.id),
    "email": (User.email,),
    "profession": (User.profession, User.full_name),
}


def search_users(
    query: str = "", role: str = "", sort: str = "joined", limit: int | None = 500
) -> list[User]:
    """Accounts matching a text query (email or name) and a role, in the chosen order (newest first).

    The query is normalised the way ``User.search_text`` was (accents, case, hyphens), so "NUÑEZ" and
    "nunez" find "Núñez" with one plain LIKE on any database; the email is also matched as typed, so
    "a-b@…" is found by "a-b" too. LIKE wildcards in the query are literal either way.
    """
    stmt = select(User).order_by(*SORTS.get(sort, SORTS["joined"]))
    if limit:
        stmt = stmt.limit(limit)
    if query.strip():
        normalised = normalise_search(query)
        matches = [User.email.like(like_pattern(query.strip().lower()), escape="\\")]
        if normalised:
            matches.append(User.search_text.like(like_pattern(normalised), escape="\\"))
        stmt = stmt.where(or_(*matches))
    if role and role != "learner":
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    return list(db.session.scalars(stmt))


CSV_HEADER = [
    "email",
    "full_name",
    "profession",
    "specialty",
    "country",
    "licence_number",
    "roles",
    "status",
    "joined",
    "last_login",
]


def like_pattern(text: str) -> str:
    """``%text%`` with LIKE's wildcards escaped (``\\`` is the escape character): "50%" matches "50%" only."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def users_csv_rows(users: list[User]) -> list[list[object]]:
    """Header and one row per account; cells are made formula-safe when written (lms/csvutil.py)."""
    rows: list[list[object]] = [list(CSV_HEADER)]
    for u in users:
        rows.append(
            [
                u.email,
                u.full_name,
                u.profession,
                u.specialty,
                u.country,
                u.licence_number,
                " ".join(sorted(u.roles)),
                "disabled" if u.disabled_at else "active",
                u.created_at,
                u.last_login_at,
            ]
        )
    return rows


def audit_trail(user: User, limit: int = 50) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.target_type == "user", AuditEvent.target_id == str(user.id))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))

"""Queries behind the administration screens."""

from __future__ import annotations

from sqlalchemy import or_, select

from lms.auth.models import AuditEvent, User, UserRole
from lms.extensions import db

SORTS = {
    "joined": (User.created_at.desc(), User.id.desc()),
    "name": (User.full_name, User.id),
    "email": (User.email,),
    "profession": (User.profession, User.full_name),
}


def search_users(
    query: str = "", role: str = "", sort: str = "joined", limit: int | None = 500
) -> list[User]:
    """Accounts matching a text query (email or name) and a role, in the chosen order (newest first)."""
    stmt = select(User).order_by(*SORTS.get(sort, SORTS["joined"]))
    if limit:
        stmt = stmt.limit(limit)
    if query:
        like = f"%{query.strip().lower()}%"
        stmt = stmt.where(or_(User.email.like(like), User.full_name.ilike(f"%{query.strip()}%")))
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
    "joined_utc",
    "last_login_utc",
]


def csv_cell(value: object) -> str:
    """A CSV cell that spreadsheet programs will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def users_csv_rows(users: list[User]) -> list[list[str]]:
    rows = [CSV_HEADER]
    for u in users:
        rows.append(
            [
                csv_cell(v)
                for v in (
                    u.email,
                    u.full_name,
                    u.profession,
                    u.specialty,
                    u.country,
                    u.licence_number,
                    " ".join(sorted(u.roles)),
                    "disabled" if u.disabled_at else "active",
                    u.created_at.strftime("%Y-%m-%d %H:%M"),
                    u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "",
                )
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

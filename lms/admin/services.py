"""Queries behind the administration screens."""

from __future__ import annotations

from sqlalchemy import or_, select

from lms.auth.models import AuditEvent, User, UserRole
from lms.extensions import db


def search_users(query: str = "", role: str = "", limit: int = 500) -> list[User]:
    """Accounts matching a text query (email or name) and a role, newest first."""
    stmt = select(User).order_by(User.created_at.desc(), User.id.desc()).limit(limit)
    if query:
        like = f"%{query.strip().lower()}%"
        stmt = stmt.where(or_(User.email.like(like), User.full_name.ilike(f"%{query.strip()}%")))
    if role and role != "learner":
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    return list(db.session.scalars(stmt))


def audit_trail(user: User, limit: int = 50) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.target_type == "user", AuditEvent.target_id == str(user.id))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))

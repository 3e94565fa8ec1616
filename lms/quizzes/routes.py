"""Quiz pages (start, attempt, review)."""

from __future__ import annotations

from flask import Blueprint, abort

bp = Blueprint("quizzes", __name__)


@bp.get("/courses/<slug>/quizzes/<key>")
def start(slug: str, key: str) -> str:
    abort(404)

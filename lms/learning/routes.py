"""Learner pages."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("learning", __name__)


@bp.get("/dashboard")
@login_required
def dashboard() -> str:
    return render_template("learning/dashboard.html", rows=[])

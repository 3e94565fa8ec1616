"""Catalog pages."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("catalog", __name__)


@bp.get("/courses")
def index() -> str:
    return render_template("catalog/index.html", courses=[])

"""``flask reports refresh``: recompute quiz statistics from cron (pages also queue it when stale)."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from lms.catalog.models import Course
from lms.extensions import db
from lms.reports.services import compute_statistics
from lms.timeutil import utcnow

reports_cli = AppGroup("reports", help="Course reports.")


@reports_cli.command("refresh")
@click.argument("slugs", nargs=-1)
def refresh_command(slugs: tuple[str, ...]) -> None:
    """Recompute item and quiz statistics of SLUGS (every course when none is given); one commit each."""
    stmt = select(Course).where(Course.current_version_no > 0).order_by(Course.slug)
    if slugs:
        stmt = stmt.where(Course.slug.in_(slugs))
    courses = list(db.session.scalars(stmt))
    missing = sorted(set(slugs) - {c.slug for c in courses})
    if missing:
        click.echo(f"Error: no stored course with slug {', '.join(missing)}.", err=True)
        sys.exit(1)
    for course in courses:
        questions = compute_statistics(course, utcnow())
        db.session.commit()
        click.echo(f"{course.slug}: {questions} question(s) analysed.")

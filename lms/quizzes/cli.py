"""``flask quizzes import-gift|export-gift``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from lms.auth.services import get_user_by_email
from lms.catalog.models import Course
from lms.coursepacks.gift import GiftEncodingError, decode
from lms.extensions import db
from lms.quizzes import bank
from lms.quizzes.services import GrantError, grant_attempt

quizzes_cli = AppGroup("quizzes", help="Question bank: GIFT import and export; extra attempts.")


def _course_or_exit(slug: str) -> Course:
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        click.echo(f"Error: no course with slug {slug!r}. See: flask --app wsgi courses list", err=True)
        sys.exit(1)
    return course


@quizzes_cli.command("import-gift")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--course", "slug", required=True, help="Slug of the course whose question bank receives them.")
def import_gift_command(file: Path, slug: str) -> None:
    """Add the questions of a GIFT file to a course's question bank; report every one not imported."""
    course = _course_or_exit(slug)
    try:
        text = decode(file.read_bytes())
    except GiftEncodingError as exc:
        click.echo(f"Error: {file}: {exc}", err=True)
        sys.exit(1)
    report = bank.import_gift(course, text, current_app.extensions["lms"].question_types, file.name)
    db.session.commit()
    click.echo(f"Imported {len(report.added)} question(s) into the bank of {course.slug}.")
    for warning in report.warnings:
        click.echo(f"{file}: line {warning.line}: warning: {warning.message}")
    for problem in report.problems:
        click.echo(f"{file}: {problem}")
    if report.problems:
        click.echo(f"{len(report.problems)} question(s) not imported (see above).")
        sys.exit(1)


@quizzes_cli.command("export-gift")
@click.option("--course", "slug", required=True)
@click.option(
    "--quiz", "quiz_key", default=None, help="Export a quiz of the current version instead of the bank."
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export_gift_command(slug: str, quiz_key: str | None, output: Path | None) -> None:
    """Write a course's question bank (or one quiz) as GIFT."""
    course = _course_or_exit(slug)
    if quiz_key:
        specs = bank.quiz_specs(course, quiz_key)
        if specs is None:
            click.echo(f"Error: course {slug} has no quiz {quiz_key!r}.", err=True)
            sys.exit(1)
        categories = None
    else:
        rows = bank.bank_questions(course)
        specs, categories = [spec for _c, spec in rows], [c for c, _s in rows]
    registry = current_app.extensions["lms"].question_types
    export = bank.export_gift(specs, registry, f"{course.slug}/{quiz_key or 'bank'}", categories)
    if output:
        output.write_text(export.text, encoding="utf-8")
        click.echo(f"Wrote {len(specs) - len(export.skipped)} question(s) to {output}.")
    else:
        click.echo(export.text)
    for key in export.skipped:
        click.echo(f"Not exported: {key} (its question type has no GIFT form)", err=True)
    for difference in export.differences:
        click.echo(f"Moodle grades differently: {difference}", err=True)


@quizzes_cli.command("grant-attempt")
@click.argument("email")
@click.option("--course", "slug", required=True, help="Slug of the course.")
@click.option(
    "--quiz", "quiz_key", required=True, help="Key of the quiz (e.g. the final) in the current edition."
)
@click.option("--reason", required=True, help="Why the extra attempt is granted (kept in the audit log).")
def grant_attempt_command(email: str, slug: str, quiz_key: str, reason: str) -> None:
    """Grant a learner one extra attempt on a quiz of the current edition (lock or not); audited."""
    course = _course_or_exit(slug)
    learner = get_user_by_email(email)
    if learner is None:
        click.echo(f"Error: no account with email {email!r}.", err=True)
        sys.exit(1)
    try:
        grant = grant_attempt(learner.id, course, quiz_key, reason, None)
    except GrantError as exc:
        db.session.rollback()
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(
        f"Granted {learner.email} one extra attempt on {course.slug}/{grant.quiz_key} (grant {grant.id})."
    )

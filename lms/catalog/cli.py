"""``flask courses staff add|remove|list``: who owns and co-authors a course (usable before authoring)."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from lms.auth.models import User
from lms.catalog import services
from lms.catalog.models import STAFF_ROLES, Course
from lms.extensions import db

staff_cli = AppGroup("staff", help="Owners and co-authors of a course (they see its reports).")


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _course(slug: str) -> Course:
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        _fail(f'no course with slug "{slug}" (see: flask --app wsgi courses list).')
    return course  # type: ignore[return-value]


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        _fail(f"no account with email {email}.")
    return user  # type: ignore[return-value]


@staff_cli.command("add")
@click.argument("slug")
@click.argument("email")
@click.option("--role", type=click.Choice(STAFF_ROLES), default="coauthor", show_default=True)
def add_command(slug: str, email: str, role: str) -> None:
    """Make the educator EMAIL the owner or a co-author of course SLUG."""
    course, user = _course(slug), _user(email)
    try:
        services.add_staff(course, user, role)
    except services.StaffError as exc:
        db.session.rollback()
        _fail(str(exc))
    db.session.commit()
    click.echo(f"{user.email} is now {role} of {course.slug}.")


@staff_cli.command("remove")
@click.argument("slug")
@click.argument("email")
def remove_command(slug: str, email: str) -> None:
    """Take EMAIL off the staff of course SLUG."""
    course, user = _course(slug), _user(email)
    if not services.remove_staff(course, user):
        _fail(f"{user.email} is not on the staff of {course.slug}.")
    db.session.commit()
    click.echo(f"{user.email} is no longer on the staff of {course.slug}.")


@staff_cli.command("list")
@click.argument("slug")
def list_command(slug: str) -> None:
    """Show the owners and co-authors of course SLUG."""
    rows = services.course_staff(_course(slug))
    if not rows:
        click.echo(f"{slug} has no owner or co-author yet (admins can always open its reports).")
        return
    for staff, user in rows:
        click.echo(f"{staff.role:<9} {user.email}  {user.full_name}")

"""``flask courses export SLUG -o FILE.zip`` and ``flask courses import FILE.zip`` (into the draft)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.authoring import services as svc
from lms.coursepacks.sources import bundled_packages, entry_point_packages
from lms.extensions import db
from lms.timeutil import utcnow


def _sources() -> list:
    root = Path(current_app.config["COURSES_DIR"])
    return bundled_packages(root) + entry_point_packages(current_app.extensions["lms"].course_entry_points)


@click.command("export")
@with_appcontext
@click.argument("slug")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--draft", is_flag=True, help="Export the course's draft instead of its published package.")
def export_command(slug: str, output: Path, draft: bool) -> None:
    """Write course SLUG as a package zip (deterministic bytes: same content, same file)."""
    course = svc.get_course(slug)
    if course is None:
        click.echo(f'Error: no course with slug "{slug}" (see: flask --app wsgi courses list).', err=True)
        sys.exit(1)
    the_draft = svc.get_draft(course) if draft else None
    if draft and the_draft is None:
        click.echo(f"Error: {slug} has no draft.", err=True)
        sys.exit(1)
    files = the_draft.files if the_draft is not None else svc.published_files(course, _sources())
    if files is None:
        click.echo(
            f"Error: the package files of {slug} (source {course.source}) are not available.", err=True
        )
        sys.exit(1)
    output.write_bytes(svc.export_zip(files, slug))
    click.echo(f"✓ {slug}: {len(files)} files written to {output}")


@click.command("import")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(path: Path) -> None:
    """Load a package zip into its course's draft (created if new); publish it from /author.

    Nothing is stored unless the whole package passes validation. ``courses sync`` still publishes directly.
    """
    registry = current_app.extensions["lms"].question_types
    try:
        course, draft = svc.import_package(None, path.read_bytes(), path.name, registry, None, utcnow())
    except svc.AuthoringError as exc:
        db.session.rollback()
        click.echo(f"✗ {exc}: {len(exc.problems)} problem(s)", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(
        f"✓ {course.slug}: imported into the draft (revision {draft.revision}); "
        f"publish it from /author/{course.slug}"
    )

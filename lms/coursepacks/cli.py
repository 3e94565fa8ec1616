"""``flask courses validate|sync|list``."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from lms.catalog.models import Course
from lms.catalog.sync import SyncError, store_package
from lms.coursepacks.currency import REVIEW_MONTHS, review_overdue
from lms.coursepacks.loader import load_package
from lms.coursepacks.sources import FoundPackage, bundled_packages, entry_point_packages, read_path
from lms.extensions import db
from lms.timeutil import utcnow

AUTHORED = "authored"  # lms.authoring.services.AUTHORED (catalog must not import authoring)

courses_cli = AppGroup("courses", help="Validate, store and list course packages.")


def _registry():
    return current_app.extensions["lms"].question_types


def _all_sources() -> list[FoundPackage]:
    root = Path(current_app.config["COURSES_DIR"])
    return bundled_packages(root) + entry_point_packages(current_app.extensions["lms"].course_entry_points)


@courses_cli.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The date to judge currency against (YYYY-MM-DD; default: today, UTC).",
)
def validate_command(paths: tuple[Path, ...], today: object) -> None:
    """Check course packages (folders or .zip files); exit 1 if any has a problem.

    A published course reviewed more than 12 months before today gets a "review overdue" warning (exit 0).
    """
    day: date = today.date() if today is not None else utcnow().date()  # type: ignore[attr-defined]
    failed = 0
    slugs: dict[str, str] = {}
    for path in paths:
        if not path.exists():
            click.echo(f"{path}: does not exist", err=True)
            failed += 1
            continue
        found = read_path(path)
        result = load_package(found.files, _registry())
        problems = [str(p) for p in result.problems]
        if result.package is not None:
            other = slugs.get(result.package.slug)
            if other:
                problems.append(f'course.toml: duplicate slug "{result.package.slug}" (also used by {other})')
            slugs[result.package.slug] = str(path)
        if problems:
            failed += 1
            click.echo(f"✗ {path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}")
            for problem in problems:
                click.echo(f"  {path}/{problem}" if not problem.startswith(str(path)) else f"  {problem}")
        else:
            pkg = result.package
            assert pkg is not None
            questions = sum(len(q.questions) for q in pkg.quizzes())
            click.echo(
                f"✓ {path}: {pkg.slug} {pkg.edition} — {len(pkg.modules)} modules, "
                f"{len(pkg.lessons())} lessons, {len(pkg.quizzes())} quizzes, {questions} questions, "
                f"{pkg.total_minutes} minutes of content (pre-test excluded)"
            )
            if review_overdue(pkg.dates.last_review, day, status=pkg.status):
                click.echo(
                    f"  ⚠ warning: {path}/course.toml: dates: review overdue: last_review "
                    f"{pkg.dates.last_review.isoformat()} is more than {REVIEW_MONTHS} months before "
                    f"{day.isoformat()}; check the facts and update last_review"
                )
    sys.exit(1 if failed else 0)


@courses_cli.command("sync")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def sync_command(paths: tuple[Path, ...]) -> None:
    """Store packages in the database (bundled and installed ones when no PATH is given).

    Each course is one transaction; running it twice changes nothing; a changed package becomes a new version.
    """
    found = [read_path(p) for p in paths] if paths else _all_sources()
    if not found:
        click.echo("No course packages found.")
        return
    failed = 0
    seen: dict[str, str] = {}
    for pkg_found in found:
        result = load_package(pkg_found.files, _registry())
        if not result.ok:
            failed += 1
            click.echo(f"✗ {pkg_found.label}: not stored, {len(result.problems)} problem(s)")
            for problem in result.problems:
                click.echo(f"  {problem}")
            continue
        pkg = result.package
        assert pkg is not None
        if pkg.slug in seen:
            failed += 1
            click.echo(
                f'✗ {pkg_found.label}: not stored, duplicate slug "{pkg.slug}" (also in {seen[pkg.slug]})'
            )
            continue
        seen[pkg.slug] = pkg_found.label
        stored = db.session.scalar(select(Course).where(Course.slug == pkg.slug))
        if stored is not None and stored.source == AUTHORED and pkg_found.source != AUTHORED:
            # Edited in the browser: its draft and publications own it now; a package must not overwrite them.
            click.echo(
                f"- {pkg.slug}: left alone, it is edited in the browser (source authored, "
                f"version {stored.current_version_no}); import the package into its draft to use it"
            )
            continue
        try:
            outcome = store_package(pkg, pkg_found.source)
            db.session.commit()
        except SyncError as exc:
            db.session.rollback()
            failed += 1
            click.echo(f"✗ {pkg_found.label}: not stored, {exc}")
            continue
        mark = "=" if outcome.status == "unchanged" else "✓"
        click.echo(f"{mark} {pkg.slug}: {outcome.status} (version {outcome.version})")
    sys.exit(1 if failed else 0)


@courses_cli.command("list")
def list_command() -> None:
    """Show stored courses: slug, version, source and status."""
    courses = db.session.scalars(select(Course).order_by(Course.slug)).all()
    if not courses:
        click.echo("No courses stored yet. Run: flask --app wsgi courses sync")
        return
    click.echo(f"{'slug':<32} {'version':>7}  {'source':<36} status")
    for course in courses:
        click.echo(f"{course.slug:<32} {course.current_version_no:>7}  {course.source:<36} {course.status}")


@courses_cli.command("schema")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def schema_command(output: Path | None) -> None:
    """Write the package format as JSON Schema (for authors' editors); to stdout without -o."""
    import json

    from lms.coursepacks.schema import json_schema

    text = json.dumps(json_schema(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"✓ JSON Schema written to {output}")

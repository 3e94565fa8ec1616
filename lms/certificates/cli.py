"""``flask certificates``: issuance and records for scripts and cron (the same services as the pages)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.auth.models import AuditEvent
from lms.catalog.models import Course
from lms.certificates import serials
from lms.certificates import services as svc
from lms.extensions import db
from lms.timeutil import utcnow


@click.group("certificates")
def certificates_cli() -> None:
    """Certificates: list, issue, revoke, export, import, remind, rotate-key."""


def _course(slug: str | None) -> Course | None:
    if not slug:
        return None
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        raise click.ClickException(f'no course "{slug}"')
    return course


def _settings() -> svc.IssuerSettings:
    from lms.certificates.routes import issuer_settings

    return issuer_settings()


@certificates_cli.command("list")
@click.option("--course", "slug", help="Course slug.")
@click.option(
    "--status", default="", help="pending | declined | valid | expiring soon | expired | revoked | superseded"
)
@with_appcontext
def list_command(slug: str | None, status: str) -> None:
    """One line each: serial first where there is one, then state, learner, course, edition, hours."""
    course = _course(slug)
    course_id = course.id if course else None
    if status in ("", "pending", "declined"):
        for state in ("pending", "declined") if not status else (status,):
            for row in svc.queue(course_id, state, 100000):
                click.echo(
                    f"-\t{row.state}\t{row.user.email}\t{row.course.slug}\t{row.completion.edition}"
                    f"\t{row.claim.hours:g}"
                )
        if status:
            return
    views = svc.all_certificates(course_id, status)
    users = svc.users_by_id(v.certificate.user_id for v in views)
    for v in views:
        c = v.certificate
        email = users[c.user_id].email if c.user_id in users else ""
        click.echo(
            f"{c.snapshot['serial']}\t{v.state}\t{email}\t{c.snapshot['course_slug']}\t{c.snapshot['edition']}"
            f"\t{c.hours:g}"
        )


@certificates_cli.command("issue")
@click.option("--course", "slug", required=True)
@click.option("--all-pending", is_flag=True, required=True, help="Issue every pending claim of the course.")
@with_appcontext
def issue_command(slug: str, all_pending: bool) -> None:
    """Issue every pending claim of a course, one transaction each."""
    course = _course(slug)
    assert course is not None
    ids = [c.id for c in svc.pending_claims(course.id)]
    result = svc.issue_many(ids, None, _settings(), utcnow())
    click.echo(f"{result.issued} certificate(s) issued.")
    for claim_id, why in result.failed:
        click.echo(f"claim {claim_id}: {why}", err=True)
    if result.failed:
        sys.exit(1)


@certificates_cli.command("revoke")
@click.argument("serial")
@click.option("--reason", required=True)
@with_appcontext
def revoke_command(serial: str, reason: str) -> None:
    parsed = serials.parse(serial)
    cert = svc.get_certificate(parsed.canonical) if parsed.valid else None
    if cert is None:
        raise click.ClickException("this serial has a typo" if parsed.typo else f"no certificate {serial}")
    try:
        svc.revoke(cert, None, reason, utcnow())
    except svc.CertificateError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"{cert.snapshot['serial']} revoked.")


@certificates_cli.command("export")
@click.option("--course", "slug", required=True)
@click.option("-o", "output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def export_command(slug: str, output: Path) -> None:
    """Credit-reporting CSV (UTF-8 with BOM, ISO 8601 dates, formula-safe)."""
    course = _course(slug)
    assert course is not None
    views = svc.all_certificates(course.id)
    output.write_text(
        svc.certificates_csv(views, svc.users_by_id(v.certificate.user_id for v in views)), "utf-8"
    )
    click.echo(f"{len(views)} certificate(s) written to {output}.")


@certificates_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_command(file: Path) -> None:
    """Historical certificates (columns: email, course, edition, completion_date, hours, issued_on,
    expires_on, serial); all rows or none."""
    try:
        text = file.read_text("utf-8")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file}: not UTF-8 (byte {exc.start})") from None
    result = svc.import_csv(text, None, _settings(), utcnow())
    if result.problems:
        db.session.rollback()
        for problem in result.problems:
            click.echo(f"{file}: {problem}", err=True)
        raise click.ClickException("nothing was imported")
    db.session.commit()
    click.echo(f"{result.imported} certificate(s) imported.")


@certificates_cli.command("remind")
@click.option("--today", "today_text", help="Date to act as today (YYYY-MM-DD); default: today (UTC).")
@with_appcontext
def remind_command(today_text: str | None) -> None:
    """Mail expiry reminders at 60 and 14 days before expiry, once each (run daily from cron)."""
    try:
        today = date.fromisoformat(today_text) if today_text else utcnow().date()
    except ValueError:
        raise click.ClickException(f"--today must be a date such as 2026-12-01, not {today_text!r}") from None
    count = svc.send_reminders(today, utcnow())
    db.session.commit()
    click.echo(f"{count} reminder(s) sent.")


@certificates_cli.command("rotate-key")
@click.option("--retire", "retire_kid", help="Remove this key id from the published keys (compromised key).")
@with_appcontext
def rotate_key_command(retire_kid: str | None) -> None:
    """Start signing with a new key (old public keys stay published), or retire a compromised key."""
    from lms.certificates.credentials import key_store

    store = key_store()
    now = utcnow()
    if retire_kid:
        try:
            store.retire(retire_kid)
        except KeyError:
            raise click.ClickException(f"no key {retire_kid}") from None
        action, kid = "key.retire", retire_kid
    else:
        kid = store.rotate("credential-signing", now).kid
        action = "key.rotate"
    db.session.add(
        AuditEvent(at=now, actor_id=None, action=action, target_type="key", target_id=kid[:64], detail="")
    )
    db.session.commit()
    click.echo(f"{action.split('.')[1]}d {kid}")

"""``flask reset``: start development over without losing the keys that make credentials verifiable."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import text

from lms.extensions import db

#: what ``reset`` removes from ``instance/`` without --all (keys such as secret_key and signing keys stay)
RESETTABLE = ("lms.sqlite3", "lms.sqlite3-wal", "lms.sqlite3-shm", "outbox")


@click.command("reset")
@click.option(
    "--all", "everything", is_flag=True, help="Also delete the keys in instance/ (breaks every credential)."
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def reset_command(everything: bool, yes: bool) -> None:
    """Development only: empty the database and the mail outbox (keys are kept unless --all)."""
    if current_app.config.get("ENV_NAME") == "production":
        click.echo(
            "Error: reset is for development only; it refuses to run with LMS_CONFIG=production.", err=True
        )
        sys.exit(1)
    instance = Path(current_app.instance_path)
    what = "EVERYTHING in instance/, including the signing keys" if everything else "the database and outbox"
    if everything:
        click.echo(
            "Warning: without the keys in instance/, no credential issued so far can be verified again.",
            err=True,
        )
    if not yes and not click.confirm(f"Delete {what}?", default=False):
        click.echo("Nothing deleted.")
        return
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith("sqlite"):
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.engine.dispose()
    targets = (
        sorted(instance.iterdir()) if everything and instance.is_dir() else [instance / n for n in RESETTABLE]
    )
    for path in targets:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    click.echo("Reset done. Run `make run` to set everything up again.")

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


# -- `flask dev seed`: realistic volumes for benchmarks and load tests ------------------------------------

#: learners, progress rows and submitted attempts per profile (issue 13)
SEED_PROFILES = {
    "bench": {"learners": 10_000, "progress": 100_000, "attempts": 20_000},
    "loadtest": {"learners": 100_000, "progress": 1_000_000, "attempts": 200_000},
}
SEED_PASSWORD = "seeded learner password"  # noqa: S105  (development data only; printed for load tests)
_CHUNK = 5_000

dev_cli = click.Group("dev", help="Development tools: realistic data for benchmarks and load tests.")


@dev_cli.command("seed")
@click.option("--profile", type=click.Choice(sorted(SEED_PROFILES)), default="bench", show_default=True)
@click.option("--learners", type=int, default=None, help="Scale the profile to this many learners.")
@click.option("--force", is_flag=True, help="Seed even though the database already holds accounts.")
@with_appcontext
def seed_command(profile: str, learners: int | None, force: bool) -> None:
    """Fill the database with learners, enrolments, progress and submitted attempts, in bulk inserts.

    Every seeded account shares one precomputed password hash (hashing 100,000 passwords would take longer
    than everything else). Refuses production, and a database that already holds accounts unless --force.
    """
    from lms.auth.models import User
    from lms.catalog.models import Course

    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException(
            "seed is for development and benchmarks; it refuses LMS_CONFIG=production."
        )
    if db.session.scalar(db.select(db.func.count()).select_from(User)) and not force:
        raise click.ClickException(
            "the database already holds accounts: seed an empty database, or pass --force to add to it."
        )
    courses = list(db.session.scalars(db.select(Course).where(Course.current_version_no > 0)))
    if not courses:
        raise click.ClickException("no published course: run `flask --app wsgi courses sync` first.")
    sizes = dict(SEED_PROFILES[profile])
    if learners is not None:
        scale = learners / sizes["learners"]
        sizes = {k: max(1, round(v * scale)) for k, v in sizes.items()}
    counts = _seed(courses, sizes)
    db.session.commit()
    click.echo(
        f"Seeded {counts['learners']} learners, {counts['enrolments']} enrolments, {counts['progress']} "
        f"progress rows and {counts['attempts']} submitted attempts (password: {SEED_PASSWORD!r})."
    )


def _seed(courses: list, sizes: dict[str, int]) -> dict[str, int]:
    import random

    from lms.auth.models import User
    from lms.auth.services import hash_password
    from lms.catalog.models import Enrolment, Item
    from lms.learning.models import ProgressRecord
    from lms.quizzes.models import Attempt, Quiz
    from lms.timeutil import utcnow

    rng = random.Random(13)  # the same data every run
    now = utcnow()
    digest = hash_password(SEED_PASSWORD)
    first_id = (db.session.scalar(db.select(db.func.max(User.id))) or 0) + 1
    tag = f"{first_id}"
    n = sizes["learners"]
    _bulk(
        User,
        (
            {
                "email": f"learner{tag}-{i}@seed.example.org",
                "password_hash": digest,
                "full_name": f"Seeded Learner {i}",
                "profession": rng.choice(["physician", "nurse", "pharmacist", "researcher"]),
                "specialty": "",
                "country": rng.choice(["US", "GB", "DE", "FR", "JP"]),
                "created_at": now,
                "email_confirmed_at": now,
                "session_version": 0,
            }
            for i in range(n)
        ),
    )
    user_ids = list(
        db.session.scalars(db.select(User.id).where(User.email.like(f"learner{tag}-%@seed.example.org")))
    )
    versions = {}
    from lms.catalog.content import version_content

    for course in courses:
        content = version_content(course)
        quizzes = list(db.session.scalars(db.select(Quiz).where(Quiz.version_id == content.version.id)))
        versions[course.id] = (content, quizzes)
    enrolled = [(u, courses[i % len(courses)].id) for i, u in enumerate(user_ids)]
    _bulk(
        Enrolment,
        ({"user_id": u, "course_id": c, "enrolled_at": now, "last_activity_at": now} for u, c in enrolled),
    )
    progress_left, rows, seen = sizes["progress"], [], set()
    possible = sum(len(versions[c][0].items) for _, c in enrolled)
    while progress_left > 0 and len(seen) < possible:
        u, c = enrolled[rng.randrange(len(enrolled))]
        item: Item = rng.choice(versions[c][0].items)
        if (u, c, item.key) in seen:
            continue
        seen.add((u, c, item.key))
        rows.append(
            {
                "user_id": u,
                "course_id": c,
                "item_key": item.key,
                "completed_at": now,
                "version_no": versions[c][0].version.number,
                "content_hash": item.content_hash,
            }
        )
        progress_left -= 1
    _bulk(ProgressRecord, iter(rows))
    attempt_rows, numbers = [], {}
    for _ in range(sizes["attempts"]):
        u, c = enrolled[rng.randrange(len(enrolled))]
        quizzes = versions[c][1]
        if not quizzes:
            continue
        quiz = rng.choice(quizzes)
        number = numbers[(u, quiz.id)] = numbers.get((u, quiz.id), 0) + 1
        score = rng.random()
        attempt_rows.append(
            {
                "user_id": u,
                "course_id": c,
                "quiz_id": quiz.id,
                "quiz_key": quiz.key,
                "number": number,
                "seed": rng.getrandbits(62),
                "status": "submitted",
                "started_at": now,
                "submitted_at": now,
                "late": False,
                "score": score,
                "points": score,
                "max_points": 1.0,
                "passed": score >= 0.8,
            }
        )
    _bulk(Attempt, iter(attempt_rows))
    return {
        "learners": len(user_ids),
        "enrolments": len(enrolled),
        "progress": len(rows),
        "attempts": len(attempt_rows),
    }


def _bulk(model: type, rows) -> None:
    """Insert ``rows`` (dicts) in chunks of executemany: one round trip per chunk, no ORM objects."""
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= _CHUNK:
            db.session.execute(db.insert(model), chunk)
            chunk = []
    if chunk:
        db.session.execute(db.insert(model), chunk)

"""`flask dev seed`: bulk data for benchmarks, refused in production and on a database with accounts."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.auth.models import User
from lms.catalog.models import Enrolment
from lms.extensions import db
from lms.learning.models import ProgressRecord
from lms.quizzes.models import Attempt
from tests.packages import sync, write_package


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_seed_scaled_profile_then_refuses_a_second_run(app, runner, tmp_path):
    sync(app, write_package(tmp_path, slug="seeded", lessons=11))
    result = runner.invoke(args=["dev", "seed", "--profile", "bench", "--learners", "40"])
    assert result.exit_code == 0, result.output
    assert _count(app, User) == 40
    assert _count(app, Enrolment) == 40
    assert _count(app, ProgressRecord) == 400  # 10 per learner, as in the bench profile
    assert _count(app, Attempt) == 80
    with app.app_context():
        hashes = set(db.session.scalars(select(User.password_hash)))
    assert len(hashes) == 1  # one precomputed hash for everyone
    again = runner.invoke(args=["dev", "seed", "--learners", "40"])
    assert again.exit_code != 0 and "already holds accounts" in again.output
    forced = runner.invoke(args=["dev", "seed", "--learners", "40", "--force"])
    assert forced.exit_code == 0, forced.output
    assert _count(app, User) == 80


def test_seed_needs_a_course(runner):
    result = runner.invoke(args=["dev", "seed", "--learners", "5"])
    assert result.exit_code != 0 and "courses sync" in result.output


def test_seed_refuses_production(app, tmp_path):
    sync(app, write_package(tmp_path, slug="seeded", lessons=2))
    app.config["ENV_NAME"] = "production"  # as LMS_CONFIG=production sets it
    result = app.test_cli_runner().invoke(args=["dev", "seed", "--learners", "5"])
    assert result.exit_code != 0 and "refuses LMS_CONFIG=production" in result.output
    assert _count(app, User) == 0

"""`flask dev seed`: realistic bulk data for benchmarks, refused in production and on a database in use.

The seeded data must be what the app itself would have written: answers graded by the question types, attempt
scores that add up, progress only for passed quizzes, completions only when every required item is done.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms import create_app
from lms.auth.models import User
from lms.catalog.content import version_content
from lms.catalog.models import Course, Enrolment
from lms.certificates.models import CertificateClaim, CourseCompletion
from lms.devcli import SEED_PASSWORD
from lms.extensions import db
from lms.learning.models import ProgressRecord
from lms.learning.progress import required_keys
from lms.quizzes.models import Attempt, AttemptAnswer, Question, Quiz
from tests import factories
from tests.packages import sync, write_package

CART = Path(__file__).resolve().parents[1] / "courses" / "car-t-cell-therapy"


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _printed(output: str, name: str) -> int:
    found = re.search(rf"^\s+{name}\s+([\d,]+)$", output, re.M)
    assert found, output
    return int(found.group(1).replace(",", ""))


@pytest.fixture
def seeded(app, runner):
    """The bundled CAR-T course (every question type, a drawn final, an evaluation) and 60 learners."""
    sync(app, CART)
    result = runner.invoke(args=["dev", "seed", "--profile", "bench", "--learners", "60"])
    assert result.exit_code == 0, result.output
    return result.output


def test_seed_writes_the_scaled_profile_with_answers(app, seeded):
    # the bench profile per learner: 10 progress rows and 2 submitted attempts
    assert _count(app, User) == _printed(seeded, "learners") == 60
    assert _count(app, ProgressRecord) == _printed(seeded, "progress rows") == 600
    assert _count(app, Attempt) == _printed(seeded, "attempts") == 120
    assert _count(app, Enrolment) == _printed(seeded, "enrolments") >= 60
    assert _count(app, AttemptAnswer) == _printed(seeded, "answers") > 120
    assert _count(app, CourseCompletion) == _printed(seeded, "completions")
    assert _count(app, CertificateClaim) == _printed(seeded, "claims")
    assert re.search(r"in [\d.]+ s\.", seeded)
    with app.app_context():
        hashes = set(db.session.scalars(select(User.password_hash)))
        quizzes = {q.id: q for q in db.session.scalars(select(Quiz))}
        questions = {q.id: q for q in db.session.scalars(select(Question))}
        attempts = list(db.session.scalars(select(Attempt)))
        answers = defaultdict(list)
        for a in db.session.scalars(select(AttemptAnswer)):
            answers[a.attempt_id].append(a)
        progress = {(p.user_id, p.item_key) for p in db.session.scalars(select(ProgressRecord))}
    # one precomputed hash for everyone, at production strength even though tests configure a cheap one
    assert len(hashes) == 1 and hashes.pop().startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    passed_keys = set()
    for attempt in attempts:
        quiz, rows = quizzes[attempt.quiz_id], answers[attempt.id]
        drawn = quiz.settings.get("draw") or sum(q.quiz_id == quiz.id for q in questions.values())
        assert len(rows) == drawn  # one answer per question drawn
        assert sorted(r.position for r in rows) == list(range(1, drawn + 1))
        assert all(questions[r.question_id].quiz_id == quiz.id for r in rows)
        assert all(r.question_hash == questions[r.question_id].content_hash for r in rows)
        assert attempt.status == "submitted" and attempt.submitted_at >= attempt.started_at
        if quiz.graded:
            points = sum(r.score * questions[r.question_id].points for r in rows)
            assert attempt.points == pytest.approx(points)
            assert attempt.score == pytest.approx(points / attempt.max_points)
            assert attempt.passed == (attempt.score * 100 >= quiz.settings["pass_mark"])
            assert all(r.correct == (r.score == 1.0) for r in rows)
            if attempt.passed:
                passed_keys.add((attempt.user_id, attempt.quiz_key))
        else:
            assert attempt.score is None and all(r.score is None and r.correct is None for r in rows)
            passed_keys.add((attempt.user_id, attempt.quiz_key))
    quiz_keys = {q.key for q in quizzes.values()}
    # progress on a quiz exactly when it was passed (a survey: submitted)
    assert {p for p in progress if p[1] in quiz_keys} == passed_keys
    assert any(a.passed for a in attempts) and any(a.passed is False for a in attempts)


def test_completions_and_claims_follow_the_rules(app, seeded):
    with app.app_context():
        course = db.session.scalar(select(Course))
        content = version_content(course)
        needed = set(required_keys(content.syllabus, content.policy))
        done = defaultdict(set)
        for p in db.session.scalars(select(ProgressRecord)):
            done[p.user_id].add(p.item_key)
        completions = list(db.session.scalars(select(CourseCompletion)))
        claims = list(db.session.scalars(select(CertificateClaim)))
        finals = {
            a.user_id: max(
                db.session.scalars(
                    select(Attempt.score).where(Attempt.user_id == a.user_id, Attempt.quiz_key == "final")
                )
            )
            for a in completions
        }
    complete = {u for u, keys in done.items() if needed <= keys}
    assert {c.user_id for c in completions} == complete
    for c in completions:
        assert c.version_no == content.version.number and c.final_score == pytest.approx(finals[c.user_id])
    by_id = {c.id: c for c in completions}
    for claim in claims:
        assert by_id[claim.completion_id].user_id == claim.user_id
        assert claim.hours == course.credit_hours


def test_seeded_data_serves_the_reports_and_the_learner_pages(app, seeded, client, auth, runner):
    refreshed = runner.invoke(args=["reports", "refresh"])
    assert refreshed.exit_code == 0, refreshed.output
    assert "question(s) analysed" in refreshed.output
    slug = "car-t-cell-therapy"
    auth.login("admin")
    for path in (
        f"/reports/{slug}",
        f"/reports/{slug}/learners?sort=progress&dir=desc",
        f"/reports/{slug}/learners?q=Seeded+Learner+00001",
        f"/reports/{slug}/quizzes/final",
        f"/reports/{slug}/quizzes/final/items.csv",
        f"/reports/{slug}/evaluation",
        f"/reports/{slug}/learners.csv",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    items = client.get(f"/reports/{slug}/quizzes/final/items.csv").get_data(as_text=True)
    assert len(items.strip().splitlines()) > 10  # one row per question of the final's pool answered
    learners = client.get(f"/reports/{slug}/learners.csv").get_data(as_text=True)
    assert len(learners.strip().splitlines()) >= 61  # every seeded learner enrolled in the only course
    auth.logout()
    with app.app_context():
        email = db.session.scalar(
            select(User.email).join(ProgressRecord, ProgressRecord.user_id == User.id).limit(1)
        )
    login = client.post("/login", data={"email": email, "password": SEED_PASSWORD})
    assert login.status_code == 302
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 200 and b"CAR-T" in dashboard.data
    assert client.get(f"/courses/{slug}").status_code == 200


def test_seed_refuses_a_database_in_use_unless_forced(app, runner, tmp_path):
    sync(app, write_package(tmp_path, slug="seeded", lessons=11))
    factories.create_user(app, email="someone@example.org", password="correct horse battery")
    refused = runner.invoke(args=["dev", "seed", "--learners", "10"])
    assert refused.exit_code != 0 and "already holds accounts" in refused.output
    assert "1 user_account" in refused.output and _count(app, User) == 1
    forced = runner.invoke(args=["dev", "seed", "--learners", "10", "--force"])
    assert forced.exit_code == 0, forced.output
    again = runner.invoke(args=["dev", "seed", "--learners", "10", "--force"])
    assert again.exit_code == 0, again.output  # a second forced run takes new emails and ids
    assert _count(app, User) == 21 and _count(app, Enrolment) == 20
    # the id sequences were moved past the seeded rows: the app's own inserts still work
    factories.create_user(app, email="after@example.org", password="correct horse battery")
    assert _count(app, User) == 22


def test_seed_needs_a_course(runner):
    result = runner.invoke(args=["dev", "seed", "--learners", "5"])
    assert result.exit_code != 0 and "courses sync" in result.output


def test_seed_refuses_production(app, monkeypatch, tmp_path):
    """LMS_CONFIG=production, pointing at a real (migrated, empty) database that seeding would fill."""
    sync(app, write_package(tmp_path, slug="seeded", lessons=2))
    monkeypatch.setenv("LMS_CONFIG", "production")
    monkeypatch.setenv("LMS_DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("LMS_SIGNING_KEY_FILE", str(factories.signing_key_file(tmp_path)))
    monkeypatch.setenv("LMS_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("LMS_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("LMS_BASE_URL", "https://lms.example.org")
    monkeypatch.setenv("LMS_RATELIMIT_PER_PROCESS", "1")
    production = create_app()
    assert production.config["ENV_NAME"] == "production"
    result = production.test_cli_runner().invoke(args=["dev", "seed", "--learners", "5"])
    assert result.exit_code != 0 and "refuses LMS_CONFIG=production" in result.output
    with production.app_context():
        db.engine.dispose()
    assert _count(app, User) == 0


@pytest.mark.postgres_only
def test_migration_0012_indexes_learner_names_on_postgresql(app):
    """The learners' report sorts by lower(full_name): the expression index exists, as the model declares."""
    from sqlalchemy import text

    with app.app_context():
        definition = db.session.scalar(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_user_account_lower_full_name'")
        )
    assert definition is not None and "lower((full_name)::text)" in definition

"""Regrade after a key correction (dry run, audited apply, flags instead of edits) and extra attempts."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from lms.auth.models import AuditEvent
from lms.authoring.models import RegradeFlag
from lms.certificates.models import Certificate, CertificateClaim, CourseCompletion
from lms.extensions import db
from lms.quizzes.models import Attempt, AttemptGrant
from tests import factories
from tests.packages import sync
from tests.web.test_reports import FINAL, SLUG, START, _course, add_staff, answer, write_course


def _token(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200
    return re.search(rb'name="csrf_token"[^>]* value="([^"]+)"', page.data).group(1).decode()


def _setup(app, auth, tmp_path):
    folder = write_course(tmp_path)
    sync(app, folder)
    a = factories.create_user(app, email="a@example.org", full_name="Ann")
    c = factories.create_user(app, email="c@example.org", full_name="Cat")
    a_attempt = answer(app, a.id, "final", {"q1": "B", "q2": True}, START)  # 2/3: passes (50)
    c_attempt = answer(app, c.id, "final", {"q1": "C", "q2": False}, START)  # 0/3
    with app.app_context():
        course = _course()
        completion = CourseCompletion(
            user_id=a.id, course_id=course.id, version_no=1, edition="2026.1", completed_at=START
        )
        db.session.add(completion)
        db.session.flush()
        claim = CertificateClaim(
            completion_id=completion.id, user_id=a.id, course_id=course.id, version_no=1, hours=0.5,
            attested_at=START,
        )  # fmt: skip
        db.session.add(claim)
        db.session.flush()
        db.session.add(
            Certificate(
                serial="ABCD2345EFGH", claim_id=claim.id, user_id=a.id, course_id=course.id, version_no=1,
                credential_id="urn:uuid:regrade", issued_at=START, completed_on=START.date(), hours=0.5,
                snapshot={},
            )
        )  # fmt: skip
        db.session.commit()
    # The key of q1 was wrong: the correct option is C. Version 2 fixes it.
    (folder / "quizzes" / "final.toml").write_text(FINAL.replace('answer = "B"', 'answer = "C"', 1))
    sync(app, folder)
    auth.login("educator")
    add_staff(app, "educator@example.org", "owner")
    return a, c, a_attempt, c_attempt


def test_regrade_dry_run_then_apply(app, client, auth, tmp_path):
    a, _c, a_attempt, c_attempt = _setup(app, auth, tmp_path)
    url = f"/author/{SLUG}/regrade"
    token = _token(client, url)
    dry = client.post(url, data={"csrf_token": token, "quiz_key": "final", "dry_run": "1"})
    assert dry.status_code == 200
    text = dry.data.decode()
    assert "2 attempts would change" in text and "1 quiz outcome;" in text
    assert "1 completion and 1 certificate to flag" in text and "ABCD2345EFGH" in text
    assert "Ann" in text and "Cat" in text
    with app.app_context():
        assert db.session.get(Attempt, a_attempt).passed is True  # a dry run changes nothing
        assert db.session.scalar(select(func.count()).select_from(RegradeFlag)) == 0

    no_reason = client.post(url, data={"csrf_token": token, "quiz_key": "final", "apply": "1"})
    assert no_reason.status_code == 400 and b"give the reason" in no_reason.data

    applied = client.post(
        url, data={"csrf_token": token, "quiz_key": "final", "apply": "1", "reason": "Key of q1"}
    )
    assert applied.status_code == 200 and b"Applied" in applied.data
    with app.app_context():
        first = db.session.get(Attempt, a_attempt)
        assert first.passed is False and abs(first.score - 1 / 3) < 1e-9
        assert abs(db.session.get(Attempt, c_attempt).score - 1 / 3) < 1e-9
        flags = db.session.scalars(select(RegradeFlag).order_by(RegradeFlag.id)).all()
        assert sorted(f.kind for f in flags) == ["certificate", "completion", "pass"]
        assert all(f.user_id == a.id for f in flags)
        # Completions and certificates are append-only: still there, unchanged.
        assert db.session.scalar(select(func.count()).select_from(CourseCompletion)) == 1
        assert db.session.scalar(select(Certificate.serial)) == "ABCD2345EFGH"
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "quiz.regrade"))
        assert event is not None and "2 attempt(s) regraded" in event.detail and "Key of q1" in event.detail
    # Applying again finds nothing more to change.
    again = client.post(url, data={"csrf_token": token, "quiz_key": "final", "dry_run": "1"})
    assert "0 attempts would change" in again.data.decode()

    assert client.get("/author/flags").status_code == 403  # educators do not review flags
    auth.logout()
    auth.login("admin")
    flags_page = client.get("/author/flags", follow_redirects=True)  # now the admin area's page
    assert flags_page.status_code == 200 and b"ABCD-2345-EFGH" in flags_page.data


def test_extra_attempt_with_a_reason_is_audited(app, client, auth, tmp_path):
    a, _c, _x, _y = _setup(app, auth, tmp_path)
    url = f"/author/{SLUG}/regrade"
    token = _token(client, url)
    grant = f"/author/{SLUG}/grant"
    missing = client.post(grant, data={"csrf_token": token, "email": "a@example.org", "quiz_key": "final"})
    assert missing.status_code == 400
    ok = client.post(
        grant,
        data={"csrf_token": token, "email": "a@example.org", "quiz_key": "final", "reason": "Accommodation"},
    )
    assert ok.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(AttemptGrant))
        assert row.user_id == a.id and row.reason == "Accommodation"
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "attempt.grant")) is not None


def test_extra_time_on_a_timed_quiz_is_audited_and_applies_to_new_attempts(app, client, auth, tmp_path):
    from datetime import timedelta

    from lms.extensions import db as _db
    from lms.quizzes import services as quiz_services
    from tests.web.test_reports import _quiz

    folder = write_course(tmp_path)
    final = folder / "quizzes" / "final.toml"
    final.write_text(
        final.read_text().replace("pass_mark = 50\n", "pass_mark = 50\ntime_limit_minutes = 20\n", 1)
    )
    sync(app, folder)
    a = factories.create_user(app, email="a@example.org", full_name="Ann")
    other = factories.create_user(app, email="o@example.org", full_name="Oli")
    auth.login("educator")
    add_staff(app, "educator@example.org", "owner")
    token = _token(client, f"/author/{SLUG}/regrade")
    refused = client.post(
        f"/author/{SLUG}/extend-time",
        data={
            "csrf_token": token,
            "email": "a@example.org",
            "quiz_key": "final",
            "minutes": "0",
            "reason": "x",
        },
    )
    assert refused.status_code == 400 and b"between 1 and 600 minutes" in refused.data
    ok = client.post(
        f"/author/{SLUG}/extend-time",
        data={
            "csrf_token": token,
            "email": "a@example.org",
            "quiz_key": "final",
            "minutes": "15",
            "reason": "Dyslexia",
        },
    )
    assert ok.status_code == 302
    with app.app_context():
        registry = app.extensions["lms"].question_types
        mine = quiz_services.start_attempt(a.id, _course(), _quiz("final"), registry, now=START)
        theirs = quiz_services.start_attempt(other.id, _course(), _quiz("final"), registry, now=START)
        assert mine.deadline_at == START + timedelta(minutes=35)
        assert theirs.deadline_at == START + timedelta(minutes=20)
        event = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "attempt.extend_time"))
        assert event is not None and "+15 min: Dyslexia" in event.detail

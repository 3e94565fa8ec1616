"""An administrator's page for one account: enrolments, progress, attempts, certificates and claims, in the
same number of queries for a person with one course as for a person with many."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from lms.auth.models import User
from lms.catalog.models import Course, Enrolment
from lms.certificates import services as cert_svc
from lms.certificates.models import Certificate, CertificateClaim
from lms.certificates.routes import issuer_settings
from lms.extensions import db
from tests import factories
from tests.certs import complete, read_lessons, sync_cert_course, take_quiz

START = datetime(2026, 11, 20, 9, 0)
SLUGS = ("alpha", "beta", "gamma", "delta")


@pytest.fixture
def courses(app, tmp_path):
    for slug in SLUGS:
        sync_cert_course(app, tmp_path, slug=slug)
    return SLUGS


def _claim(app, user_id: int, slug: str) -> int:
    with app.test_request_context(), app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        claim = cert_svc.submit_claim(
            db.session.get(User, user_id),
            course,
            cert_svc.ClaimInput(2.0, True, ""),
            issuer_settings(),
            START + timedelta(hours=2),
        )
        db.session.commit()
        return claim.id


def _issue(app, claim_id: int) -> None:
    with app.test_request_context(), app.app_context():
        claim = db.session.get(CertificateClaim, claim_id)
        cert_svc.issue_claim(claim, None, issuer_settings(), START + timedelta(days=1))
        db.session.commit()


def _decline(app, claim_id: int, admin_id: int) -> None:
    with app.app_context():
        claim = db.session.get(CertificateClaim, claim_id)
        cert_svc.decline_claim(claim, db.session.get(User, admin_id), "Hours do not match", START)
        db.session.commit()


def _certified(app, user_id: int, slug: str) -> None:
    complete(app, user_id, slug, START)
    _issue(app, _claim(app, user_id, slug))


def _left_after_failing(app, user_id: int, slug: str) -> None:
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        db.session.add(
            Enrolment(
                user_id=user_id,
                course_id=course.id,
                enrolled_at=START,
                last_activity_at=START,
                left_at=START + timedelta(days=3),
            )
        )
        db.session.commit()
    read_lessons(app, user_id, slug, START)
    take_quiz(app, user_id, slug, "final", False, START + timedelta(hours=1))  # a failed attempt


def _page(client, count_queries, user_id: int) -> tuple[str, int]:
    with count_queries() as counter:
        response = client.get(f"/admin/users/{user_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True), counter.count


def test_user_page_shows_the_learning_record_in_constant_queries(app, client, auth, courses, count_queries):
    admin = auth.login("admin")
    small = factories.create_user(app, email="small@example.org", full_name="Sam Small")
    _certified(app, small.id, "alpha")
    big = factories.create_user(app, email="big@example.org", full_name="Bea Big")
    _certified(app, big.id, "alpha")
    _certified(app, big.id, "beta")
    complete(app, big.id, "gamma", START)
    _decline(app, _claim(app, big.id, "gamma"), admin.id)
    _left_after_failing(app, big.id, "delta")

    small_html, small_count = _page(client, count_queries, small.id)
    big_html, big_count = _page(client, count_queries, big.id)
    assert big_count == small_count, "queries grow with the number of enrolments, attempts or certificates"
    assert small_count <= 16  # 18 before progress came from the dashboard's cached function

    # Enrolments, with the dates and progress in words.
    for slug in SLUGS:
        assert f'href="/courses/{slug}"' in big_html
    assert re.search(r"(\d+) of \1 required items", big_html)
    assert re.search(r"2 of [3-9] required items", big_html)  # delta: lessons read, final failed, left
    assert "23 Nov 2026" in big_html  # the date delta was left
    assert "Certificate valid" in big_html and "Claim declined" in big_html
    # Attempts: course, quiz, number, status, score in words, submitted.
    assert big_html.count("Final assessment") >= 4 and "not passed" in big_html and "passed" in big_html
    # Certificates link to their page, with edition and state; the declined claim says why.
    with app.app_context():
        serials = [
            c.snapshot["serial"]
            for c in db.session.scalars(select(Certificate).where(Certificate.user_id == big.id))
        ]
    assert len(serials) == 2
    for serial in serials:
        assert f'href="/certificates/{serial}"' in big_html
    assert "2026.1" in big_html and "Valid" in big_html
    assert "Declined: Hours do not match" in big_html
    # What the page already offered is still there.
    for heading in ("Roles", "Access", "Extra attempt", "Audit trail"):
        assert f"<h2>{heading}</h2>" in big_html
    assert "Sam Small" in small_html and "beta" not in small_html


def test_user_page_without_any_learning_says_so(client, auth, app):
    auth.login("admin")
    newcomer = factories.create_user(app, email="new@example.org", full_name="Nia New")
    html = client.get(f"/admin/users/{newcomer.id}").get_data(as_text=True)
    for empty in (
        "Not enrolled in any course.",
        "No quiz attempts.",
        "No certificates.",
        "No certificate claims.",
    ):
        assert empty in html


def test_user_page_is_for_admins_only(client, auth, app):
    someone = factories.create_user(app, email="x@example.org", full_name="X")
    auth.login("educator")
    assert client.get(f"/admin/users/{someone.id}").status_code == 403


def test_disabled_record_is_still_shown(client, auth, app, courses):
    auth.login("admin")
    person = factories.create_user(app, email="gone@example.org", full_name="Gone Person")
    _certified(app, person.id, "alpha")
    with app.app_context():
        db.session.execute(
            update(User).where(User.id == person.id).values(disabled_at=START, disabled_reason="Left")
        )
        db.session.commit()
    html = client.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert "Disabled" in html and "Certificate valid" in html


def _enrol(app, user_id: int, slug: str) -> None:
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        db.session.add(
            Enrolment(user_id=user_id, course_id=course.id, enrolled_at=START, last_activity_at=START)
        )
        db.session.commit()


PROGRESS = re.compile(r'href="/courses/([a-z-]+)">[^<]*</a>.*?(\d+ of \d+ required items · \d+%)', re.S)


def _progress_by_slug(html: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for slug, text in PROGRESS.findall(html):
        found.setdefault(slug, text)
    return found


def test_user_page_and_dashboard_agree_on_progress(app, client, auth, courses):
    """Both pages call learning.services.progress_by_course: the same numbers for the same learner."""
    learner = auth.user("learner")
    complete(app, learner.id, "alpha", START)  # everything done
    _enrol(app, learner.id, "beta")
    read_lessons(app, learner.id, "beta", START)  # lessons read, final not taken
    _enrol(app, learner.id, "gamma")
    read_lessons(app, learner.id, "gamma", START, keys=("l1",))  # one lesson read
    auth.login("admin")
    admin_view = _progress_by_slug(client.get(f"/admin/users/{learner.id}").get_data(as_text=True))
    auth.logout()
    auth.login("learner")
    dashboard_view = _progress_by_slug(client.get("/dashboard").get_data(as_text=True))
    assert set(admin_view) == {"alpha", "beta", "gamma"}
    assert admin_view == dashboard_view
    assert len(set(admin_view.values())) == 3  # three different states, not three empty bars
    assert admin_view["alpha"].endswith("· 100%")

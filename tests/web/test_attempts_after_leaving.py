"""Leaving a course freezes its open attempts; attempt pages, autosave and submit re-check enrolment."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.quizzes.models import Attempt, AttemptAnswer
from tests.packages import sync, write_package


@pytest.fixture
def started(app, client, auth, tmp_path):
    sync(app, write_package(tmp_path))
    auth.login("learner")
    client.post("/courses/test-course/enrol")
    response = client.post("/courses/test-course/quizzes/check/start")
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        answer_ids = db.session.scalars(
            select(AttemptAnswer.id)
            .where(AttemptAnswer.attempt_id == attempt_id)
            .order_by(AttemptAnswer.position)
        ).all()
    return attempt_id, [f"q{i}" for i in answer_ids]


def _attempt(app, attempt_id):
    with app.app_context():
        return db.session.get(Attempt, attempt_id).status


def _leave(client):
    assert client.post("/courses/test-course/enrol", data={"action": "leave"}).status_code == 302


def test_leaving_freezes_the_open_attempt(app, client, started):
    attempt_id, fields = started
    _leave(client)
    assert _attempt(app, attempt_id) == "frozen"
    page = client.get(f"/attempts/{attempt_id}", follow_redirects=True)
    assert "this attempt is closed" in page.get_data(as_text=True)
    save = client.post(
        f"/attempts/{attempt_id}/save", data={fields[1]: "true"}, headers={"Accept": "application/json"}
    )
    assert save.status_code == 409
    submit = client.post(f"/attempts/{attempt_id}/submit", data={fields[1]: "true"})
    assert submit.status_code == 302
    assert _attempt(app, attempt_id) == "frozen"
    with app.app_context():
        assert db.session.scalars(
            select(AttemptAnswer.response).where(AttemptAnswer.attempt_id == attempt_id)
        ).all() == [
            None,
            None,
        ]


def test_re_enrolling_starts_a_new_attempt_and_the_frozen_one_stays_closed(app, client, started):
    attempt_id, _ = started
    _leave(client)
    client.post("/courses/test-course/enrol")
    response = client.post("/courses/test-course/quizzes/check/start")
    new_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert new_id != attempt_id
    assert _attempt(app, attempt_id) == "frozen"
    assert "Closed when you left the course" in client.get("/courses/test-course/quizzes/check").get_data(
        as_text=True
    )


def test_enrolment_is_checked_even_if_the_attempt_was_not_frozen(app, client, started):
    attempt_id, fields = started
    # An enrolment ended some other way (an older release, a direct database change) leaves the attempt open.
    with app.app_context():
        from lms.catalog.models import Enrolment
        from lms.timeutil import utcnow

        db.session.scalar(select(Enrolment)).left_at = utcnow()
        db.session.commit()
    assert _attempt(app, attempt_id) == "in_progress"
    assert client.get(f"/attempts/{attempt_id}").status_code == 302
    save = client.post(
        f"/attempts/{attempt_id}/save", data={fields[1]: "true"}, headers={"Accept": "application/json"}
    )
    assert save.status_code == 409
    client.post(f"/attempts/{attempt_id}/submit", data={fields[1]: "true"})
    assert _attempt(app, attempt_id) == "in_progress"

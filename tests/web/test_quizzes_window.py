"""Quiz open and close dates through the app: start refused outside the window, an open attempt ends at the
close (autosave refused, submitted with what was saved), times shown in the site's zone (Europe/Berlin in
the test configuration). Fixed dates far in the past or future stand in for the clock; where a rule must run
at a chosen moment, the service is called with ``now``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from lms.catalog.models import Course
from lms.extensions import db
from lms.quizzes import services
from lms.quizzes.models import Attempt
from lms.templating import site_zone
from tests.packages import sync
from tests.web.test_quizzes import _answer_map, _attempt, _enrolled, _start, write_quiz_course


def _course(app, tmp_path, settings: str) -> str:
    sync(app, write_quiz_course(tmp_path, settings=settings))
    return "quizzy"


def _attempts(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Attempt))


def test_before_it_opens_the_page_says_when_and_start_is_refused(app, client, auth, tmp_path):
    _course(app, tmp_path, "opens_at = 2099-06-01T09:00:00")  # no offset: Berlin time (CEST in June)
    _enrolled(client, auth)
    page = client.get("/courses/quizzy/quizzes/exam").get_data(as_text=True)
    assert "Open from Monday 1 June 2099 at 09:00 CEST." in page
    assert "This quiz opens on Monday 1 June 2099 at 09:00 CEST. You can start it from then." in page
    assert "/quizzes/exam/start" not in page  # no Start button
    refused = client.post("/courses/quizzy/quizzes/exam/start", follow_redirects=True)
    assert "This quiz opens on Monday 1 June 2099 at 09:00 CEST" in refused.get_data(as_text=True)
    assert _attempts(app) == 0


def test_after_it_closes_no_attempt_starts(app, client, auth, tmp_path):
    _course(app, tmp_path, "closes_at = 2000-01-03T16:00:00Z")  # 17:00 in Berlin (CET)
    _enrolled(client, auth)
    page = client.get("/courses/quizzy/quizzes/exam").get_data(as_text=True)
    assert "until Monday 3 January 2000 at 17:00 CET" in page
    refused = client.post("/courses/quizzy/quizzes/exam/start", follow_redirects=True).get_data(as_text=True)
    assert "This quiz closed on Monday 3 January 2000 at 17:00 CET. No new attempt can be started." in refused
    assert _attempts(app) == 0


def test_inside_the_window_an_attempt_starts_and_its_deadline_is_the_close(app, client, auth, tmp_path):
    _course(app, tmp_path, "opens_at = 2000-01-03T09:00:00\ncloses_at = 2099-06-01T09:00:00")
    _enrolled(client, auth)
    attempt_id = _start(client)
    assert _attempt(app, attempt_id).deadline_at == datetime(2099, 6, 1, 7, 0)  # 09:00 CEST in UTC
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "data-timer" not in page  # decades away: said in words, not counted down
    assert "This quiz closes on Monday 1 June 2099 at 09:00 CEST" in page


def test_an_open_attempt_ends_at_the_close_and_is_submitted_with_what_was_saved(app, client, auth, tmp_path):
    _course(app, tmp_path, "time_limit_minutes = 90\ncloses_at = 2020-03-02T12:00:00Z")
    info = _enrolled(client, auth)
    with app.app_context():  # started at 11:00, an hour before the close: the 90 minutes are cut to 60
        course = db.session.scalar(select(Course).where(Course.slug == "quizzy"))
        quiz = services.current_quiz(course, "exam")[0]
        registry = app.extensions["lms"].question_types
        zone = site_zone(app.config["TIMEZONE"])
        attempt = services.start_attempt(
            info.id, course, quiz, registry, now=datetime(2020, 3, 2, 11), zone=zone
        )
        db.session.commit()
        attempt_id = attempt.id
        assert attempt.deadline_at == datetime(2020, 3, 2, 12, 0)
    names = _answer_map(app, attempt_id)
    with app.app_context():  # answered before the close
        ctx = services.load_attempt(info.id, attempt_id, lock=True)
        answer_id = int(names["sc"][1:])
        services.save_responses(ctx.attempt, {answer_id: "B"}, now=datetime(2020, 3, 2, 11, 30))
        db.session.commit()
    late = client.post(
        f"/attempts/{attempt_id}/save", data={names["tf"]: "true"}, headers={"Accept": "application/json"}
    )
    assert late.status_code == 409 and "Time is up" in late.get_json()["error"]
    opened = client.get(f"/attempts/{attempt_id}", follow_redirects=True).get_data(as_text=True)
    assert (
        "The quiz has closed. Your attempt was submitted with the answers saved before it closed." in opened
    )
    submitted = _attempt(app, attempt_id)
    assert submitted.status == "submitted" and submitted.late is True
    assert submitted.score == 0.25  # the one answer saved before the close, and nothing after it
    again = client.post("/courses/quizzy/quizzes/exam/start", follow_redirects=True).get_data(as_text=True)
    assert "This quiz closed on Monday 2 March 2020 at 13:00 CET" in again
    assert _attempts(app) == 1

"""Educators preview the published version of a quiz as a learner would: the learner's attempt page (pages,
navigation, timer), then the graded review; nothing is recorded or counted anywhere."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.auth.models import AuditEvent
from lms.catalog.models import Enrolment
from lms.certificates.models import CourseCompletion
from lms.extensions import db
from lms.learning.models import ProgressRecord
from lms.quizzes.models import Attempt, AttemptAnswer, Question
from lms.reports import services as report_services
from lms.reports.models import ItemStatistic, QuizStatistic
from tests import factories
from tests.packages import sync
from tests.web.test_reports import FINAL, SLUG, START, _course, add_staff, answer, write_course

URL = f"/author/{SLUG}/quizzes/final/preview"
PAGED = FINAL.replace(
    "pass_mark = 50\n", "pass_mark = 50\nquestions_per_page = 2\ntime_limit_minutes = 20\n", 1
)


@pytest.fixture
def published(app, tmp_path, auth):
    folder = write_course(tmp_path)
    (folder / "quizzes" / "final.toml").write_text(PAGED)
    sync(app, folder)
    auth.login("educator")
    add_staff(app, "educator@example.org", "owner")
    return folder


def _counts(app) -> dict[str, int]:
    with app.app_context():
        report_services.compute_statistics(_course(), START + timedelta(days=1))
        db.session.commit()
        tables = (
            Attempt,
            AttemptAnswer,
            ProgressRecord,
            CourseCompletion,
            Enrolment,
            AuditEvent,
            ItemStatistic,
        )
        counts = {t.__name__: db.session.scalar(select(func.count()).select_from(t)) for t in tables}
        stat = db.session.scalar(select(QuizStatistic))
        counts["quiz attempts counted"] = stat.all_attempts if stat else 0
        return counts


def _value(html: str, name: str, text: str) -> str:
    """The opaque value of the option labelled ``text`` of field ``name``, as the widget shows it."""
    for input_id, value in re.findall(
        rf'<input type="(?:radio|checkbox)" id="([^"]+)" name="{name}" value="([^"]+)"', html
    ):
        if re.search(rf'<label for="{input_id}">{re.escape(text)}</label>', html):
            return value
    raise AssertionError(f"no option {text!r} for {name}")


def _hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]+)"', html).group(1)


def test_published_preview_pages_grades_and_records_nothing(app, client, published):
    before = _counts(app)
    first = client.get(URL)
    assert first.status_code == 200
    page1 = first.get_data(as_text=True)
    # The learner's attempt page: two questions per page, the timer, no autosave (nothing is stored).
    assert "Page 1 of 2" in page1 and "Time left" in page1 and "20 min" in page1
    assert "Which grade?" in page1 and "Fever is required" in page1 and "Which are vectors?" not in page1
    assert "data-autosave" not in page1 and "Nothing you answer is recorded" in page1
    token = _hidden(page1, "csrf_token")
    second = client.post(
        URL,
        data={
            "csrf_token": token,
            "state": _hidden(page1, "state"),
            "q1": _value(page1, "q1", "Two"),  # the key is B, the second option
            "q2": "true",
            "page": "2",
        },
    )
    page2 = second.get_data(as_text=True)
    assert second.status_code == 200 and "Page 2 of 2" in page2 and "Which are vectors?" in page2
    review = client.post(
        URL, data={"csrf_token": token, "state": _hidden(page2, "state"), "q3": _value(page2, "q3", "AAV")}
    )
    html = review.get_data(as_text=True)
    assert review.status_code == 200
    # 1 + 1 + ½ (one of the two right vectors): 2.5 of 3 points, graded and reviewed like a learner's attempt.
    assert "Score: <strong>83.3%</strong> (2.5 of 3 points)" in html and "Passed" in html
    assert html.count('badge-success">Correct</span>') == 2 and "Partly correct (50%)" in html
    assert "nothing was recorded" in html and "Preview again" in html
    assert _counts(app) == before

    # A learner giving the same answers gets the same grade from the real submission.
    learner = factories.create_user(app, email="same@example.org", full_name="Sam Same")
    attempt_id = answer(app, learner.id, "final", {"q1": "B", "q2": True, "q3": ["A"]}, START)
    with app.app_context():
        real = db.session.get(Attempt, attempt_id)
        assert (real.percent, real.points, real.max_points, real.passed) == (83.3, 2.5, 3.0, True)


def test_answers_survive_moving_between_pages(client, published):
    page1 = client.get(URL).get_data(as_text=True)
    token = _hidden(page1, "csrf_token")
    choice = _value(page1, "q1", "Two")
    page2 = client.post(
        URL, data={"csrf_token": token, "state": _hidden(page1, "state"), "q1": choice, "page": "2"}
    ).get_data(as_text=True)
    back = client.post(
        URL, data={"csrf_token": token, "state": _hidden(page2, "state"), "page": "1"}
    ).get_data(as_text=True)
    assert (
        re.search(rf'name="q1" value="{choice}"\s*checked', back) and "2 questions not answered yet" in back
    )


def test_an_altered_page_starts_a_fresh_preview(app, client, published):
    before = _counts(app)
    page1 = client.get(URL).get_data(as_text=True)
    token = _hidden(page1, "csrf_token")
    response = client.post(URL, data={"csrf_token": token, "state": _hidden(page1, "state") + "x"})
    assert response.status_code == 302 and response.headers["Location"].endswith(URL)
    assert _counts(app) == before


def test_evaluation_preview_says_nothing_was_recorded(app, client, published):
    url = f"/author/{SLUG}/quizzes/evaluation/preview"
    page = client.get(url).get_data(as_text=True)
    assert "The course was useful." in page
    result = client.post(
        url, data={"csrf_token": _hidden(page, "csrf_token"), "state": _hidden(page, "state")}
    )
    assert result.status_code == 200 and b"a preview: not recorded" in result.data
    assert b"has been recorded" not in result.data


def test_course_pages_link_to_the_preview(client, published):
    assert b'href="/author/reported/quizzes/final/preview"' in client.get(f"/author/{SLUG}/regrade").data
    assert b"Preview the published quizzes" in client.get(f"/author/{SLUG}").data


@pytest.mark.parametrize(
    ("role", "staff", "status"),
    [("learner", False, 404), ("educator", False, 404), ("educator", True, 200), ("admin", False, 200)],
)
def test_only_the_course_team_and_admins_preview(app, client, auth, tmp_path, role, staff, status):
    sync(app, write_course(tmp_path))
    auth.login(role)
    if staff:
        add_staff(app, f"{role}@example.org", "coauthor")
    assert client.get(URL).status_code == status
    if status == 404:  # a post is no way in either
        assert client.post(URL, data={}).status_code == 404


def test_unknown_or_unpublished_quiz_is_404(client, published):
    assert client.get(f"/author/{SLUG}/quizzes/nope/preview").status_code == 404
    assert client.get("/author/no-such-course/quizzes/final/preview").status_code == 404


def test_preview_draws_and_orders_like_a_learners_attempt(app, tmp_path):
    """Same seed, same draw and order as start_attempt (draw 2 of 3, shuffled): the learner's own rules."""
    from lms.authoring import preview
    from lms.quizzes import services as quiz_services
    from tests.web.test_reports import _quiz

    folder = write_course(tmp_path)
    drawn = FINAL.replace("pass_mark = 50\n", "pass_mark = 50\ndraw = 2\nshuffle_questions = true\n", 1)
    drawn = drawn.replace('id = "q1"\n', 'id = "q1"\ntags = ["vignette"]\n', 1)  # a final's draw needs one
    (folder / "quizzes" / "final.toml").write_text(drawn)
    sync(app, folder)
    learners = [factories.create_user(app, email=f"s{n}@example.org", full_name="Seeded") for n in range(4)]
    registry = app.extensions["lms"].question_types
    with app.app_context():
        quiz = _quiz("final")
        for learner, seed in zip(learners, (1, 2, 3, 12345), strict=True):
            shown = preview.published_attempt(quiz, quiz_services.quiz_questions(quiz), seed, START, {})
            real = quiz_services.start_attempt(learner.id, _course(), quiz, registry, now=START, seed=seed)
            db.session.flush()
            keys = [
                db.session.get(Question, a.question_id).key
                for a in db.session.scalars(
                    select(AttemptAnswer)
                    .where(AttemptAnswer.attempt_id == real.id)
                    .order_by(AttemptAnswer.position)
                )
            ]
            assert [a.question.key for a in shown.answers] == keys and len(keys) == 2


def test_one_question_at_a_time_navigation(app, tmp_path, client, auth):
    folder = write_course(tmp_path)
    sequential = FINAL.replace("pass_mark = 50\n", 'pass_mark = 50\nnavigation = "sequential"\n', 1)
    (folder / "quizzes" / "final.toml").write_text(sequential)
    sync(app, folder)
    auth.login("admin")
    first = client.get(URL).get_data(as_text=True)
    assert "Question 1 of 3" in first and "Question 2 of 3" not in first and 'name="go" value="2"' in first
    third = client.post(
        URL, data={"csrf_token": _hidden(first, "csrf_token"), "state": _hidden(first, "state"), "go": "3"}
    ).get_data(as_text=True)
    assert "Question 3 of 3" in third and "Which are vectors?" in third and 'aria-current="step"' in third

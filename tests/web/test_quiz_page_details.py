"""Quiz page details: review in the order seen, "Try again" after a failed attempt, evaluations unnumbered."""

from __future__ import annotations

import re

from sqlalchemy import select

from lms.extensions import db
from lms.qtypes.base import shuffled
from lms.quizzes.models import Attempt, AttemptAnswer, Question
from lms.quizzes.services import seen_order
from tests.packages import sync, write_package
from tests.web.test_quizzes import SURVEY, write_quiz_course

OPTIONS = ["One", "Two", "Three"]


def _start(app, client, auth, tmp_path):
    sync(app, write_package(tmp_path))
    auth.login("learner")
    client.post("/courses/test-course/enrol")
    response = client.post("/courses/test-course/quizzes/check/start")
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _shuffling_seed() -> int:
    """A seed whose order of q1's options differs from the authored one (found deterministically)."""
    return next(seed for seed in range(1, 1000) if shuffled(OPTIONS, seed, "q1") != OPTIONS)


def _order(html: str) -> list[str]:
    return [t for t in re.findall(r">\s*(One|Two|Three)\s*<", html)]


def test_review_lists_options_in_the_order_the_learner_saw(app, client, auth, tmp_path):
    attempt_id = _start(app, client, auth, tmp_path)
    with app.app_context():
        db.session.get(Attempt, attempt_id).seed = _shuffling_seed()
        db.session.commit()
    seen = _order(client.get(f"/attempts/{attempt_id}").get_data(as_text=True))
    assert sorted(seen) == sorted(OPTIONS) and seen != OPTIONS
    client.post(f"/attempts/{attempt_id}/submit")
    assert _order(client.get(f"/attempts/{attempt_id}/review").get_data(as_text=True)) == seen


def test_seen_order_is_a_pure_reordering():
    rows = [{"text": "A", "chosen": True}, {"text": "B"}, {"text": "C"}]
    seen = [{"text": "C"}, {"text": "A"}, {"text": "B"}]
    assert [r["text"] for r in seen_order(rows, seen)] == ["C", "A", "B"]
    assert seen_order(rows, [{"text": "B"}]) == [rows[1], rows[0], rows[2]]


def test_failed_attempt_with_attempts_left_offers_try_again(app, client, auth, tmp_path):
    attempt_id = _start(app, client, auth, tmp_path)
    with app.app_context():
        tf = db.session.scalar(
            select(AttemptAnswer.id)
            .join(Question, Question.id == AttemptAnswer.question_id)
            .where(AttemptAnswer.attempt_id == attempt_id, Question.key == "q2")
        )
    client.post(f"/attempts/{attempt_id}/submit", data={f"q{tf}": "false"})  # both answers wrong
    review = client.get(f"/attempts/{attempt_id}/review").get_data(as_text=True)
    assert "Not passed" in review
    main = re.search(r'<div class="actions">\s*(.*?)</div>', review, re.S).group(1)
    assert re.search(r'<button type="submit" class="button">Try again</button>', main)
    start = client.get("/courses/test-course/quizzes/check").get_data(as_text=True)
    assert ">Try again</button>" in start


def test_evaluation_is_not_labelled_attempt_1(app, client, auth, tmp_path):
    sync(app, write_quiz_course(tmp_path, questions=SURVEY, kind="survey"))
    auth.login("learner")
    client.post("/courses/quizzy/enrol")
    response = client.post("/courses/quizzy/quizzes/exam/start")
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "attempt 1" not in page.lower()
    client.post(f"/attempts/{attempt_id}/submit")
    assert "attempt 1" not in client.get(f"/attempts/{attempt_id}/review").get_data(as_text=True).lower()

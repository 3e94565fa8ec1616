"""The quiz engine through the app: pages, settings, integrity rules, concurrency."""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from lms.catalog.models import Course
from lms.extensions import db
from lms.learning.models import ProgressRecord
from lms.qtypes.base import token
from lms.quizzes import services
from lms.quizzes.models import Attempt, AttemptAnswer, Question
from lms.timeutil import utcnow
from tests import factories
from tests.concurrency import run_together
from tests.packages import filler, lesson, manifest, sync

ROOT = Path(__file__).resolve().parents[2]

QUESTIONS = """
[[questions]]
id = "sc"
type = "single_choice"
prompt = "Pick two."
answer = "B"
explanation = "EXPLANATION-SC teaches why."
reference = "lee2019"
options = [
  { text = "one", feedback = "FEEDBACK-SC-A" },
  { text = "two", feedback = "FEEDBACK-SC-B" },
  { text = "three", feedback = "FEEDBACK-SC-C" },
]

[[questions]]
id = "tf"
type = "true_false"
prompt = "Fever is required."
answer = true
feedback_true = "FEEDBACK-TF-TRUE"
feedback_false = "FEEDBACK-TF-FALSE"
explanation = "EXPLANATION-TF"

[[questions]]
id = "num"
type = "numeric"
prompt = "Tocilizumab dose?"
answer = 8
tolerance = 0
unit = "mg/kg"
feedback_correct = "FEEDBACK-NUM-OK"
feedback_incorrect = "FEEDBACK-NUM-NO"

[[questions]]
id = "sa"
type = "short_answer"
prompt = "Name the IL-6 receptor blocker."
accepted = ["tocilizumab"]
feedback_correct = "FEEDBACK-SA-OK"
feedback_incorrect = "FEEDBACK-SA-NO"
"""


def write_quiz_course(
    root: Path, slug: str = "quizzy", settings: str = "", questions: str = QUESTIONS, kind: str = "quiz"
) -> Path:
    folder = root / slug
    (folder / "lessons").mkdir(parents=True, exist_ok=True)
    (folder / "quizzes").mkdir(exist_ok=True)
    (folder / "lessons" / "intro.md").write_text(lesson("Intro", f"Read me.\n\n{filler(30)}", key="intro"))
    (folder / "quizzes" / "exam.toml").write_text(f'title = "Exam"\nkind = "{kind}"\n{settings}\n{questions}')
    module = '[[modules]]\nid = "m"\ntitle = "M"\nitems = ["lessons/intro.md", "quizzes/exam.toml"]\n'
    (folder / "course.toml").write_text(manifest(slug, module))
    return folder


@pytest.fixture
def quiz_course(app, tmp_path, request):
    marker = request.node.get_closest_marker("quiz_settings")
    settings = marker.args[0] if marker else ""
    sync(app, write_quiz_course(tmp_path, settings=settings))
    return "quizzy"


def _enrolled(client, auth, slug="quizzy", role="learner"):
    info = auth.login(role)
    client.post(f"/courses/{slug}/enrol", data={"action": "enrol"})
    return info


def _start(client, slug="quizzy", key="exam") -> int:
    response = client.post(f"/courses/{slug}/quizzes/{key}/start")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    match = re.match(r"/attempts/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def _fields(html: str) -> dict[str, list[str]]:
    """name → the values offered for it on the page (radio/checkbox values, or [''] for text)."""
    out: dict[str, list[str]] = {}
    for tag in re.findall(r"<(?:input|select|textarea)[^>]*>", html):
        name = re.search(r'name="(q\d+[^"]*)"', tag)
        if name:
            value = re.search(r'value="([^"]*)"', tag)
            out.setdefault(name.group(1), []).append(value.group(1) if value else "")
    return out


def _answer_map(app, attempt_id: int) -> dict[str, str]:
    """question key → form field name."""
    with app.app_context():
        rows = db.session.execute(
            select(Question.key, AttemptAnswer.id)
            .join(AttemptAnswer, AttemptAnswer.question_id == Question.id)
            .where(AttemptAnswer.attempt_id == attempt_id)
        ).all()
    return {key: f"q{aid}" for key, aid in rows}


def _sc(app, attempt_id: int, letter: str) -> str:
    """The page's opaque value for option ``letter`` of question "sc" in this attempt."""
    with app.app_context():
        seed = db.session.get(Attempt, attempt_id).seed
    return token(seed, "sc", "opt", "ABC".index(letter))


def _perfect(app, attempt_id: int) -> dict[str, str]:
    names = _answer_map(app, attempt_id)
    return {
        names["sc"]: _sc(app, attempt_id, "B"),
        names["tf"]: "true",
        names["num"]: "8",
        names["sa"]: " Tocilizumab ",
    }


def _attempt(app, attempt_id: int) -> Attempt:
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        db.session.expunge(attempt)
        return attempt


def test_start_page_and_enrolment_gate(client, auth, quiz_course):
    auth.login()
    assert client.get("/courses/quizzy/quizzes/exam").headers["Location"] == "/courses/quizzy"
    client.post("/courses/quizzy/enrol", data={"action": "enrol"})
    html = client.get("/courses/quizzy/quizzes/exam").get_data(as_text=True)
    assert "4 questions" in html and "Pass mark: 80%" in html and "unlimited" in html
    assert client.get("/courses/quizzy/quizzes/nope").status_code == 404


def test_no_key_in_any_page_or_response_before_submission(app, client, auth, quiz_course):
    _enrolled(client, auth)
    attempt_id = _start(client)
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    saved = client.post(
        f"/attempts/{attempt_id}/save",
        data={next(iter(_fields(html))): "A"},
        headers={"Accept": "application/json"},
    ).get_data(as_text=True)
    start_page = client.get("/courses/quizzy/quizzes/exam").get_data(as_text=True)
    for page in (html, saved, start_page):
        for secret in ("FEEDBACK-", "EXPLANATION-", "tocilizumab", "is-key"):
            assert secret not in page, secret
    for page in (html, saved):
        assert "correct" not in page.lower()
    assert "mg/kg" in html  # the unit is shown


def _done_all_but_gated(app, user_id: int, slug: str) -> None:
    """Record every item of the current edition except the (gated) final and evaluation as done."""
    from lms.catalog.models import CourseVersion, Item
    from lms.learning.services import record_completion

    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        version = db.session.scalar(
            select(CourseVersion).where(
                CourseVersion.course_id == course.id, CourseVersion.number == course.current_version_no
            )
        )
        for item in db.session.scalars(select(Item).where(Item.version_id == version.id)):
            if item.kind not in ("final", "survey"):
                record_completion(user_id, course.id, item.key, version.number, utcnow(), item.content_hash)
        db.session.commit()


def test_bundled_final_exam_page_holds_no_feedback(app, client, auth, runner):
    runner.invoke(args=["courses", "sync", str(ROOT / "courses" / "car-t-cell-therapy")])
    learner = _enrolled(client, auth, slug="car-t-cell-therapy")
    _done_all_but_gated(app, learner.id, "car-t-cell-therapy")  # the final is gated behind the rest
    attempt_id = _start(client, "car-t-cell-therapy", "final")
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    quiz = tomllib.loads((ROOT / "courses/car-t-cell-therapy/quizzes/final.toml").read_text())
    secrets = []
    for q in quiz["questions"]:
        secrets += [o["feedback"] for o in q.get("options", []) if o.get("feedback")]
        secrets += [
            q[k]
            for k in ("feedback_true", "feedback_false", "feedback_correct", "feedback_incorrect")
            if q.get(k)
        ]
    assert len(secrets) > 20
    for text in secrets:
        assert text[:60] not in html


def test_full_attempt_review_and_completion(app, client, auth, quiz_course):
    user = _enrolled(client, auth)
    attempt_id = _start(client)
    response = client.post(f"/attempts/{attempt_id}/submit", data=_perfect(app, attempt_id))
    assert response.headers["Location"] == f"/attempts/{attempt_id}/review"
    html = client.get(f"/attempts/{attempt_id}/review").get_data(as_text=True)
    assert "Score: <strong>100%</strong>" in html and "Passed" in html
    assert "FEEDBACK-SC-B" in html and "EXPLANATION-SC teaches why." in html
    assert "Lee DW" in html  # the reference
    with app.app_context():
        keys = set(
            db.session.scalars(select(ProgressRecord.item_key).where(ProgressRecord.user_id == user.id))
        )
    assert keys == {"exam"}
    assert "Done" in client.get("/courses/quizzy").get_data(as_text=True)


def test_failing_attempt_does_not_complete(app, client, auth, quiz_course):
    _enrolled(client, auth)
    attempt_id = _start(client)
    names = _answer_map(app, attempt_id)
    client.post(
        f"/attempts/{attempt_id}/submit", data={names["sc"]: _sc(app, attempt_id, "B"), names["tf"]: "false"}
    )
    attempt = _attempt(app, attempt_id)
    assert attempt.score == 0.25 and attempt.passed is False
    html = client.get(f"/attempts/{attempt_id}/review").get_data(as_text=True)
    assert "Not passed" in html and "Score: <strong>25%</strong>" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProgressRecord)) == 0


def test_other_learners_get_404(app, client, auth, quiz_course):
    _enrolled(client, auth)
    attempt_id = _start(client)
    factories.create_user(app, email="mallory@example.org", password="correct horse battery")
    other = app.test_client()
    other.post("/login", data={"email": "mallory@example.org", "password": "correct horse battery"})
    assert other.get(f"/attempts/{attempt_id}").status_code == 404
    assert other.get(f"/attempts/{attempt_id}/review").status_code == 404
    assert other.post(f"/attempts/{attempt_id}/save", data={}).status_code == 404
    assert other.post(f"/attempts/{attempt_id}/submit", data={}).status_code == 404
    assert _attempt(app, attempt_id).status == "in_progress"


def test_autosave_then_submit_without_fields_loses_nothing(app, client, auth, quiz_course):
    _enrolled(client, auth)
    attempt_id = _start(client)
    for name, value in _perfect(app, attempt_id).items():
        r = client.post(
            f"/attempts/{attempt_id}/save", data={name: value}, headers={"Accept": "application/json"}
        )
        assert r.status_code == 200 and r.json["saved"] == 1
    # The connection dropped; the learner comes back on another device and the page shows the answers.
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert 'value="8"' in html and "All questions answered." in html
    client.post(f"/attempts/{attempt_id}/submit", data={})
    assert _attempt(app, attempt_id).score == 1.0


def test_submitted_attempt_is_immutable_and_graded_once(app, client, auth, quiz_course):
    _enrolled(client, auth)
    attempt_id = _start(client)
    names = _answer_map(app, attempt_id)
    client.post(f"/attempts/{attempt_id}/submit", data={names["sc"]: _sc(app, attempt_id, "B")})
    first = _attempt(app, attempt_id)
    # A retried request with other answers, and an autosave: neither changes anything.
    client.post(f"/attempts/{attempt_id}/submit", data=_perfect(app, attempt_id))
    r = client.post(
        f"/attempts/{attempt_id}/save", data={names["tf"]: "true"}, headers={"Accept": "application/json"}
    )
    assert r.status_code == 409
    again = _attempt(app, attempt_id)
    assert (
        (again.score, again.submitted_at) == (first.score, first.submitted_at) == (0.25, first.submitted_at)
    )
    assert client.get(f"/attempts/{attempt_id}").headers["Location"] == f"/attempts/{attempt_id}/review"


def test_concurrent_submissions_grade_once(app, client, auth, quiz_course):
    _enrolled(client, auth)
    attempt_id = _start(client)
    registry = app.extensions["lms"].question_types
    user_id = _attempt(app, attempt_id).user_id

    def worker(answer: str, wait):
        with app.app_context():
            attempt = services.own_attempt(user_id, attempt_id)
            names = {a.question.key: a.id for a in attempt.answers}
            wait()
            outcome = services.submit_attempt(attempt, {names["sc"]: answer}, registry)
            db.session.commit()
            return outcome.graded_now

    outcomes, errors = run_together(worker, ["A", "B", "C"])
    assert errors == []
    assert sorted(outcomes) == [False, False, True]
    with app.app_context():
        graded = db.session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id)).all()
        assert all(a.feedback is not None for a in graded)


@pytest.mark.quiz_settings("time_limit_minutes = 10")
def test_late_submission_graded_on_saved_answers(app, client, auth, quiz_course):
    _enrolled(client, auth)
    attempt_id = _start(client)
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "data-timer" in html and 'data-seconds-left="' in html
    names = _answer_map(app, attempt_id)
    client.post(
        f"/attempts/{attempt_id}/save",
        data={names["sc"]: _sc(app, attempt_id, "B")},
        headers={"Accept": "application/json"},
    )
    with app.app_context():
        db.session.execute(
            update(Attempt)
            .where(Attempt.id == attempt_id)
            .values(deadline_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    late_save = client.post(
        f"/attempts/{attempt_id}/save", data={names["tf"]: "true"}, headers={"Accept": "application/json"}
    )
    assert late_save.status_code == 409
    client.post(f"/attempts/{attempt_id}/submit", data=_perfect(app, attempt_id))
    attempt = _attempt(app, attempt_id)
    assert attempt.late is True
    assert attempt.score == 0.25  # only the answer saved before the deadline counts


@pytest.mark.quiz_settings("time_limit_minutes = 10")
def test_expired_attempt_is_submitted_when_reopened(app, client, auth, quiz_course):
    _enrolled(client, auth)
    attempt_id = _start(client)
    with app.app_context():
        db.session.execute(
            update(Attempt)
            .where(Attempt.id == attempt_id)
            .values(deadline_at=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
    assert client.get(f"/attempts/{attempt_id}").headers["Location"] == f"/attempts/{attempt_id}/review"
    assert _attempt(app, attempt_id).status == "submitted"


@pytest.mark.quiz_settings("max_attempts = 2\ncooldown_minutes = 0")
def test_max_attempts(app, client, auth, quiz_course):
    _enrolled(client, auth)
    for _ in range(2):
        attempt_id = _start(client)
        client.post(f"/attempts/{attempt_id}/submit", data={})
    response = client.post("/courses/quizzy/quizzes/exam/start", follow_redirects=True)
    assert "You have used all 2 attempts" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attempt)) == 2


@pytest.mark.quiz_settings("cooldown_minutes = 60")
def test_cooldown(app, client, auth, quiz_course):
    _enrolled(client, auth)
    attempt_id = _start(client)
    client.post(f"/attempts/{attempt_id}/submit", data={})
    html = client.post("/courses/quizzy/quizzes/exam/start", follow_redirects=True).get_data(as_text=True)
    assert "Please wait before your next attempt" in html


def test_start_twice_resumes_the_open_attempt(client, auth, quiz_course):
    _enrolled(client, auth)
    assert _start(client) == _start(client)


@pytest.mark.quiz_settings("draw = 2\nshuffle_questions = true\nshuffle_options = true")
def test_pool_draw_and_stable_order(app, client, auth, quiz_course):
    _enrolled(client, auth)
    attempt_id = _start(client)
    with app.app_context():
        answers = db.session.scalars(
            select(AttemptAnswer)
            .where(AttemptAnswer.attempt_id == attempt_id)
            .order_by(AttemptAnswer.position)
        ).all()
        drawn = [a.question_id for a in answers]
    assert len(drawn) == 2
    form = re.compile(r'<form id="attempt-form".*?</form>', re.S)
    # The CSRF token is signed with a timestamp: it may change between two loads, the order must not.
    token = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*')

    def attempt_form() -> str:
        html = form.search(client.get(f"/attempts/{attempt_id}").get_data(as_text=True)).group(0)
        return token.sub(r"\1…", html)

    page1, page2 = attempt_form(), attempt_form()
    assert page1 == page2  # the same order on every load
    assert page1.count("data-question") == 2
    client.post(f"/attempts/{attempt_id}/submit", data={})
    review = client.get(f"/attempts/{attempt_id}/review").get_data(as_text=True)
    assert review.count('class="card review-item"') == 2


@pytest.mark.quiz_settings('grading_method = "latest"')
def test_grading_method_latest(app, client, auth, quiz_course):
    _enrolled(client, auth)
    first = _start(client)
    client.post(f"/attempts/{first}/submit", data=_perfect(app, first))
    second = _start(client)
    client.post(f"/attempts/{second}/submit", data={})
    html = client.get("/courses/quizzy/quizzes/exam").get_data(as_text=True)
    assert "You passed this quiz" not in html  # the latest (0%) counts
    assert "Attempt" in html and html.count("Review<span") == 2


@pytest.mark.parametrize(
    ("policy", "shows_explanation", "shows_correctness"),
    [("score", False, False), ("correctness", False, True), ("answers", True, True), ("never", False, False)],
)
def test_review_policies(app, client, auth, tmp_path, policy, shows_explanation, shows_correctness):
    sync(app, write_quiz_course(tmp_path, settings=f'review = "{policy}"'))
    _enrolled(client, auth)
    attempt_id = _start(client)
    names = _answer_map(app, attempt_id)
    client.post(f"/attempts/{attempt_id}/submit", data={names["sc"]: _sc(app, attempt_id, "A")})
    html = client.get(f"/attempts/{attempt_id}/review").get_data(as_text=True)
    assert "Score: <strong>0%</strong>" in html
    assert ("EXPLANATION-SC" in html) is shows_explanation
    assert ("FEEDBACK-SC-A" in html) is shows_explanation
    assert ("Not correct" in html) is shows_correctness


def test_review_after_pass(app, client, auth, tmp_path):
    sync(app, write_quiz_course(tmp_path, settings='review = "after_pass"'))
    _enrolled(client, auth)
    failed = _start(client)
    client.post(f"/attempts/{failed}/submit", data={})
    html = client.get(f"/attempts/{failed}/review").get_data(as_text=True)
    assert "EXPLANATION-SC" not in html and "once you pass" in html
    passed = _start(client)
    client.post(f"/attempts/{passed}/submit", data=_perfect(app, passed))
    assert "EXPLANATION-SC" in client.get(f"/attempts/{failed}/review").get_data(as_text=True)


def test_attempt_keeps_question_version(app, client, auth, tmp_path, runner):
    folder = write_quiz_course(tmp_path)
    sync(app, folder)
    _enrolled(client, auth)
    attempt_id = _start(client)
    client.post(f"/attempts/{attempt_id}/submit", data=_perfect(app, attempt_id))
    # The author changes the key of question "sc" to C in a new edition.
    exam = folder / "quizzes" / "exam.toml"
    exam.write_text(exam.read_text().replace('answer = "B"', 'answer = "C"'))
    sync(app, folder)
    with app.app_context():
        assert db.session.scalar(select(Course.current_version_no)) == 2
        answer = db.session.scalars(
            select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id)
        ).first()
        question = db.session.get(Question, answer.question_id)
        assert answer.question_hash == question.content_hash
    assert _attempt(app, attempt_id).score == 1.0
    html = client.get(f"/attempts/{attempt_id}/review").get_data(as_text=True)
    assert "Score: <strong>100%</strong>" in html
    # A new attempt uses the new version.
    new_id = _start(client)
    client.post(f"/attempts/{new_id}/submit", data=_perfect(app, new_id))
    assert _attempt(app, new_id).score == 0.75


def test_unknown_type_in_database_gives_clear_error(app, client, auth, quiz_course):
    _enrolled(client, auth)
    attempt_id = _start(client)
    with app.app_context():
        db.session.execute(update(Question).where(Question.key == "tf").values(type="ghost_type"))
        db.session.commit()
    # A plugin goes missing only across a restart: a new process starts with an empty content cache.
    app.extensions["lms_content"].clear()
    page = client.get(f"/attempts/{attempt_id}")
    assert page.status_code == 200
    assert "Unknown question type &#34;ghost_type&#34;" in page.get_data(as_text=True)
    client.post(f"/attempts/{attempt_id}/submit", data={})
    review = client.get(f"/attempts/{attempt_id}/review")
    assert review.status_code == 200
    start = client.get("/courses/quizzy/quizzes/exam").get_data(as_text=True)
    assert "not installed (ghost_type)" in start
    html = client.post("/courses/quizzy/quizzes/exam/start", follow_redirects=True).get_data(as_text=True)
    assert "not installed on this site (ghost_type)" in html


SURVEY = """
[[questions]]
id = "useful"
type = "likert"
prompt = "The course was relevant to my practice."

[[questions]]
id = "comments"
type = "free_text"
prompt = "Comments"
"""


def test_survey_records_completion_without_score(app, client, auth, tmp_path):
    sync(app, write_quiz_course(tmp_path, questions=SURVEY, kind="survey"))
    _enrolled(client, auth)
    attempt_id = _start(client)
    names = _answer_map(app, attempt_id)
    client.post(f"/attempts/{attempt_id}/submit", data={names["useful"]: "4", names["comments"]: "Great"})
    attempt = _attempt(app, attempt_id)
    assert attempt.score is None and attempt.status == "submitted"
    assert "your evaluation has been recorded" in client.get(f"/attempts/{attempt_id}/review").get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.scalar(select(ProgressRecord.item_key)) == "exam"
    again = client.post("/courses/quizzy/quizzes/exam/start", follow_redirects=True).get_data(as_text=True)
    assert "already submitted this evaluation" in again


PLUGIN_Q = """
[[questions]]
id = "kw"
type = "keyword"
prompt = "Name two CRS drugs."
keywords = ["tocilizumab", "dexamethasone"]
feedback_correct = "Both named."
"""


def test_third_party_question_type_end_to_end(app, client, auth, tmp_path):
    sync(app, write_quiz_course(tmp_path, questions=PLUGIN_Q))
    _enrolled(client, auth)
    attempt_id = _start(client)
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "<textarea" in html and "tocilizumab" not in html
    name = _answer_map(app, attempt_id)["kw"]
    client.post(f"/attempts/{attempt_id}/submit", data={name: "Tocilizumab, then dexamethasone"})
    assert _attempt(app, attempt_id).score == 1.0


@pytest.mark.quiz_settings('navigation = "sequential"')
def test_sequential_navigation(app, client, auth, quiz_course):
    _enrolled(client, auth)
    attempt_id = _start(client)
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "Question 1 of 4" in html and "Question 2 of 4" not in html
    names = _answer_map(app, attempt_id)
    response = client.post(
        f"/attempts/{attempt_id}/save", data={names["sc"]: _sc(app, attempt_id, "B"), "go": "2"}
    )
    assert response.headers["Location"] == f"/attempts/{attempt_id}?q=2"
    page2 = client.get(f"/attempts/{attempt_id}?q=2").get_data(as_text=True)
    assert "Question 2 of 4" in page2 and "(answered)" in page2
    client.post(f"/attempts/{attempt_id}/submit", data={names["tf"]: "true"})
    assert _attempt(app, attempt_id).score == 0.5


def test_ordering_and_matching_through_the_form(app, client, auth, tmp_path):
    questions = """
[[questions]]
id = "ord"
type = "ordering"
prompt = "Order the steps."
items = ["Leukapheresis", "Transduction", "Infusion"]

[[questions]]
id = "mat"
type = "matching"
prompt = "Match."
pairs = [ { prompt = "tisa-cel", match = "4-1BB" }, { prompt = "axi-cel", match = "CD28" } ]
distractors = ["CD20"]
"""
    sync(app, write_quiz_course(tmp_path, questions=questions))
    _enrolled(client, auth)
    attempt_id = _start(client)
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    names = _answer_map(app, attempt_id)
    options = dict(re.findall(r'<option value="([0-9a-f]{12})"[^>]*>([^<]+)</option>', html))
    by_text = {text: value for value, text in options.items()}
    prompts = dict(
        (text, tok)
        for tok, text in re.findall(rf'<label for="{names["mat"]}-([0-9a-f]{{12}})">([^<]+)</label>', html)
    )
    data = {
        f"{names['ord']}-0": by_text["Leukapheresis"],
        f"{names['ord']}-1": by_text["Transduction"],
        f"{names['ord']}-2": by_text["Infusion"],
        f"{names['mat']}-{prompts['tisa-cel']}": by_text["4-1BB"],
        f"{names['mat']}-{prompts['axi-cel']}": by_text["CD20"],
    }
    client.post(f"/attempts/{attempt_id}/save", data=data)
    again = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert f'<option value="{by_text["Transduction"]}" selected>' in again  # saved choices are shown again
    client.post(f"/attempts/{attempt_id}/submit", data={})
    assert _attempt(app, attempt_id).score == 0.75


@pytest.mark.quiz_settings("max_attempts = 1")
def test_concurrent_starts_create_one_attempt(app, client, auth, quiz_course):
    info = _enrolled(client, auth)
    registry = app.extensions["lms"].question_types

    def worker(_n: int, wait):
        with app.app_context():
            course = db.session.scalar(select(Course).where(Course.slug == "quizzy"))
            quiz, _item, _version = services.current_quiz(course, "exam")
            wait()
            try:
                attempt = services.start_attempt(info.id, course, quiz, registry)
            except services.QuizError:
                db.session.rollback()
                return None
            db.session.commit()
            return attempt.id

    ids, errors = run_together(worker, range(4))
    assert errors == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attempt)) == 1
    assert len({i for i in ids if i is not None}) == 1


def test_autosave_cannot_change_a_submitted_attempt_from_a_stale_copy(app, client, auth, quiz_course):
    user = _enrolled(client, auth)
    attempt_id = _start(client)
    registry = app.extensions["lms"].question_types
    with app.app_context():
        stale = services.own_attempt(user.id, attempt_id)  # loaded while still open
        names = {a.question.key: a.id for a in stale.answers}
        with app.app_context():  # meanwhile, another request submits the attempt
            fresh = services.own_attempt(user.id, attempt_id)
            services.submit_attempt(fresh, {}, registry)
            db.session.commit()
        assert stale.status == "in_progress"
        with pytest.raises(services.QuizError, match="submitted"):
            services.save_responses(stale, {names["sc"]: "B"})
        db.session.rollback()
    with app.app_context():
        responses = db.session.scalars(
            select(AttemptAnswer.response).where(AttemptAnswer.attempt_id == attempt_id)
        )
        assert all(r is None for r in responses)


def test_attempt_ids_out_of_range_are_404(client, auth, quiz_course):
    auth.login()
    assert client.get("/attempts/99999999999999999999999").status_code == 404
    assert client.get("/attempts/2147483648/review").status_code == 404


def test_oversized_answers_are_not_stored(app, client, auth, quiz_course):
    _enrolled(client, auth)
    attempt_id = _start(client)
    names = _answer_map(app, attempt_id)
    client.post(
        f"/attempts/{attempt_id}/save",
        data={names["sc"]: "x" * 100_000, names["sa"]: "y" * 100_000, names["num"]: "9" * 1000},
        headers={"Accept": "application/json"},
    )
    with app.app_context():
        stored = {a.id: a.response for a in db.session.scalars(select(AttemptAnswer))}
    assert stored[int(names["sc"][1:])] is None
    assert len(stored[int(names["sa"][1:])]) <= 500
    assert len(stored[int(names["num"][1:])]) <= 64

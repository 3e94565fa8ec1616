"""Edition 2026.2 engine rules through the app: gating, attempt sets and grants, stratified draws, after_pass
review, review-overdue warnings and badge, lesson-text search, and progress across two editions (issue 12)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.auth.models import AuditEvent
from lms.catalog.models import Course, CourseVersion
from lms.extensions import db
from lms.quizzes import services as quiz_services
from lms.quizzes.models import Attempt, AttemptGrant, Quiz
from lms.timeutil import utcnow
from tests.certs import read_lessons, take_quiz
from tests.packages import filler, lesson, manifest, sync

NOW = datetime(2026, 11, 26, 9, 0)
SLUG = "edition"


def _tf(key: str, *, vignette: bool = False, explanation: str = "") -> str:
    tags = 'tags = ["vignette"]\n' if vignette else ""
    return (
        f'[[questions]]\nid = "{key}"\ntype = "true_false"\nprompt = "Statement {key}."\nanswer = true\n'
        f'feedback_true = "Yes."\nfeedback_false = "No."\n'
        f'explanation = "{explanation or "EXPL-" + key}"\n{tags}\n'
    )


M1 = 'title = "Module check"\nkind = "quiz"\npass_mark = 50\ndraw = 4\n' + "".join(
    _tf(f"m{n}", vignette=n <= 3) for n in range(1, 7)
)
FINAL = (
    'title = "Final assessment"\nkind = "final"\npass_mark = 80\ndraw = 4\nattempts_per_set = 3\n'
    'lockout_hours = 24\nreview = "after_pass"\n'
    + "".join(_tf(f"f{n}", vignette=n <= 3) for n in range(1, 7))
)
EVALUATION = (
    'title = "Evaluation"\nkind = "survey"\n\n'
    '[[questions]]\nid = "useful"\ntype = "likert"\nprompt = "Useful."\n'
)


def write_edition_course(
    root: Path, *, edition: str = "2026.1", l2_body: str = "Second lesson text.", dates: str = ""
) -> Path:
    """l1 (30 minutes of reading), l2, a drawn module quiz, a gated final with sets of 3, an evaluation."""
    folder = root / f"{SLUG}-{edition}"
    (folder / "lessons").mkdir(parents=True, exist_ok=True)
    (folder / "quizzes").mkdir(exist_ok=True)
    (folder / "lessons" / "l1.md").write_text(
        lesson("Lesson one", f"First [@lee2019]. {filler(30)}", key="l1")
    )
    (folder / "lessons" / "l2.md").write_text(lesson("Lesson two", l2_body, key="l2"))
    (folder / "quizzes" / "m1.toml").write_text(M1)
    (folder / "quizzes" / "final.toml").write_text(FINAL)
    (folder / "quizzes" / "evaluation.toml").write_text(EVALUATION)
    items = [
        "lessons/l1.md",
        "lessons/l2.md",
        "quizzes/m1.toml",
        "quizzes/final.toml",
        "quizzes/evaluation.toml",
    ]
    modules = (
        'final_quiz = "final"\nevaluation = "evaluation"\n\n'
        '[[modules]]\nid = "m"\ntitle = "Module"\nitems = [' + ", ".join(f'"{i}"' for i in items) + "]\n"
    )
    text = manifest(SLUG, modules).replace('edition = "2026.1"', f'edition = "{edition}"')
    if dates:
        text = re.sub(r"\[dates\]\n.*?\n\n", f"[dates]\n{dates}\n\n", text, flags=re.S)
    (folder / "course.toml").write_text(text)
    return folder


@pytest.fixture
def course(app, tmp_path):
    sync(app, write_edition_course(tmp_path))
    return SLUG


def _enrol(client, auth, role="learner"):
    info = auth.login(role)
    assert client.post(f"/courses/{SLUG}/enrol", data={"action": "enrol"}).status_code == 302
    return info


def _current_quiz(key: str) -> Quiz:
    course = db.session.scalar(select(Course).where(Course.slug == SLUG))
    return quiz_services.current_quiz(course, key)[0]


def _attempts(app, user_id: int) -> list[Attempt]:
    with app.app_context():
        return list(
            db.session.scalars(select(Attempt).where(Attempt.user_id == user_id).order_by(Attempt.id))
        )


# 1. Gating


def test_final_and_evaluation_open_only_when_everything_else_is_done(app, client, auth, course):
    learner = _enrol(client, auth)
    syllabus = client.get(f"/courses/{SLUG}").get_data(as_text=True)
    assert syllabus.count("Opens when the rest is done") == 2  # the final and the evaluation
    page = client.get(f"/courses/{SLUG}/quizzes/final").get_data(as_text=True)
    assert "Still to do" in page and "Lesson one" in page and "Lesson two" in page and "Module check" in page
    assert f'action="/courses/{SLUG}/quizzes/final/start"' not in page
    refused = client.post(f"/courses/{SLUG}/quizzes/final/start")
    assert refused.status_code == 302 and refused.headers["Location"].endswith(
        f"/courses/{SLUG}/quizzes/final"
    )
    followed = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "This opens once every other required part of the course is done on this edition" in followed
    assert _attempts(app, learner.id) == []

    client.post(f"/courses/{SLUG}/lessons/l1/complete")
    client.post(f"/courses/{SLUG}/lessons/l2/complete")
    evaluation = client.get(f"/courses/{SLUG}/quizzes/evaluation").get_data(as_text=True)
    assert "Still to do" in evaluation and "Module check" in evaluation and "Final assessment" in evaluation
    assert take_quiz(app, learner.id, SLUG, "m1", True, NOW)
    page = client.get(f"/courses/{SLUG}/quizzes/final").get_data(as_text=True)
    assert "Still to do" not in page and f'action="/courses/{SLUG}/quizzes/final/start"' in page
    assert client.get(f"/courses/{SLUG}").get_data(as_text=True).count("Opens when the rest is done") == 1
    started = client.post(f"/courses/{SLUG}/quizzes/final/start")
    assert re.match(r"/attempts/\d+$", started.headers["Location"])


def test_ungated_course_opens_the_final_at_once(app, client, auth, tmp_path):
    folder = write_edition_course(tmp_path)
    text = (folder / "course.toml").read_text()
    (folder / "course.toml").write_text(
        text.replace('final_quiz = "final"', 'final_quiz = "final"\ngated = false')
    )
    sync(app, folder)
    _enrol(client, auth)
    assert re.match(
        r"/attempts/\d+$", client.post(f"/courses/{SLUG}/quizzes/final/start").headers["Location"]
    )


# 2. Attempt sets, lockout and grants


def _ready_for_final(app, user_id: int, now: datetime) -> None:
    read_lessons(app, user_id, SLUG, now)
    assert take_quiz(app, user_id, SLUG, "m1", True, now)


def test_three_failed_attempts_lock_the_final_for_24_hours(app, client, auth, course):
    learner = _enrol(client, auth)
    _ready_for_final(app, learner.id, NOW)
    for n in range(3):
        assert not take_quiz(app, learner.id, SLUG, "final", False, NOW + timedelta(hours=1, minutes=10 * n))
    last_submission = NOW + timedelta(hours=1, minutes=25)
    registry = app.extensions["lms"].question_types
    with app.app_context():
        course_row = db.session.scalar(select(Course).where(Course.slug == SLUG))
        with pytest.raises(quiz_services.QuizError, match="opens on Friday 27 November 2026 at 10:25 UTC"):
            quiz_services.start_attempt(
                learner.id,
                course_row,
                _current_quiz("final"),
                registry,
                now=last_submission + timedelta(hours=23, minutes=59),
            )
        db.session.rollback()
    # a new set of three opens 24 h after the last submission
    for n in range(3):
        assert not take_quiz(
            app, learner.id, SLUG, "final", False, last_submission + timedelta(hours=24, minutes=n * 10)
        )
    assert len(_attempts(app, learner.id)) == 1 + 6


def test_locked_page_says_when_and_an_audited_grant_opens_one_attempt(app, client, auth, runner, course):
    learner = _enrol(client, auth)
    start = utcnow() - timedelta(hours=3)  # the page judges against the clock: submissions just before it
    _ready_for_final(app, learner.id, start)
    for n in range(3):
        take_quiz(app, learner.id, SLUG, "final", False, start + timedelta(minutes=30 + 10 * n))
    page = client.get(f"/courses/{SLUG}/quizzes/final").get_data(as_text=True)
    assert re.search(
        r"A new set of 3 opens on [A-Z][a-z]+day \d{1,2} [A-Z][a-z]+ \d{4} at \d\d:\d\d UTC", page
    )
    assert f'action="/courses/{SLUG}/quizzes/final/start"' not in page
    assert client.post(f"/courses/{SLUG}/quizzes/final/start").status_code == 302
    assert len(_attempts(app, learner.id)) == 1 + 3

    missing = runner.invoke(
        args=[
            "quizzes",
            "grant-attempt",
            learner.email,
            "--course",
            SLUG,
            "--quiz",
            "final",
            "--reason",
            "  ",
        ]
    )
    assert missing.exit_code == 1 and "Give a reason" in missing.output
    result = runner.invoke(
        args=[
            "quizzes",
            "grant-attempt",
            learner.email,
            "--course",
            SLUG,
            "--quiz",
            "final",
            "--reason",
            "Power cut during attempt 3",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        grant = db.session.scalar(select(AttemptGrant))
        assert grant.user_id == learner.id and grant.reason == "Power cut during attempt 3"
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "attempt.grant"))
        assert event.target_id == str(learner.id) and "Power cut during attempt 3" in event.detail
    started = client.post(f"/courses/{SLUG}/quizzes/final/start")
    assert re.match(r"/attempts/\d+$", started.headers["Location"])


def test_grant_for_an_unknown_quiz_or_learner_is_refused(runner, course, auth):
    auth.user()
    bad_quiz = runner.invoke(
        args=[
            "quizzes",
            "grant-attempt",
            "learner@example.org",
            "--course",
            SLUG,
            "--quiz",
            "nope",
            "--reason",
            "x",
        ]
    )
    assert bad_quiz.exit_code == 1 and "no quiz 'nope'" in bad_quiz.output
    bad_user = runner.invoke(
        args=[
            "quizzes",
            "grant-attempt",
            "ghost@example.org",
            "--course",
            SLUG,
            "--quiz",
            "final",
            "--reason",
            "x",
        ]
    )
    assert bad_user.exit_code == 1 and "no account" in bad_user.output


# 3. Stratified draw and after_pass review


def test_every_draw_is_at_least_half_vignettes(app, client, auth, course):
    learner = _enrol(client, auth)
    registry = app.extensions["lms"].question_types
    with app.app_context():
        course_row = db.session.scalar(select(Course).where(Course.slug == SLUG))
        quiz = _current_quiz("m1")
        drawn_sets = set()
        for seed in range(1, 13):
            attempt_id = quiz_services.start_attempt(
                learner.id, course_row, quiz, registry, now=NOW, seed=seed
            ).id
            db.session.commit()
            attempt = quiz_services.own_attempt(learner.id, attempt_id)
            keys = [a.question.key for a in attempt.answers]
            assert len(keys) == 4 and sum(1 for k in keys if k in {"m1", "m2", "m3"}) >= 2
            drawn_sets.add(tuple(keys))
            quiz_services.submit_attempt(attempt, {}, registry, now=NOW)
            db.session.commit()
        assert len(drawn_sets) > 1


def test_final_shows_answers_only_after_passing(app, client, auth, course):
    learner = _enrol(client, auth)
    _ready_for_final(app, learner.id, NOW)
    take_quiz(app, learner.id, SLUG, "final", False, NOW + timedelta(hours=1))
    failed = _attempts(app, learner.id)[-1]
    review = client.get(f"/attempts/{failed.id}/review").get_data(as_text=True)
    assert "EXPL-" not in review
    take_quiz(app, learner.id, SLUG, "final", True, NOW + timedelta(hours=2))
    passed = _attempts(app, learner.id)[-1]
    assert passed.passed
    assert "EXPL-" in client.get(f"/attempts/{passed.id}/review").get_data(as_text=True)


# 5. Dated currency


def test_validate_warns_when_review_is_overdue_and_still_exits_0(runner, tmp_path):
    folder = write_edition_course(tmp_path)  # last_review = 2026-11-01
    current = runner.invoke(args=["courses", "validate", str(folder), "--today", "2027-11-01"])
    assert current.exit_code == 0 and "review overdue" not in current.output
    # lessons 31 + 1, module quiz and final 4 drawn × 2 minutes each, evaluation 1
    assert "49 minutes of content (pre-test excluded)" in current.output
    overdue = runner.invoke(args=["courses", "validate", str(folder), "--today", "2027-11-02"])
    assert overdue.exit_code == 0, overdue.output
    assert (
        "warning:" in overdue.output
        and "course.toml: dates: review overdue: last_review 2026-11-01" in overdue.output
    )


def test_review_overdue_badge_is_for_educators_and_admins_only(app, client, auth, tmp_path):
    old = "release = 2020-01-01\nlast_review = 2020-01-01\nexpiry = 2099-12-31"
    sync(app, write_edition_course(tmp_path, dates=old))
    auth.login("learner")
    assert "Review overdue" not in client.get(f"/courses/{SLUG}").get_data(as_text=True)
    auth.logout()
    for role in ("educator", "admin"):
        auth.login(role)
        assert "Review overdue" in client.get(f"/courses/{SLUG}").get_data(as_text=True), role
        auth.logout()


def test_no_badge_for_a_recently_reviewed_course(app, client, auth, tmp_path):
    recent = "release = 2098-01-01\nlast_review = 2098-01-01\nexpiry = 2099-12-31"
    sync(app, write_edition_course(tmp_path, dates=recent))
    auth.login("admin")
    assert "Review overdue" not in client.get(f"/courses/{SLUG}").get_data(as_text=True)


# 6. Search finds lesson text


def test_search_finds_lesson_text_normalised_and_shows_the_lesson(app, client, tmp_path):
    body = "Give **tocilizumab** for grade 2 cytokine release syndrome after CAR-T cell infusion."
    sync(app, write_edition_course(tmp_path, l2_body=body))
    from tests.packages import write_package

    sync(app, write_package(tmp_path / "other", slug="other-course", title="Unrelated course"))
    for query in ("tocilizumab", "TOCILIZUMAB", "CAR T", "car-t cell", "car–t"):
        html = client.get("/courses", query_string={"q": query}).get_data(as_text=True)
        assert f'href="/courses/{SLUG}"' in html, query
        assert "Unrelated course" not in html, query
        assert f'href="/courses/{SLUG}/lessons/l2"' in html and "Lesson two" in html, query
    assert "No course matches" in client.get("/courses", query_string={"q": "pembrolizumab"}).get_data(
        as_text=True
    )
    # titles still match, and accents are ignored
    assert "Unrelated course" in client.get("/courses", query_string={"q": "unrélated"}).get_data(
        as_text=True
    )


def test_search_ignores_lessons_of_earlier_editions(app, client, tmp_path):
    sync(app, write_edition_course(tmp_path, l2_body="Mentions tocilizumab."))
    sync(app, write_edition_course(tmp_path, edition="2026.2", l2_body="Mentions siltuximab instead."))
    assert "No course matches" in client.get("/courses", query_string={"q": "tocilizumab"}).get_data(
        as_text=True
    )
    assert f'href="/courses/{SLUG}"' in client.get("/courses", query_string={"q": "siltuximab"}).get_data(
        as_text=True
    )


# 7. A new edition keeps progress on unchanged lessons and asks for changed ones again


def test_new_edition_keeps_unchanged_lessons_and_requires_changed_ones(app, client, auth, tmp_path):
    sync(app, write_edition_course(tmp_path))
    learner = _enrol(client, auth)
    assert client.post(f"/courses/{SLUG}/lessons/l1/complete").status_code == 302
    assert client.post(f"/courses/{SLUG}/lessons/l2/complete").status_code == 302
    assert take_quiz(app, learner.id, SLUG, "m1", True, NOW)
    assert client.get(f"/courses/{SLUG}/resume").headers["Location"].endswith("/quizzes/final")

    sync(app, write_edition_course(tmp_path, edition="2026.2", l2_body="Second lesson, revised for 2026.2."))
    with app.app_context():
        course_row = db.session.scalar(select(Course).where(Course.slug == SLUG))
        assert course_row.current_version_no == 2
        version = db.session.scalar(
            select(CourseVersion).where(CourseVersion.course_id == course_row.id, CourseVersion.number == 2)
        )
        assert version.edition == "2026.2"
    # l1 and the unchanged module quiz carry over; the changed l2 must be read again, and gates the final
    assert client.get(f"/courses/{SLUG}/resume").headers["Location"].endswith("/lessons/l2")
    page = client.get(f"/courses/{SLUG}/quizzes/final").get_data(as_text=True)
    assert "Still to do" in page and "Lesson two" in page and "Module check" not in page
    assert "Lesson one" not in page.split("Still to do", 1)[1]
    client.post(f"/courses/{SLUG}/lessons/l2/complete")
    assert client.get(f"/courses/{SLUG}/resume").headers["Location"].endswith("/quizzes/final")


def test_admin_grants_an_extra_attempt_from_the_user_page(app, client, auth, course):
    learner = auth.user("learner")
    auth.login("admin")
    page = client.get(f"/admin/users/{learner.id}").get_data(as_text=True)
    assert "Grant one extra attempt" in page
    url = f"/admin/users/{learner.id}/grant-attempt"
    no_reason = client.post(url, data={"course": SLUG, "quiz": "final", "reason": ""})
    assert no_reason.status_code == 400 and "Give a reason." in no_reason.get_data(as_text=True)
    bad_quiz = client.post(url, data={"course": SLUG, "quiz": "nope", "reason": "Power cut"})
    assert bad_quiz.status_code == 400 and "no quiz" in bad_quiz.get_data(as_text=True)
    assert client.post(url, data={"course": SLUG, "quiz": "final", "reason": "Power cut"}).status_code == 302
    trail = client.get(f"/admin/users/{learner.id}").get_data(as_text=True)
    assert "attempt.grant" in trail and "Power cut" in trail
    with app.app_context():
        grant = db.session.scalar(select(AttemptGrant))
        assert grant.user_id == learner.id and grant.granted_by_id == auth.user("admin").id
    auth.logout()
    auth.login("learner")
    assert client.post(url, data={"course": SLUG, "quiz": "final", "reason": "Me"}).status_code in (403, 404)

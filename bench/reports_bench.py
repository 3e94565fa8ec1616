"""Benchmark: a course's report pages with many learners (`make bench` runs it with 10,000).

Seeds a throwaway SQLite database with the bundled CAR-T course and N simulated learners (enrolment, lesson
progress, one or two attempts at the 16-question final, the evaluation), recomputes the statistics as the
background job does, then times each report page through the test client as an administrator. The target
is under 200 ms per page at 10,000 learners on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select

from lms import create_app
from lms.config import TestingConfig

SLUG = "car-t-cell-therapy"
START = datetime(2026, 11, 1, 9, 0)
TARGET_MS = 200.0


def seed(app, learners: int, rng: random.Random) -> None:
    """Insert learners and their work in bulk (core inserts: the ORM would dominate the set-up time)."""
    from lms.auth.models import User, search_text_for
    from lms.catalog.models import Course, CourseVersion, Enrolment, Item
    from lms.extensions import db
    from lms.learning.models import ProgressRecord
    from lms.quizzes.models import Attempt, AttemptAnswer, Question, Quiz

    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == SLUG))
        version = db.session.scalar(
            select(CourseVersion).where(
                CourseVersion.course_id == course.id, CourseVersion.number == course.current_version_no
            )
        )
        items = list(db.session.scalars(select(Item).where(Item.version_id == version.id)))
        quizzes = {q.key: q for q in db.session.scalars(select(Quiz).where(Quiz.version_id == version.id))}
        final, evaluation = quizzes["final"], quizzes["evaluation"]
        questions = {
            key: list(
                db.session.scalars(
                    select(Question).where(Question.quiz_id == quiz.id).order_by(Question.position)
                )
            )
            for key, quiz in (("final", final), ("evaluation", evaluation))
        }
        difficulty = {q.id: rng.uniform(-1.5, 1.5) for q in questions["final"]}
        professions = ["physician", "nurse", "pharmacist", "genetic_counsellor", "researcher", "other"]
        first_id = (db.session.scalar(select(db.func.max(User.id))) or 0) + 1
        db.session.execute(
            insert(User),
            [
                {
                    "id": first_id + i,
                    "email": f"learner{i}@bench.invalid",
                    "password_hash": "!",
                    "full_name": f"Learner {i:05d}",
                    "search_text": search_text_for(f"Learner {i:05d}", f"learner{i}@bench.invalid"),
                    "profession": professions[i % len(professions)],
                    "specialty": "",
                    "country": "GB",
                    "licence_number": f"L{i:06d}",
                    "created_at": START,
                    "session_version": 0,
                }
                for i in range(learners)
            ],
        )
        user_ids = [first_id + i for i in range(learners)]
        db.session.execute(
            insert(Enrolment),
            [
                {"user_id": u, "course_id": course.id, "enrolled_at": START, "last_activity_at": START}
                for u in user_ids
            ],
        )
        progress, attempts, answers = [], [], []
        attempt_id = 1
        for n, user_id in enumerate(user_ids):
            ability = rng.gauss(0, 1)
            reached = rng.randint(0, len(items))
            progress.extend(
                {
                    "user_id": user_id,
                    "course_id": course.id,
                    "item_key": item.key,
                    "completed_at": START + timedelta(minutes=k),
                    "version_no": version.number,
                    "content_hash": item.content_hash,
                }
                for k, item in enumerate(items[:reached])
            )
            if reached < len(items) // 2:
                continue
            for number in (1, 2) if n % 3 == 0 else (1,):
                scores = {
                    q.id: 1.0
                    if rng.random() < 1 / (1 + math.exp(difficulty[q.id] - ability - number + 1))
                    else 0.0
                    for q in questions["final"]
                }
                points = sum(scores[q.id] * q.points for q in questions["final"])
                max_points = sum(q.points for q in questions["final"])
                attempts.append(
                    {
                        "id": attempt_id,
                        "user_id": user_id,
                        "course_id": course.id,
                        "quiz_id": final.id,
                        "quiz_key": "final",
                        "number": number,
                        "seed": rng.getrandbits(62),
                        "status": "submitted",
                        "started_at": START,
                        "submitted_at": START + timedelta(minutes=30),
                        "late": False,
                        "score": points / max_points,
                        "points": points,
                        "max_points": max_points,
                        "passed": points / max_points >= 0.8,
                    }
                )
                for pos, q in enumerate(questions["final"], 1):
                    letters = [chr(65 + i) for i in range(len(q.spec.get("options", [])))]
                    if q.type == "single_choice":
                        wrong = [x for x in letters if x != q.spec["answer"]]
                        response = q.spec["answer"] if scores[q.id] else rng.choice(wrong)
                    elif q.type == "true_false":
                        response = q.spec["answer"] if scores[q.id] else not q.spec["answer"]
                    else:
                        response = None
                    answers.append(
                        {
                            "attempt_id": attempt_id,
                            "question_id": q.id,
                            "position": pos,
                            "question_hash": q.content_hash,
                            "response": response,
                            "score": scores[q.id],
                            "correct": bool(scores[q.id]),
                        }
                    )
                attempt_id += 1
            if reached == len(items):
                attempts.append(
                    {
                        "id": attempt_id,
                        "user_id": user_id,
                        "course_id": course.id,
                        "quiz_id": evaluation.id,
                        "quiz_key": "evaluation",
                        "number": 1,
                        "seed": rng.getrandbits(62),
                        "status": "submitted",
                        "started_at": START,
                        "submitted_at": START + timedelta(minutes=40),
                        "late": False,
                    }
                )
                for pos, q in enumerate(questions["evaluation"], 1):
                    answers.append(
                        {
                            "attempt_id": attempt_id,
                            "question_id": q.id,
                            "position": pos,
                            "question_hash": q.content_hash,
                            "response": rng.randint(0, 4) if q.type == "likert" else f"Comment {n}",
                        }
                    )
                attempt_id += 1
        for model, rows in ((ProgressRecord, progress), (Attempt, attempts), (AttemptAnswer, answers)):
            for start in range(0, len(rows), 20000):
                db.session.execute(insert(model), rows[start : start + 20000])
        db.session.commit()


def time_page(client, path: str, repeat: int) -> float:
    """Median milliseconds of ``repeat`` requests (after one warm-up request)."""
    client.get(path)
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=10_000, help="simulated learners")
    parser.add_argument("--repeat", type=int, default=5, help="timed requests per page")
    args = parser.parse_args(argv)
    rng = random.Random(20261201)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "CONFIG_CLASS": TestingConfig,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
                "MAIL_OUTBOX": f"{tmp}/outbox",
                "REPORTS_STATS_MAX_AGE_MINUTES": 0,
            }
        )
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
        runner = app.test_cli_runner()
        courses = Path(__file__).resolve().parents[1] / "courses" / SLUG
        runner.invoke(args=["courses", "sync", str(courses)])
        runner.invoke(
            args=[
                "users",
                "create",
                "admin@bench.invalid",
                "--name",
                "Bench",
                "--role",
                "admin",
                "--password-stdin",
            ],
            input="bench password 123\n",
        )
        began = time.perf_counter()
        seed(app, args.learners, rng)
        seeded = time.perf_counter() - began
        began = time.perf_counter()
        result = runner.invoke(args=["reports", "refresh", SLUG])
        assert result.exit_code == 0, result.output
        refreshed = time.perf_counter() - began
        client = app.test_client()
        client.post("/login", data={"email": "admin@bench.invalid", "password": "bench password 123"})
        print(
            f"Reports with {args.learners} learners (seeded in {seeded:.1f} s; "
            f"statistics job {refreshed:.2f} s)"
        )
        print(f"{'page':<44} {'median ms':>10}  target < {TARGET_MS:.0f} ms")
        slow = 0
        for label, path in [
            ("overview (funnel, quiz results)", f"/reports/{SLUG}"),
            ("learners, sorted by progress", f"/reports/{SLUG}/learners?sort=progress&dir=desc"),
            ("learners, filtered by name", f"/reports/{SLUG}/learners?q=Learner+0001"),
            ("item analysis of the final", f"/reports/{SLUG}/quizzes/final"),
            ("evaluation summary", f"/reports/{SLUG}/evaluation"),
        ]:
            ms = time_page(client, path, args.repeat)
            slow += ms >= TARGET_MS
            print(f"{label:<44} {ms:>10.1f}  {'ok' if ms < TARGET_MS else 'SLOW'}")
        print(
            "learners CSV (all rows, not a page)".ljust(44),
            f"{time_page(client, f'/reports/{SLUG}/learners.csv', 1):>10.1f}",
        )
    if slow:
        print(f"{slow} page(s) at or over {TARGET_MS:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

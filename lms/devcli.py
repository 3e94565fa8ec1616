"""Development commands: ``flask reset`` (start over, keeping the keys that make credentials verifiable)
and ``flask dev seed`` (realistic volumes of learners and their work for benchmarks and load tests)."""

from __future__ import annotations

import json
import math
import random
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import JSON, text

from lms.dbconn import begin_on_driver
from lms.extensions import db
from lms.learning.progress import Policy, SyllabusItem

#: what ``reset`` removes from ``instance/`` without --all (keys such as secret_key and signing keys stay)
RESETTABLE = ("lms.sqlite3", "lms.sqlite3-wal", "lms.sqlite3-shm", "outbox")


@click.command("reset")
@click.option(
    "--all", "everything", is_flag=True, help="Also delete the keys in instance/ (breaks every credential)."
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def reset_command(everything: bool, yes: bool) -> None:
    """Development only: empty the database and the mail outbox (keys are kept unless --all)."""
    if current_app.config.get("ENV_NAME") == "production":
        click.echo(
            "Error: reset is for development only; it refuses to run with LMS_CONFIG=production.", err=True
        )
        sys.exit(1)
    instance = Path(current_app.instance_path)
    what = "EVERYTHING in instance/, including the signing keys" if everything else "the database and outbox"
    if everything:
        click.echo(
            "Warning: without the keys in instance/, no credential issued so far can be verified again.",
            err=True,
        )
    if not yes and not click.confirm(f"Delete {what}?", default=False):
        click.echo("Nothing deleted.")
        return
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith("sqlite"):
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.engine.dispose()
    targets = (
        sorted(instance.iterdir()) if everything and instance.is_dir() else [instance / n for n in RESETTABLE]
    )
    for path in targets:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    click.echo("Reset done. Run `make run` to set everything up again.")


# -- `flask dev seed`: realistic volumes for benchmarks and load tests ------------------------------------

#: learners, progress rows and submitted attempts per profile (issue 13)
SEED_PROFILES = {
    "bench": {"learners": 10_000, "progress": 100_000, "attempts": 20_000},
    "loadtest": {"learners": 100_000, "progress": 1_000_000, "attempts": 200_000},
}
SEED_PASSWORD = "seeded learner password"  # noqa: S105  (development data only; printed for load tests)
#: learners generated and written together: bounds memory (the answers of 200,000 attempts never sit in
#: memory at once) while keeping each COPY or executemany large
_CHUNK_LEARNERS = 2_000
#: tables that say a database already holds learners' data (courses alone do not: seeding needs them)
#: attempts made by a learner who takes the quizzes of a course, on average over all journeys (measured)
_ATTEMPTS_PER_JOURNEY = 3.5
_LEARNER_TABLES = ("user_account", "enrolment", "progress_record", "attempt")
_PROFESSIONS = ("physician", "nurse", "pharmacist", "genetic_counsellor", "researcher", "other")
_COUNTRIES = ("US", "GB", "DE", "FR", "JP", "IN", "BR", "CA", "AU", "NL")
_COMMENTS = (
    "Clear and practical.",
    "The cases were the most useful part.",
    "Too long for a busy week.",
    "More on toxicity management, please.",
    None,  # many leave the comment box empty
)

dev_cli = click.Group("dev", help="Development tools: realistic data for benchmarks and load tests.")


@dev_cli.command("seed")
@click.option("--profile", type=click.Choice(sorted(SEED_PROFILES)), default="bench", show_default=True)
@click.option("--learners", type=click.IntRange(min=1), default=None, help="Scale the profile to N learners.")
@click.option("--force", is_flag=True, help="Seed even though the database already holds learners' data.")
@with_appcontext
def seed_command(profile: str, learners: int | None, force: bool) -> None:
    """Fill the database with learners, enrolments, progress, answered attempts, completions and claims.

    Written in bulk (COPY on PostgreSQL, executemany elsewhere) in one transaction. Every seeded account
    shares one precomputed argon2id hash at production strength: hashing 100,000 passwords would take longer
    than everything else, and a weaker hash would make login benchmarks lie. Refuses LMS_CONFIG=production,
    and a database that already holds accounts or learners' work unless --force.
    """
    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException(
            "seed is for development and benchmarks; it refuses LMS_CONFIG=production."
        )
    held = _held_rows()
    if held and not force:
        what = ", ".join(f"{n} {table}" for table, n in held.items())
        raise click.ClickException(
            f"the database already holds accounts or learners' data ({what}): seed an empty database, "
            "or pass --force to add to it."
        )
    sizes = dict(SEED_PROFILES[profile])
    if learners is not None:
        scale = learners / sizes["learners"]
        sizes = {k: max(1, round(v * scale)) for k, v in sizes.items()}
        sizes["learners"] = learners
    courses = _seed_courses()
    if not courses:
        raise click.ClickException("no published course: run `flask --app wsgi courses sync` first.")
    began = time.perf_counter()
    counts = _Seeder(courses, sizes, random.Random(13)).run()
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # Fresh planner statistics now, not whenever autovacuum gets round to it: the first report refresh
        # on a million rows otherwise runs with the plans of an empty database (minutes instead of seconds).
        with db.engine.connect() as conn:
            conn.execute(text(f"ANALYZE {', '.join(_SEED_COLUMNS)}"))
            conn.commit()
    elapsed = time.perf_counter() - began
    click.echo(f"Seeded profile {profile!r} into {db.engine.url.render_as_string(hide_password=True)}:")
    for name, n in counts.items():
        click.echo(f"  {name:<22} {n:>10,}")
    click.echo(f"in {elapsed:.1f} s. Every seeded learner's password: {SEED_PASSWORD!r}.")
    click.echo("Run `flask --app wsgi reports refresh` so the report pages show the new data.")


def _held_rows() -> dict[str, int]:
    """Rows in the tables that hold accounts and learners' work (empty dict: nothing there)."""
    held = {}
    for table in _LEARNER_TABLES:
        n = db.session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608  (fixed table names)
        if n:
            held[table] = n
    return held


def production_password_hash(password: str) -> str:
    """An argon2id hash at least as strong as the production configuration, whatever the current one.

    Tests configure a cheap hash; seeded accounts must log in exactly as production accounts do.
    """
    from argon2 import PasswordHasher
    from argon2.low_level import Type

    from lms.config import ProductionConfig

    cfg = current_app.config

    def strongest(name: str) -> int:
        return max(int(cfg.get(name, 0) or 0), int(getattr(ProductionConfig, name)))

    return PasswordHasher(
        time_cost=strongest("PASSWORD_ARGON2_TIME_COST"),
        memory_cost=strongest("PASSWORD_ARGON2_MEMORY_KIB"),
        parallelism=int(ProductionConfig.PASSWORD_ARGON2_PARALLELISM),
        type=Type.ID,
    ).hash(password)


# The seeder's view of the published content: plain data, so the generation loop never touches the ORM.


@dataclass(frozen=True)
class _Candidate:
    """One possible response to a question, graded once by the question type's own ``grade``."""

    response: Any
    score: float | None  # None for ungraded (survey) questions, as submit stores it
    correct: bool | None
    feedback: list[str]


@dataclass(frozen=True)
class _SeedQuestion:
    id: int
    key: str
    points: float
    content_hash: str
    difficulty: float
    right: tuple[_Candidate, ...]  # the best-scoring responses
    wrong: tuple[_Candidate, ...]  # the others (partial credit included)


@dataclass(frozen=True)
class _SeedQuiz:
    id: int
    key: str
    kind: str
    graded: bool
    pass_mark: float
    grading_method: str
    max_attempts: int
    draw: int
    shuffle: bool
    time_limit: int
    tagged: frozenset[str]
    questions: dict[str, _SeedQuestion]  # by key, in position order


@dataclass(frozen=True)
class _SeedCourse:
    id: int
    version_no: int
    edition: str
    credit_hours: float
    syllabus: tuple[SyllabusItem, ...]
    policy: Policy
    quizzes: dict[str, _SeedQuiz]  # by item key
    required: frozenset[str]
    weight: float  # how popular the course is among seeded learners


def _seed_courses() -> list[_SeedCourse]:
    """Every published course's current version, with each question's responses graded once."""
    from lms.catalog.content import version_content
    from lms.catalog.models import Course
    from lms.coursepacks.manifest import VIGNETTE
    from lms.learning.progress import required_keys
    from lms.quizzes.models import Question, Quiz

    registry = current_app.extensions["lms"].question_types
    out = []
    for rank, course in enumerate(
        db.session.scalars(db.select(Course).where(Course.current_version_no > 0).order_by(Course.id))
    ):
        content = version_content(course)
        quizzes = {}
        for quiz in db.session.scalars(db.select(Quiz).where(Quiz.version_id == content.version.id)):
            item_key = next(i.key for i in content.items if i.id == quiz.item_id)
            questions = list(
                db.session.scalars(
                    db.select(Question).where(Question.quiz_id == quiz.id).order_by(Question.position)
                )
            )
            settings = quiz.settings
            quizzes[item_key] = _SeedQuiz(
                id=quiz.id,
                key=quiz.key,
                kind=quiz.kind,
                graded=quiz.graded,
                pass_mark=float(settings.get("pass_mark", 0) or 0),
                grading_method=settings.get("grading_method", "highest"),
                max_attempts=int(settings.get("max_attempts", 0) or 0),
                draw=int(settings.get("draw", 0) or 0),
                shuffle=bool(settings.get("shuffle_questions", False)),
                time_limit=int(settings.get("time_limit_minutes", 0) or 0),
                tagged=frozenset(q.key for q in questions if VIGNETTE in (q.spec.get("tags") or [])),
                questions={q.key: _seed_question(q, registry) for q in questions},
            )
        out.append(
            _SeedCourse(
                id=course.id,
                version_no=content.version.number,
                edition=content.version.edition,
                credit_hours=float(course.credit_hours or 0),
                syllabus=tuple(content.syllabus),
                policy=content.policy,
                quizzes=quizzes,
                required=frozenset(required_keys(content.syllabus, content.policy)),
                weight=1 / (rank + 1) ** 0.7,
            )
        )
    return out


def _seed_question(question: Any, registry: Any) -> _SeedQuestion:
    """Grade every plausible response once with the question type's ``grade``: the seeded answers then
    carry exactly the score, correctness and feedback a real submission would have stored."""
    from lms.plugins import UnknownQuestionType
    from lms.qtypes.base import Grade

    candidates = []
    for response in _plausible_responses(question.type, question.spec):
        try:
            grade = registry.get(question.type).grade(question.spec, response)
        except UnknownQuestionType as exc:
            grade = Grade(0.0, False, (str(exc),))
        score = grade.score if grade.correct is not None else None
        candidates.append(_Candidate(response, score, grade.correct, list(grade.feedback)))
    best = max((c.score or 0.0 for c in candidates), default=0.0)
    right = tuple(c for c in candidates if (c.score or 0.0) == best)
    wrong = tuple(c for c in candidates if (c.score or 0.0) < best) or right
    # a stable difficulty per question (not per run), so item analysis shows easy and hard items
    difficulty = (int(question.content_hash[:8] or "0", 16) / 0xFFFFFFFF - 0.5) * 3
    return _SeedQuestion(
        question.id, question.key, question.points, question.content_hash, difficulty, right, wrong
    )


def _plausible_responses(qtype: str, spec: dict[str, Any]) -> list[Any]:
    """Responses a learner could give, in the stored shape of each built-in type (``parse_response``'s
    output). A plugin type gets a blank response: graded as a real blank would be."""
    from lms.qtypes.base import letters
    from lms.qtypes.text import accepted_answers, numeric_ranges

    if qtype == "single_choice":
        return letters(len(spec["options"]))
    if qtype == "multiple_response":
        options = letters(len(spec["options"]))
        keyed = sorted({str(a).strip().upper() for a in spec["answers"]})
        out = [keyed, *([x] for x in options)]
        if len(keyed) > 1:
            out.append(keyed[:-1])
        out.extend(sorted({*keyed, x}) for x in options if x not in keyed)
        return out
    if qtype == "true_false":
        return [True, False]
    if qtype == "ordering":
        n = len(spec["items"])
        right = list(range(n))
        swapped = [1, 0, *range(2, n)]
        return [right, swapped, right[::-1]]
    if qtype == "matching":
        choices = list(dict.fromkeys([p["match"] for p in spec["pairs"]] + list(spec.get("distractors", []))))
        right = {str(i): choices.index(p["match"]) for i, p in enumerate(spec["pairs"])}
        shifted = {str(i): (c + 1) % len(choices) for i, c in right.items()}
        one_off = {**right, "0": shifted["0"]}
        return [right, one_off, shifted]
    if qtype == "numeric":
        out = [f"{(low + high) / 2:g}" for low, high, _ in numeric_ranges(spec)]
        highest = max(high for _, high, _ in numeric_ranges(spec))
        return [*out, f"{abs(highest) * 10 + 7:g}"]
    if qtype == "short_answer":
        return [text.replace("*", "x") for text, _ in accepted_answers(spec)] + ["not sure"]
    if qtype == "likert":
        return list(range(len(spec.get("scale", ["1", "2", "3", "4", "5"]))))
    if qtype == "free_text":
        return list(_COMMENTS)
    return [None]


# The generator: per learner, a journey through 1-3 courses in syllabus order.


class _Seeder:
    """Generates learners' journeys and writes them in bulk, ``_CHUNK_LEARNERS`` learners at a time.

    A journey follows the rules a real learner meets: lessons in order, quizzes attempted (up to the quiz's
    attempt limit, at most three) until passed, progress recorded for a passed quiz or a submitted survey,
    drop-outs at any point, a completion when every required item is done and a claim for most
    completions. The profile's progress and attempt counts are budgets: journeys are cut where the budget
    runs out (never between an attempt and the progress it earned), so the totals are met exactly whenever
    the learners can use them. Certificates are not seeded: issuing one is the certificate service's job
    (serial, snapshot, signed credential), and the pending claims give the issuing queue real work.
    """

    def __init__(self, courses: list[_SeedCourse], sizes: dict[str, int], rng: random.Random) -> None:
        from lms.timeutil import utcnow

        self.courses = courses
        self.sizes = sizes
        self.rng = rng
        self.now = utcnow().replace(microsecond=0)
        self.writer = _BulkWriter()
        self.counts = dict.fromkeys(
            (
                "learners",
                "enrolments",
                "progress rows",
                "attempts",
                "answers",
                "passed attempts",
                "completions",
                "claims",
            ),
            0,
        )

    def run(self) -> dict[str, int]:
        from lms.auth.models import search_text_for

        digest = production_password_hash(SEED_PASSWORD)
        ids = self.writer.reserve_ids(("user_account", "attempt", "course_completion", "certificate_claim"))
        self.next_id = dict(ids)
        tag = ids["user_account"]  # a --force run never collides with earlier seeded emails
        total = self.sizes["learners"]
        budget = {"progress": self.sizes["progress"], "attempts": self.sizes["attempts"]}
        for start in range(0, total, _CHUNK_LEARNERS):
            count = min(_CHUNK_LEARNERS, total - start)
            share = count / (total - start)  # the rest of the budget, spread over the learners left
            chunk_budget = {k: round(v * share) for k, v in budget.items()}
            rows = self._chunk(start, count, tag, digest, search_text_for, chunk_budget)
            used = {"progress": len(rows["progress_record"]), "attempts": len(rows["attempt"])}
            for key in budget:
                budget[key] -= used[key]
            self._write(rows)
        self.writer.finish()
        return self.counts

    def _chunk(
        self, start: int, count: int, tag: int, digest: str, search_text_for: Any, budget: dict
    ) -> dict:
        rng, now = self.rng, self.now
        rows: dict[str, list[tuple]] = {
            t: []
            for t in (
                "user_account",
                "enrolment",
                "progress_record",
                "attempt",
                "attempt_answer",
                "course_completion",
                "certificate_claim",
            )
        }
        journeys = []
        weights = [c.weight for c in self.courses]
        for n in range(start, start + count):
            user_id = self._id("user_account")
            name = f"Seeded Learner {n:06d}"
            email = f"learner{n}.{tag}@seed.example.org"
            created = now - timedelta(days=rng.uniform(60, 400), seconds=rng.randrange(86_400))
            rows["user_account"].append(
                (
                    user_id, email, digest, name, rng.choice(_PROFESSIONS), "", rng.choice(_COUNTRIES),
                    f"SEED{n:07d}" if rng.random() < 0.6 else None, created, created, 0,
                    search_text_for(name, email),
                )
            )  # fmt: skip
            wanted = min(len(self.courses), rng.choices((1, 2, 3), (0.5, 0.3, 0.2))[0])
            chosen: list[_SeedCourse] = []
            while len(chosen) < wanted:
                pick = rng.choices(self.courses, weights)[0]
                if pick not in chosen:
                    chosen.append(pick)
            for course in chosen:
                enrolled = created + timedelta(days=rng.uniform(0, 30))
                journeys.append((user_id, course, enrolled, rng.gauss(0, 1)))
        rng.shuffle(journeys)  # who gets the budget is random, not the first learners of the chunk
        # A journey that takes quizzes makes about _ATTEMPTS_PER_JOURNEY attempts: only enough learners take
        # them to use the attempt budget (twice as many as needed on average, so the budget is met); the
        # others only read.
        quiz_share = 2 * budget["attempts"] / max(1, len(journeys) * _ATTEMPTS_PER_JOURNEY)
        # Likewise the share of journeys meant to reach the end: a journey reads about lessons x (0.44 +
        # share / 2) lessons (12% never start, the others stop at random); aim a third over the budget.
        lessons = statistics.fmean(
            sum(i.kind == "lesson" for i in c.syllabus) or 1 for _, c, _, _ in journeys
        )
        per_journey = budget["progress"] / max(1, len(journeys))
        finish_share = min(0.88, max(0.3, 2 * (1.3 * per_journey / lessons - 0.44)))
        for user_id, course, enrolled, ability in journeys:
            takes = rng.random() < quiz_share
            last = self._journey(rows, user_id, course, enrolled, ability, budget, takes, finish_share)
            rows["enrolment"].append((user_id, course.id, enrolled, last))
        return rows

    def _journey(
        self,
        rows: dict,
        user_id: int,
        course: _SeedCourse,
        at: datetime,
        ability: float,
        budget: dict,
        takes_quizzes: bool,
        finish_share: float,
    ) -> datetime:
        """One learner in one course; returns the time of their last recorded action.

        Lessons are read in order; a module quiz may be skipped or failed without stopping the reading (only
        the final and the evaluation are gated, exactly as ``blocking_items`` says). ``takes_quizzes`` is
        False for the learners who only read (that keeps the attempts within the profile's budget).
        """
        from lms.learning.progress import blocking_items

        rng = self.rng
        roll, steps = rng.random(), len(course.syllabus)
        if roll < 0.12:
            depth = 0  # enrolled, never started
        elif roll < 0.12 + finish_share or steps < 2:
            depth = steps  # meant to finish (a failed quiz may still stop them)
        else:
            depth = rng.randint(1, steps - 1)  # dropped out part-way
        done: set[str] = set()
        stamps = [at]
        final_scores: list[float] = []
        for item in course.syllabus[:depth]:
            quiz = course.quizzes.get(item.key)
            if quiz is None:
                if budget["progress"] < 1:
                    break
                at += timedelta(minutes=rng.uniform(4, 40)) + self._break()
                self._progress(rows, user_id, course, item.key, item.content_hash, at, budget)
                done.add(item.key)
                stamps.append(at)
                continue
            if not takes_quizzes or blocking_items(course.syllabus, done, course.policy, item.key):
                continue
            if item.kind in ("pretest", "quiz") and rng.random() < 0.2:
                continue  # optional or not yet: some learners skip a quiz and read on
            tries = 1 if not quiz.graded else min(3, quiz.max_attempts or 3)
            scores: list[float] = []
            passed = False
            for number in range(1, tries + 1):
                if budget["attempts"] < 1 or budget["progress"] < 1:
                    break
                at += self._break()
                started = at
                at += timedelta(minutes=rng.uniform(3, 25))
                score = self._attempt(rows, user_id, course, quiz, number, ability, started, at)
                stamps.extend((started, at))
                budget["attempts"] -= 1
                scores.append(score if score is not None else 0.0)
                if quiz.key == course.policy.final_quiz and score is not None:
                    final_scores.append(score)
                passed = self._passes(quiz, scores)
                if passed:
                    self._progress(rows, user_id, course, item.key, item.content_hash, at, budget)
                    done.add(item.key)
                    break
            if not passed and item.kind == "final":
                break  # failed the final three times: this learner stops here
        if course.required <= done:
            self._complete(rows, user_id, course, max(stamps), stamps, final_scores)
        return max(stamps)

    def _break(self) -> timedelta:
        """Most actions follow each other within minutes; some after a pause of hours or days."""
        roll = self.rng.random()
        if roll < 0.7:
            return timedelta(minutes=self.rng.uniform(0, 5))
        if roll < 0.9:
            return timedelta(hours=self.rng.uniform(1, 12))
        return timedelta(days=self.rng.uniform(1, 6))

    @staticmethod
    def _passes(quiz: _SeedQuiz, scores: list[float]) -> bool:
        from lms.quizzes import grading

        if not quiz.graded:
            return True  # a submitted survey counts as done
        final = grading.final_score(quiz.grading_method, scores)
        return final is not None and grading.passes(final, quiz.pass_mark)

    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def _progress(
        self, rows: dict, user_id: int, course: _SeedCourse, key: str, content_hash: str, at: datetime, budget
    ) -> None:
        rows["progress_record"].append((user_id, course.id, key, at, course.version_no, content_hash))
        budget["progress"] -= 1

    def _attempt(
        self,
        rows: dict,
        user_id: int,
        course: _SeedCourse,
        quiz: _SeedQuiz,
        number: int,
        ability: float,
        started: datetime,
        submitted: datetime,
    ) -> float | None:
        """A submitted attempt and one answer per question drawn, scored as ``grade_claimed`` would."""
        from lms.quizzes import grading

        rng = self.rng
        attempt_id = self._id("attempt")
        seed = rng.getrandbits(62)
        order = grading.draw_questions(
            list(quiz.questions), seed, draw=quiz.draw, shuffle=quiz.shuffle, tagged=quiz.tagged
        )
        graded = []
        for position, key in enumerate(order, 1):
            q = quiz.questions[key]
            # learners improve with each attempt; hard questions stay hard
            p_right = 1 / (1 + math.exp(q.difficulty - ability - 1.6 - 0.6 * (number - 1)))
            pool = q.right if rng.random() < p_right else q.wrong
            c = pool[rng.randrange(len(pool))]
            rows["attempt_answer"].append(
                (
                    attempt_id,
                    q.id,
                    position,
                    q.content_hash,
                    c.response,
                    submitted,
                    c.score,
                    c.correct,
                    c.feedback,
                )
            )
            graded.append((c.score or 0.0, q.points))
        score = points = max_points = passed = None
        if quiz.graded:
            points = sum(s * pts for s, pts in graded)
            max_points = sum(pts for _, pts in graded)
            score = points / max_points if max_points else 0.0
            passed = grading.passes(score, quiz.pass_mark)
            self.counts["passed attempts"] += passed
        deadline = started + timedelta(minutes=quiz.time_limit) if quiz.time_limit else None
        rows["attempt"].append(
            (
                attempt_id, user_id, course.id, quiz.id, quiz.key, number, seed, "submitted", started,
                deadline, submitted, False, score, points, max_points, passed,
            )
        )  # fmt: skip
        self.counts["answers"] += len(order)
        return score

    def _complete(
        self,
        rows: dict,
        user_id: int,
        course: _SeedCourse,
        at: datetime,
        stamps: list[datetime],
        final_scores: list[float],
    ) -> None:
        """A completion row as ``record_edition_completion`` writes it, and for most a claim (pending)."""
        from lms.certificates import rules

        completion_id = self._id("course_completion")
        minutes = rules.time_spent_minutes(stamps)
        rows["course_completion"].append(
            (
                completion_id, user_id, course.id, course.version_no, course.edition, at,
                max(final_scores) if final_scores else None, minutes, False,
            )
        )  # fmt: skip
        if self.rng.random() < 0.7 and course.credit_hours > 0:
            attested = min(self.now, at + timedelta(hours=self.rng.uniform(0, 48)))
            rows["certificate_claim"].append(
                (
                    self._id("certificate_claim"), completion_id, user_id, course.id, course.version_no,
                    course.credit_hours, rules.over_recorded_time(course.credit_hours, minutes), "",
                    attested, attested, False,
                )
            )  # fmt: skip

    def _write(self, rows: dict[str, list[tuple]]) -> None:
        counted = {
            "user_account": "learners",
            "enrolment": "enrolments",
            "progress_record": "progress rows",
            "attempt": "attempts",
            "course_completion": "completions",
            "certificate_claim": "claims",
        }
        for table, table_rows in rows.items():  # insertion order is foreign-key order
            self.writer.write(table, _SEED_COLUMNS[table], table_rows)
            if table in counted:
                self.counts[counted[table]] += len(table_rows)


_SEED_COLUMNS = {
    "user_account": (
        "id", "email", "password_hash", "full_name", "profession", "specialty", "country", "licence_number",
        "created_at", "email_confirmed_at", "session_version", "search_text",
    ),
    "enrolment": ("user_id", "course_id", "enrolled_at", "last_activity_at"),
    "progress_record": ("user_id", "course_id", "item_key", "completed_at", "version_no", "content_hash"),
    "attempt": (
        "id", "user_id", "course_id", "quiz_id", "quiz_key", "number", "seed", "status", "started_at",
        "deadline_at", "submitted_at", "late", "score", "points", "max_points", "passed",
    ),
    "attempt_answer": (
        "attempt_id", "question_id", "position", "question_hash", "response", "saved_at", "score", "correct",
        "feedback",
    ),
    "course_completion": (
        "id", "user_id", "course_id", "version_no", "edition", "completed_at", "final_score", "minutes_spent",
        "imported",
    ),
    "certificate_claim": (
        "id", "completion_id", "user_id", "course_id", "version_no", "hours", "over_time", "printed_name",
        "attested_at", "created_at", "imported",
    ),
}  # fmt: skip


class _BulkWriter:
    """COPY on PostgreSQL (psycopg), executemany of core inserts elsewhere; all in the session's transaction.

    Ids of the tables whose rows others point at are assigned here (after locking those tables on
    PostgreSQL, so nothing else takes the same ids) and the sequences are moved past them at the end.
    """

    def __init__(self) -> None:
        self.connection = db.session.connection()
        self.postgres = self.connection.dialect.name == "postgresql"
        self.reserved: tuple[str, ...] = ()

    def reserve_ids(self, tables: tuple[str, ...]) -> dict[str, int]:
        self.reserved = tables
        if self.postgres:
            self.connection.execute(text(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE"))
        return {
            t: (self.connection.scalar(text(f"SELECT max(id) FROM {t}")) or 0) + 1  # noqa: S608
            for t in tables
        }

    def write(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        target = db.metadata.tables[table]
        json_at = [i for i, c in enumerate(columns) if isinstance(target.c[c].type, JSON)]
        if not self.postgres:
            for start in range(0, len(rows), 5_000):
                self.connection.execute(
                    target.insert(), [dict(zip(columns, r, strict=True)) for r in rows[start : start + 5_000]]
                )
            return
        raw = self.connection.connection.driver_connection
        begin_on_driver(raw)  # the whole seed is one transaction, COPY included (lms/dbconn.py)
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                if json_at:
                    row = list(row)
                    for i in json_at:
                        row[i] = None if row[i] is None else json.dumps(row[i])
                copy.write_row(row)

    def finish(self) -> None:
        if self.postgres:
            for table in self.reserved:
                self.connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"
                    )
                )

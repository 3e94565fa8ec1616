"""Benchmark: dashboard, course page and report latency on seeded scale data (issue 13, point 5).

Empties the database given (``--database-url``, else ``LMS_SCALE_DATABASE_URL``, else a throwaway SQLite
file), migrates it, syncs the bundled courses and runs ``flask dev seed --profile PROFILE`` (10,000 learners
for ``bench``, 100,000 for ``loadtest``), then refreshes the report statistics as the background job does.
It then logs in as many different seeded learners (production-strength argon2id, as seeded) and times their
dashboard and the page of a course they are enrolled in, and, as an administrator, each course's report
pages; it prints p50/p95/p99 per page against the goal p99 < 200 ms. On PostgreSQL it also runs EXPLAIN
ANALYZE on every statement of one request per page and lists the slowest ones and any sequential scan.

Requests go through the app in this process (the Flask test client): what is timed is the app and its
database, not a server or the network. Rate limits are off (hundreds of logins from one address would hit
them; they are not what is measured). Only this script writes bench/SCALE.md (``--write``; ``make bench``
and ``make bench-scale`` pass it), one section per profile, with date, machine and commit.

    python bench/scale_bench.py --profile bench --database-url postgresql+psycopg://postgres@127.0.0.1/x
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, select, text  # noqa: E402

from bench.run_all import commit, machine  # noqa: E402  (one description of the machine for every bench)

GOAL_MS = 200.0
ADMIN_EMAIL = "scale-admin@bench.invalid"
ADMIN_PASSWORD = "scale bench admin password"
RESULTS = ROOT / "bench" / "SCALE.md"
#: tables whose sequential scan on the 100,000-learner profile is worth a look
BIG_TABLES = (
    "user_account",
    "enrolment",
    "progress_record",
    "attempt",
    "attempt_answer",
    "course_completion",
    "certificate_claim",
    "certificate",
    "user_session",
)


#: a page that takes longer than this once is timed no further (the run would take hours): reported as such
ABANDON_MS = 5_000.0
#: EXPLAIN ANALYZE of one statement gives up after this (then the plain plan is shown, its time as this)
EXPLAIN_TIMEOUT_MS = 20_000.0


@dataclass
class PageTiming:
    label: str
    samples: list[float] = field(default_factory=list)

    @property
    def abandoned(self) -> bool:
        return bool(self.samples) and max(self.samples) > ABANDON_MS

    def percentile(self, p: int) -> float:
        if len(self.samples) < 2:
            return self.samples[0] if self.samples else float("nan")
        return statistics.quantiles(self.samples, n=100, method="inclusive")[p - 1]

    @property
    def ok(self) -> bool:
        return not self.abandoned and self.percentile(99) < GOAL_MS


@dataclass
class Statement:
    sql: str
    params: object
    plan: str = ""
    ms: float = 0.0


@dataclass
class Run:
    profile: str
    database: str
    seed_output: str
    seed_seconds: float
    refresh_seconds: float
    learners_sampled: int
    pages: list[PageTiming]
    explained: dict[str, list[Statement]]


def make_app(url: str, tmp: str):
    from lms import create_app
    from lms.config import DevelopmentConfig

    return create_app(
        {
            "CONFIG_CLASS": DevelopmentConfig,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "scale-bench-secret-key",
            "MAIL_OUTBOX": f"{tmp}/outbox",
            "KEYS_DIR": f"{tmp}/keys",
            "BASE_URL": "http://127.0.0.1:5000",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            "JOBS_MODE": "manual",
            "REPORTS_STATS_MAX_AGE_MINUTES": 0,  # the statistics were just refreshed: no job from a page
            # a page stuck on one statement for minutes ends (and is reported) instead of stalling the run
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": True,
                **(
                    {"connect_args": {"options": "-c statement_timeout=30000"}}
                    if url.startswith("postgres")
                    else {}
                ),
            },
        }
    )


def prepare(app, profile: str, learners: int | None, reuse: bool) -> tuple[str, float, float]:
    """Empty and migrate the database, sync the bundled courses, seed, refresh statistics, add an admin.

    ``reuse`` keeps a database seeded by an earlier run (to look at plans again without reseeding).
    """
    from flask_migrate import upgrade

    from lms.auth.models import User
    from lms.extensions import db

    runner = app.test_cli_runner()
    if reuse:
        with app.app_context():
            upgrade()  # a new migration (an index) applies to the seeded data
            n = db.session.scalar(select(db.func.count()).where(User.email.like("%@seed.example.org")))
            db.session.execute(text("DELETE FROM user_account WHERE email = :e"), {"e": ADMIN_EMAIL})
            db.session.commit()
        seeded_output, seed_seconds = f"Reused a seeded database:\n  learners {n:>10,}\n\n\n", 0.0
    else:
        with app.app_context():
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            upgrade()
        synced = runner.invoke(args=["courses", "sync"])
        if synced.exit_code != 0:
            raise SystemExit(f"courses sync failed:\n{synced.output}")
        seed_args = ["dev", "seed", "--profile", profile] + (
            ["--learners", str(learners)] if learners else []
        )
        began = time.perf_counter()
        seeded = runner.invoke(args=seed_args)
        seed_seconds = time.perf_counter() - began
        if seeded.exit_code != 0:
            raise SystemExit(f"seed failed:\n{seeded.output}\n{seeded.exception!r}")
        seeded_output = seeded.output
    began = time.perf_counter()
    refreshed = runner.invoke(args=["reports", "refresh"])
    refresh_seconds = time.perf_counter() - began
    if refreshed.exit_code != 0:
        raise SystemExit(f"reports refresh failed:\n{refreshed.output}")
    created = runner.invoke(
        args=["users", "create", ADMIN_EMAIL, "--name", "Scale Admin", "--role", "admin", "--password-stdin"],
        input=ADMIN_PASSWORD + "\n",
    )
    if created.exit_code != 0:
        raise SystemExit(f"users create failed:\n{created.output}")
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))  # fresh statistics, as autovacuum would soon have
            db.session.commit()
    return seeded_output, seed_seconds, refresh_seconds


def sample_learners(app, count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(email, slug of one course they are enrolled in) for ``count`` seeded learners, chosen at random."""
    from lms.auth.models import User
    from lms.catalog.models import Course, Enrolment
    from lms.extensions import db

    with app.app_context():
        rows = db.session.execute(
            select(User.email, Course.slug)
            .join(Enrolment, Enrolment.user_id == User.id)
            .join(Course, Course.id == Enrolment.course_id)
            .where(User.email.like("%@seed.example.org"))
        ).all()
    by_email: dict[str, list[str]] = {}
    for email, slug in rows:
        by_email.setdefault(email, []).append(slug)
    emails = rng.sample(sorted(by_email), min(count, len(by_email)))
    return [(e, rng.choice(by_email[e])) for e in emails]


def timed_get(client, path: str) -> float:
    began = time.perf_counter()
    try:
        status = client.get(path).status_code
    except Exception as exc:  # the statement timeout, raised through the test client
        status = repr(exc)[:200]
    ms = (time.perf_counter() - began) * 1000
    if status != 200 and ms < ABANDON_MS:
        raise SystemExit(f"GET {path} answered {status}")
    return ms  # a failure after ABANDON_MS is the statement timeout: the page is then timed no further


def login(client, email: str, password: str) -> None:
    response = client.post("/login", data={"email": email, "password": password})
    if response.status_code != 302:
        raise SystemExit(f"login as {email} failed ({response.status_code})")


def report_paths(slug: str, rng: random.Random) -> dict[str, str]:
    """One of each report page, with a varying filter or sort so no two requests are the same page."""
    sort = rng.choice(["name", "progress", "score"])
    return {
        "report: overview": f"/reports/{slug}",
        "report: learners (sorted, paged)": (
            f"/reports/{slug}/learners?sort={sort}&dir=desc&page={rng.randint(1, 20)}"
        ),
        "report: learners (name filter)": f"/reports/{slug}/learners?q=Learner+{rng.randint(0, 9999):04d}",
        "report: item analysis (final)": f"/reports/{slug}/quizzes/final",
        "report: evaluation": f"/reports/{slug}/evaluation",
    }


def measure(app, learners: list[tuple[str, str]], repeat: int, rng: random.Random) -> list[PageTiming]:
    from lms.catalog.models import Course
    from lms.extensions import db

    pages = {label: PageTiming(label) for label in ("dashboard", "course page")}
    warm = app.test_client()
    login(warm, learners[0][0], _seed_password())
    warm.get("/dashboard")
    warm.get(f"/courses/{learners[0][1]}")  # fills the published-content cache, as any running server has
    for n, (email, slug) in enumerate(learners, 1):
        client = app.test_client()
        login(client, email, _seed_password())
        for _ in range(repeat):
            pages["dashboard"].samples.append(timed_get(client, "/dashboard"))
            pages["course page"].samples.append(timed_get(client, f"/courses/{slug}"))
        if n % 50 == 0:
            print(f"   {n} learners timed", flush=True)
    with app.app_context():
        slugs = [
            s
            for s in db.session.scalars(select(Course.slug).order_by(Course.slug))
            if s != "example-plugin-course"
        ]
    admin = app.test_client()
    login(admin, ADMIN_EMAIL, ADMIN_PASSWORD)
    print(table_of(list(pages.values())), flush=True)
    for label in report_paths("x", rng):
        pages[label] = PageTiming(label)
    for slug in slugs:
        for label, path in report_paths(slug, rng).items():
            # one request per page and course warms the caches; a page that is far too slow stops here
            if not pages[label].abandoned:
                pages[label].samples.append(timed_get(admin, path))
    for page in pages.values():
        if page.label.startswith("report") and not page.abandoned:
            page.samples.clear()
    rounds = max(1, len(learners) * repeat // (len(slugs) * 2))
    for n in range(rounds):
        for slug in slugs:
            for label, path in report_paths(slug, rng).items():
                if not pages[label].abandoned:
                    pages[label].samples.append(timed_get(admin, path))
        if (n + 1) % 10 == 0:
            print(f"   {n + 1} of {rounds} rounds of report pages timed", flush=True)
    return list(pages.values())


def _seed_password() -> str:
    from lms.devcli import SEED_PASSWORD

    return SEED_PASSWORD


@contextmanager
def recording(app) -> Iterator[list[Statement]]:
    from lms.extensions import db

    seen: list[Statement] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append(Statement(statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def explain(app, learner: tuple[str, str]) -> dict[str, list[Statement]]:
    """EXPLAIN ANALYZE of every SELECT of one request per page (PostgreSQL only)."""
    from lms.extensions import db

    email, slug = learner
    learner_client, admin = app.test_client(), app.test_client()
    login(learner_client, email, _seed_password())
    login(admin, ADMIN_EMAIL, ADMIN_PASSWORD)
    targets = {
        "dashboard": (learner_client, "/dashboard"),
        "course page": (learner_client, f"/courses/{slug}"),
    }
    targets.update({k: (admin, v) for k, v in report_paths("car-t-cell-therapy", random.Random(1)).items()})
    out: dict[str, list[Statement]] = {}
    for label, (client, path) in targets.items():
        client.get(path)  # warm
        with recording(app) as seen:
            client.get(path)
        with app.app_context():
            from lms.dbconn import begin_on_driver

            raw = db.session.connection().connection.driver_connection
            begin_on_driver(raw)  # SAVEPOINT and SET LOCAL need a transaction (lms/dbconn.py)
            with raw.cursor() as cursor:
                for st in seen:
                    cursor.execute("SAVEPOINT plan")
                    cursor.execute(f"SET LOCAL statement_timeout = {int(EXPLAIN_TIMEOUT_MS)}")
                    try:
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + st.sql, st.params)
                        st.plan = "\n".join(r[0] for r in cursor.fetchall())
                        found = re.search(r"Execution Time: ([\d.]+) ms", st.plan)
                        st.ms = float(found.group(1)) if found else 0.0
                    except Exception:
                        cursor.execute("ROLLBACK TO SAVEPOINT plan")
                        cursor.execute("EXPLAIN " + st.sql, st.params)
                        st.plan = "\n".join(r[0] for r in cursor.fetchall())
                        st.ms = EXPLAIN_TIMEOUT_MS
            db.session.rollback()
        out[label] = seen
    return out


def seq_scans(plan: str) -> list[str]:
    return sorted(set(re.findall(r"Seq Scan on (\w+)", plan)) & set(BIG_TABLES))


def run(profile: str, url: str, learners: int | None, sample: int, repeat: int, reuse: bool = False) -> Run:
    rng = random.Random(20261202)
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite:///{tmp}/scale.sqlite3"
        app = make_app(url, tmp)
        print(f"== scale bench, profile {profile!r}, database {_shown(url)}", flush=True)
        seed_output, seed_s, refresh_s = prepare(app, profile, learners, reuse and url.startswith("postgres"))
        print(seed_output.rstrip(), flush=True)
        print(f"statistics job: {refresh_s:.1f} s", flush=True)
        chosen = sample_learners(app, sample, rng)
        pages = measure(app, chosen, repeat, rng)
        explained = explain(app, chosen[0]) if url.startswith("postgresql") else {}
        with app.app_context():
            from lms.extensions import db

            db.engine.dispose()
    return Run(profile, _shown(url), seed_output, seed_s, refresh_s, len(chosen), pages, explained)


def _shown(url: str) -> str:
    return re.sub(r"//([^:@/]+):[^@/]*@", r"//\1:***@", url) if not url.startswith("sqlite") else "SQLite"


def table(result: Run) -> str:
    return table_of(result.pages)


def table_of(pages: list[PageTiming]) -> str:
    lines = [
        f"| page | requests | p50 ms | p95 ms | p99 ms | goal p99 < {GOAL_MS:.0f} ms |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for page in pages:
        if page.abandoned:
            lines.append(
                f"| {page.label} | {len(page.samples)} | slower than {ABANDON_MS / 1000:.0f} s "
                f"(max {max(page.samples) / 1000:.1f} s): timed no further | | | MISSED |"
            )
            continue
        lines.append(
            f"| {page.label} | {len(page.samples)} | {page.percentile(50):.1f} | {page.percentile(95):.1f} "
            f"| {page.percentile(99):.1f} | {'ok' if page.ok else 'MISSED'} |"
        )
    return "\n".join(lines)


def explain_summary(result: Run, top: int = 3) -> str:
    if not result.explained:
        return "EXPLAIN ANALYZE: PostgreSQL only (this run used SQLite)."
    lines = [
        "| page | statements | slowest (ms, EXPLAIN ANALYZE) | seq scans of large tables |",
        "|---|---:|---|---|",
    ]
    for label, statements in result.explained.items():
        slow = sorted(statements, key=lambda s: -s.ms)[:top]
        scans = sorted({t for s in statements for t in seq_scans(s.plan)})
        lines.append(
            f"| {label} | {len(statements)} | {', '.join(f'{s.ms:.2f}' for s in slow)} | "
            f"{', '.join(scans) or 'none'} |".replace(f"{EXPLAIN_TIMEOUT_MS:.2f}", "timed out")
        )
    return "\n".join(lines)


def section(result: Run) -> str:
    counts = "\n".join(f"    {line.strip()}" for line in result.seed_output.splitlines()[1:-2])
    return (
        f"## Profile `{result.profile}`\n\n"
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {commit()}\n"
        f"- machine: {machine()} (shared with other work while measured: read the numbers as indicative)\n"
        f"- database: {result.database}; app in process (Flask test client), rate limits off\n"
        f"- seeded in {result.seed_seconds:.1f} s, statistics job {result.refresh_seconds:.1f} s:\n\n"
        f"{counts}\n\n"
        f"Dashboard and course page: {result.learners_sampled} different learners, each logged in; report "
        f"pages as an administrator over every bundled course, with varying sorts, pages and filters.\n\n"
        f"{table(result)}\n\n{explain_summary(result)}\n"
    )


def write_results(result: Run) -> None:
    """Replace this profile's section of bench/SCALE.md, keeping the other profile's."""
    head = (
        "# Scale data benchmark\n\nWritten by `bench/scale_bench.py` only (`make bench` for the `bench` "
        "profile, `make bench-scale` for `loadtest`). Goal: p99 under 200 ms for the dashboard, the course "
        "page and the report pages.\n\n"
    )
    sections: dict[str, str] = {}
    if RESULTS.exists():
        for part in re.split(r"(?m)^(?=## Profile )", RESULTS.read_text())[1:]:
            name = re.match(r"## Profile `(\w+)`", part)
            if name:
                sections[name.group(1)] = part.rstrip() + "\n"
    sections[result.profile] = section(result)
    order = sorted(sections, key=lambda p: (p != "bench", p))
    RESULTS.write_text(head + "\n".join(sections[p] for p in order))


def print_explain(result: Run, full: bool) -> None:
    for label, statements in result.explained.items():
        print(f"\n-- EXPLAIN ANALYZE, {label}: {len(statements)} statement(s)")
        for st in sorted(statements, key=lambda s: -s.ms)[: None if full else 2]:
            print(f"   {st.ms:.2f} ms  seq scans: {', '.join(seq_scans(st.plan)) or 'none'}")
            print("   " + " ".join(st.sql.split())[:300])
            if full:
                print("\n".join("      " + line for line in st.plan.splitlines()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", choices=["bench", "loadtest"], default="bench")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LMS_SCALE_DATABASE_URL", ""),
        help="a database of its own: it is emptied (default: $LMS_SCALE_DATABASE_URL, else SQLite)",
    )
    parser.add_argument("--learners", type=int, default=None, help="override the profile's learner count")
    parser.add_argument("--sample", type=int, default=150, help="different learners logged in and timed")
    parser.add_argument("--repeat", type=int, default=3, help="requests per page per learner")
    parser.add_argument("--write", action="store_true", help="write this profile's section of bench/SCALE.md")
    parser.add_argument("--explain", action="store_true", help="print every plan in full")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the data an earlier run seeded (PostgreSQL)"
    )
    args = parser.parse_args(argv)
    result = run(args.profile, args.database_url, args.learners, args.sample, args.repeat, args.reuse)
    print()
    print(table(result))
    print()
    print(explain_summary(result))
    print_explain(result, args.explain)
    if args.write:
        write_results(result)
        print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    missed = [p.label for p in result.pages if not p.ok]
    if missed:
        print(f"\np99 at or over {GOAL_MS:.0f} ms: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

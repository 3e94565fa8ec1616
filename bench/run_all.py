"""`make bench`: every benchmark, written with date, machine and commit to bench/RESULTS.md.

Only this script writes bench/RESULTS.md (tests never do). Set LMS_BENCH_DATABASE_URL (a database of its
own: it is emptied) to run the HTTP benchmark on PostgreSQL.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def machine() -> str:
    cores = os.cpu_count()
    mem = ""
    try:
        kib = int(
            next(
                x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")
            ).split()[1]
        )
        mem = f", {kib / 1024 / 1024:.1f} GiB memory"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{platform.node()}: {cores} cores{mem}, {platform.platform()}, Python {platform.python_version()}"


def commit() -> str:
    run = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    return run.stdout.strip() + (" (with uncommitted changes)" if dirty.strip() else "")


def statements_per_page() -> str:
    """SQL statements per page (warm cache, session validation included) for 1- and 200-lesson courses."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from lms import create_app
    from lms.config import TestingConfig
    from lms.extensions import db
    from tests import factories
    from tests.packages import sync, write_package
    from tests.sqlwatch import counting_statements

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "CONFIG_CLASS": TestingConfig,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/q.sqlite3",
                "MAIL_OUTBOX": f"{tmp}/outbox",
                "KEYS_DIR": f"{tmp}/keys",
            }
        )
        with app.app_context():
            upgrade()
        for slug, lessons in (("one", 1), ("large", 200)):
            sync(app, write_package(Path(tmp) / slug, slug=slug, lessons=lessons))
        factories.create_user(app, email="q@example.org", password="correct horse battery")
        client = app.test_client()
        client.post("/login", data={"email": "q@example.org", "password": "correct horse battery"})
        rows = ["| page | 1-lesson course | 200-lesson course |", "|---|---:|---:|"]
        counts: dict[str, list[int]] = {}
        for slug in ("one", "large"):
            client.post(f"/courses/{slug}/enrol", data={"action": "enrol"})
            start = client.post(f"/courses/{slug}/quizzes/check/start")
            attempt = start.headers["Location"]
            pages = {
                "catalog": ("GET", "/courses", None),
                "course page": ("GET", f"/courses/{slug}", None),
                "lesson page": ("GET", f"/courses/{slug}/lessons/l1", None),
                "dashboard": ("GET", "/dashboard", None),
                "quiz attempt page": ("GET", attempt, None),
            }
            for label, (_, path, _) in pages.items():
                client.get(path)
                with counting_statements(app) as seen:
                    client.get(path)
                counts.setdefault(label, []).append(len(seen))
            with app.app_context():
                from lms.quizzes.models import AttemptAnswer

                ids = db.session.scalars(
                    sa.select(AttemptAnswer.id).where(
                        AttemptAnswer.attempt_id == int(attempt.rsplit("/")[-1])
                    )
                ).all()
            with counting_statements(app) as seen:
                client.post(
                    f"{attempt}/save", data={f"q{ids[0]}": "true"}, headers={"Accept": "application/json"}
                )
            counts.setdefault("autosave", []).append(len(seen))
            with counting_statements(app) as seen:
                client.post(f"{attempt}/submit", data={})  # unanswered: graded, not passed
            counts.setdefault("submit", []).append(len(seen))
        for label, (small, large) in counts.items():
            rows.append(f"| {label} | {small} | {large} |")
        return "\n".join(rows)


def script(name: str, *args: str) -> str:
    run = subprocess.run([sys.executable, str(ROOT / "bench" / name), *args], capture_output=True, text=True)
    out = run.stdout.strip() or run.stderr.strip()[-2000:]
    return f"```\n$ python bench/{name} {' '.join(args)}\n{out}\n```"


def main() -> int:
    from bench import http_bench

    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load_before = os.getloadavg()[0]
    http = http_bench.main([])
    load_after = os.getloadavg()[0]
    queries = statements_per_page()
    parts = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {started}. Machine: {machine()}. Commit: {commit()}.",
        "",
        # Ratios to bare Flask are only comparable between runs on a quiet machine: say how busy it was.
        f"Load average (1 min) before the HTTP benchmark {load_before:.1f}, after it {load_after:.1f}, "
        f"on {os.cpu_count()} cores.",
        "",
        "## HTTP: the app under gunicorn beside a bare Flask app (same server, same run)",
        "",
        http,
        "",
        "## SQL statements per request (warm cache, session validation included)",
        "",
        queries,
        "",
        "## PDF rendering, bulk certificate issue, reports",
        "",
        script("pdf_bench.py"),
        "",
        script("certificates_bench.py", "--claims", "1000"),
        "",
        script("reports_bench.py"),
        "",
        "## Exam-day load test",
        "",
        "See [LOADTEST.md](LOADTEST.md), written by `make loadtest`.",
        "",
    ]
    (ROOT / "bench" / "RESULTS.md").write_text("\n".join(parts))
    print("\n".join(parts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: bulk issue of N pending claims (one transaction each), as an administrator's "issue all".

Seeds a throwaway SQLite database (or LMS_BENCH_DATABASE_URL) with a course, N learners, their completions
and claims, then times ``issue_many`` (serials, snapshots, name checks against the fonts, audit rows and the
signing and mail jobs queued for after commit). The goal is 1,000 claims in under 60 s. Not run in tests
except as a tiny smoke run. Usage: python bench/certificates_bench.py [--claims N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lms import create_app
from lms.config import TestingConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--claims", type=int, default=1000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("LMS_BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        app = create_app(
            {
                "CONFIG_CLASS": TestingConfig,
                "SQLALCHEMY_DATABASE_URI": url,
                "MAIL_OUTBOX": f"{tmp}/outbox",
                "KEYS_DIR": f"{tmp}/keys",
                "JOBS_MODE": "manual",  # time the issuing itself; jobs run later, off the request
            }
        )
        from sqlalchemy import insert, select

        from lms.auth.models import User
        from lms.catalog.models import Course
        from lms.certificates import services as svc
        from lms.certificates.models import CertificateClaim, CourseCompletion
        from lms.extensions import db

        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
        app.test_cli_runner().invoke(args=["courses", "sync"])
        now = datetime(2026, 11, 30, 12, 0)
        with app.app_context():
            course = db.session.scalar(select(Course).where(Course.slug == "car-t-cell-therapy"))
            db.session.execute(
                insert(User),
                [
                    {
                        "email": f"learner{i}@example.org",
                        "password_hash": "x",
                        "full_name": f"Learner Número {i}",
                        "profession": "physician",
                        "country": "US",
                        "session_version": 0,
                        "created_at": now,
                        "email_confirmed_at": now,
                        "specialty": "",
                    }
                    for i in range(args.claims)
                ],
            )
            ids = list(db.session.scalars(select(User.id).order_by(User.id)))
            db.session.execute(
                insert(CourseCompletion),
                [
                    {
                        "user_id": uid,
                        "course_id": course.id,
                        "version_no": course.current_version_no,
                        "edition": "bench",
                        "completed_at": now,
                        "final_score": 0.9,
                        "minutes_spent": 200,
                        "imported": False,
                    }
                    for uid in ids
                ],
            )
            completions = db.session.execute(select(CourseCompletion.id, CourseCompletion.user_id)).all()
            db.session.execute(
                insert(CertificateClaim),
                [
                    {
                        "completion_id": cid,
                        "user_id": uid,
                        "course_id": course.id,
                        "version_no": course.current_version_no,
                        "hours": 2.0,
                        "over_time": False,
                        "printed_name": "",
                        "attested_at": now,
                        "created_at": now,
                        "imported": False,
                    }
                    for cid, uid in completions
                ],
            )
            db.session.commit()
            claim_ids = [c.id for c in svc.pending_claims(course.id)]
            settings = svc.IssuerSettings(
                "https://lms.example.org", "Helix LMS", "Helix Medical Education", "Dr A", "Director"
            )
            start = time.perf_counter()
            result = svc.issue_many(claim_ids, None, settings, now)
            elapsed = time.perf_counter() - start
        print(
            f"bulk issue: {result.issued} of {len(claim_ids)} claims in {elapsed:.1f} s "
            f"({elapsed / max(1, result.issued) * 1000:.1f} ms each; goal: 1,000 in under 60 s)"
        )
    return 0 if not result.failed else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmarks: Helix LMS pages against a bare Flask app, in the same process.

Prints, for each page, requests per second and the ratio to a bare Flask "hello" view served by the same
test client, so the numbers mean something on any machine. Uses a throwaway SQLite database with the bundled
courses. Run with `make bench` (or `make loadtest` for more requests).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from flask import Flask

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lms import create_app
from lms.config import TestingConfig


def bare_app() -> Flask:
    app = Flask("bare")

    @app.get("/")
    def hello() -> str:
        return "<!doctype html><title>hello</title><p>Hello</p>"

    return app


def rate(client, path: str, requests: int) -> float:
    client.get(path)  # warm up
    start = time.perf_counter()
    for _ in range(requests):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    return requests / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300, help="requests per page")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "CONFIG_CLASS": TestingConfig,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
                "MAIL_OUTBOX": f"{tmp}/outbox",
            }
        )
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
        runner = app.test_cli_runner()
        runner.invoke(args=["courses", "sync"])
        runner.invoke(
            args=["users", "create", "bench@example.org", "--name", "Bench", "--password-stdin"],
            input="bench password 123\n",
        )
        client = app.test_client()
        client.post("/login", data={"email": "bench@example.org", "password": "bench password 123"})
        client.post("/courses/car-t-cell-therapy/enrol", data={"action": "enrol"})
        lesson = client.get("/courses/car-t-cell-therapy/resume").headers["Location"]
        baseline = rate(bare_app().test_client(), "/", args.requests)
        print(f"{'page':<48} {'req/s':>9} {'× bare Flask':>13}")
        print(f"{'bare Flask hello (baseline)':<48} {baseline:>9.0f} {1.0:>13.2f}")
        for label, path in [
            ("catalog /courses", "/courses"),
            ("course page", "/courses/car-t-cell-therapy"),
            ("lesson page", lesson),
            ("dashboard", "/dashboard"),
        ]:
            r = rate(client, path, args.requests)
            print(f"{label:<48} {r:>9.0f} {r / baseline:>13.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

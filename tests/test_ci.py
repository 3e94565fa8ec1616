"""CI strictness (issue 9, point 14): Redis is required in CI; browser and smoke tests run once."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_requires_redis_and_the_browser():
    run = (ROOT / ".ci" / "run").read_text()
    assert "export LMS_REQUIRE_REDIS=1" in run
    assert "export LMS_REQUIRE_BROWSER=1" in run


def test_make_test_runs_browser_and_smoke_tests_in_one_pass_only():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\ntest: install-test") : makefile.index("\ntest-sqlite:")]
    sqlite_with_pg = recipe[recipe.index('if [ -n "$$LMS_TEST_DATABASE_URL" ]') : recipe.index("else")]
    assert '-m "not browser and not smoke"' in sqlite_with_pg  # skipped in the SQLite pass...
    assert sqlite_with_pg.count("pytest") == 2  # ...and run in the PostgreSQL pass, which has no -m filter
    assert "-m" not in sqlite_with_pg.split("== PostgreSQL")[1]

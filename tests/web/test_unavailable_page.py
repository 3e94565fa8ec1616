"""Which database errors mean "briefly unavailable" (503 + Retry-After) and which stay a 500.

The real outage (PostgreSQL stopped and started under the app) is tests/test_database_outage.py.
"""

from __future__ import annotations

import pytest
from sqlalchemy import exc as sa_exc


class _Orig(Exception):
    pass


def _raise(error: Exception):
    def view():
        raise error

    return view


@pytest.fixture
def failing(app):
    app.add_url_rule(
        "/_down", "down", _raise(sa_exc.OperationalError("SELECT 1", {}, _Orig("server closed")))
    )
    app.add_url_rule("/_pool", "pool", _raise(sa_exc.TimeoutError("QueuePool limit reached")))
    app.add_url_rule("/_dup", "dup", _raise(sa_exc.IntegrityError("INSERT", {}, _Orig("duplicate key"))))
    return app.test_client()


@pytest.mark.parametrize("path", ["/_down", "/_pool"])
def test_database_unavailable_gives_503_page_or_json(failing, path, caplog):
    page = failing.get(path)
    assert page.status_code == 503 and page.headers["Retry-After"] == "60"
    html = page.get_data(as_text=True)
    assert "<h1>The service is briefly unavailable</h1>" in html and "Try again in a minute." in html
    assert "server closed" not in html and "Traceback" not in html
    as_json = failing.get(path, headers={"Accept": "application/json"})
    assert as_json.status_code == 503
    assert as_json.json["error"] == "The service is briefly unavailable, try again in a minute."
    # One line in the log per request, without a traceback.
    lines = [r for r in caplog.records if "Database unavailable" in r.getMessage()]
    assert lines and all(r.exc_info is None for r in lines)


def test_a_constraint_violation_is_a_bug_not_an_outage(failing):
    response = failing.get("/_dup")
    assert response.status_code == 500 and "Retry-After" not in response.headers


def test_production_pool_tests_connections_before_use():
    """What lets the app recover by itself after a database restart (see tests/test_database_outage.py)."""
    from lms.config import ProductionConfig

    assert ProductionConfig.SQLALCHEMY_ENGINE_OPTIONS.get("pool_pre_ping") is True

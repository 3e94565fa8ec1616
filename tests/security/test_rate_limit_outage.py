"""Redis down during an exam: rate limits fall back to each process's memory, requests keep being served."""

from __future__ import annotations

import logging
import socket

import pytest


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


@pytest.fixture
def app_config():
    return {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{_closed_port()}/0",
        "LOGIN_LIMIT_PER_ACCOUNT": "3 per minute",
        "LOGIN_LIMIT_PER_ADDRESS": "100 per minute",
    }


def test_logins_are_served_and_still_limited_when_redis_is_down(app, client, auth, caplog):
    auth.user()
    caplog.set_level(logging.WARNING, logger="flask-limiter")
    wrong = {"email": "learner@example.org", "password": "wrong password!"}
    assert [client.post("/login", data=wrong).status_code for _ in range(3)] == [400, 400, 400]
    # The limit is still there (counted in this process meanwhile), and says so in words.
    blocked = client.post("/login", data=wrong)
    assert blocked.status_code == 429
    assert "Traceback" not in blocked.get_data(as_text=True)
    assert any("falling back to in-memory storage" in r.getMessage() for r in caplog.records)
    # Another account is not affected: nobody is locked out by the outage.
    assert client.post("/login", data={"email": "other@example.org", "password": "x"}).status_code == 400

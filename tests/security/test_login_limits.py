"""Login limits that hold: any body format, moving windows, trusted proxies only, a way in when locked."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import select

from lms import create_app
from lms.auth import services
from lms.auth.models import AccountToken, AuditEvent, User
from lms.config import ConfigError, ProductionConfig
from lms.extensions import db, limiter, wait_words
from lms.mail import read_outbox
from lms.proxy import ProxyConfigError, client_address, parse_trusted_proxies
from lms.timeutil import utcnow
from tests import factories

PASSWORD = "correct horse battery"


@pytest.fixture
def app_config():
    return {
        "RATELIMIT_ENABLED": True,
        "LOGIN_LIMIT_PER_ACCOUNT": "4 per 5 minutes",
        "LOGIN_LIMIT_PER_ADDRESS": "100 per 5 minutes",
    }


def _post(client, email, as_json=False, addr="10.0.0.1", password="wrong password!", **extra):
    body = {"email": email, "password": password}
    kwargs = {"json": body} if as_json else {"data": body}
    return client.post("/login", environ_base={"REMOTE_ADDR": addr}, **kwargs, **extra)


def test_per_account_limit_holds_for_form_and_json_bodies(app, client):
    factories.create_user(app, email="ana@example.org", password=PASSWORD)
    codes = [
        _post(client, "ana@example.org", as_json=i % 2 == 1, addr=f"10.0.0.{i}").status_code for i in range(4)
    ]
    assert codes == [400, 400, 400, 400]
    # Both formats counted against the one account, from any address.
    assert (
        _post(client, "ANA@example.org", as_json=True, addr="10.0.0.9", password=PASSWORD).status_code == 429
    )
    assert _post(client, "ana@example.org", addr="10.0.0.10", password=PASSWORD).status_code == 429


def test_lockout_page_keeps_the_input_and_says_how_long_to_wait(app, client):
    factories.create_user(app, email="ana@example.org", password=PASSWORD)
    for _ in range(4):
        _post(client, "ana@example.org")
    page = _post(client, "ana@example.org")
    html = page.get_data(as_text=True)
    assert page.status_code == 429
    assert "wait 5 minutes" in html
    assert "per 5 minute" not in html
    assert re.search(r'<input[^>]*name="email"[^>]*value="ana@example.org"', html)
    assert "wrong password!" not in html
    assert "Email me a sign-in link" in html


def test_wait_words():
    assert wait_words(300) == "5 minutes"
    assert wait_words(60) == "1 minute"
    assert wait_words(3600) == "1 hour"
    assert wait_words(30) == "30 seconds"
    assert wait_words(86400) == "24 hours"


def test_limits_use_the_moving_window_strategy(app):
    assert app.config["RATELIMIT_STRATEGY"] == "moving-window"
    with app.app_context():
        assert isinstance(limiter.limiter, MovingWindowRateLimiter)


def _production_env(monkeypatch, tmp_path):
    from tests import factories

    monkeypatch.setenv("LMS_SIGNING_KEY_FILE", str(factories.signing_key_file(tmp_path)))
    monkeypatch.setenv("LMS_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("LMS_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("LMS_BASE_URL", "https://lms.example.org")
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")


def test_production_refuses_per_process_limit_storage_unless_told(monkeypatch, tmp_path):
    _production_env(monkeypatch, tmp_path)
    monkeypatch.delenv("LMS_RATELIMIT_STORAGE_URI", raising=False)
    with pytest.raises(ConfigError, match="memory://"):
        create_app(ProductionConfig)
    monkeypatch.setenv("LMS_RATELIMIT_STORAGE_URI", "memory://")
    with pytest.raises(ConfigError, match="LMS_RATELIMIT_PER_PROCESS"):
        create_app(ProductionConfig)
    monkeypatch.setenv("LMS_RATELIMIT_PER_PROCESS", "1")
    assert create_app(ProductionConfig).config["RATELIMIT_PER_PROCESS"] is True


def test_client_address_believes_only_trusted_proxies():
    proxies = parse_trusted_proxies("127.0.0.1, 10.0.0.0/8")
    # Straight to gunicorn from the internet: the header is ignored.
    assert client_address("203.0.113.7", "1.2.3.4", proxies) == "203.0.113.7"
    # Through nginx on the same host: the address nginx saw.
    assert client_address("127.0.0.1", "198.51.100.4", proxies) == "198.51.100.4"
    # A client that sends its own X-Forwarded-For through an appending proxy gains nothing.
    assert client_address("127.0.0.1", "6.6.6.6, 198.51.100.4", proxies) == "198.51.100.4"
    # Two trusted hops.
    assert client_address("127.0.0.1", "198.51.100.4, 10.1.2.3", proxies) == "198.51.100.4"
    # No proxies configured: never believe the header.
    assert client_address("127.0.0.1", "198.51.100.4", ()) == "127.0.0.1"
    assert client_address("127.0.0.1", "not-an-ip", proxies) == "127.0.0.1"
    with pytest.raises(ProxyConfigError, match="LMS_TRUSTED_PROXIES"):
        parse_trusted_proxies("nginx")


def test_forged_forwarded_for_straight_to_the_app_gains_nothing(app, client):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per 5 minutes"
    codes = [
        client.post(
            "/login",
            data={"email": f"u{i}@example.org", "password": "x" * 12},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
            environ_base={"REMOTE_ADDR": "203.0.113.7"},
        ).status_code
        for i in range(4)
    ]
    assert codes == [400, 400, 400, 429]


class TestBehindTrustedProxy:
    @pytest.fixture
    def app_config(self):
        return {
            "RATELIMIT_ENABLED": True,
            "LOGIN_LIMIT_PER_ADDRESS": "2 per 5 minutes",
            "TRUSTED_PROXIES": "127.0.0.1",
        }

    def test_each_client_behind_the_proxy_has_its_own_limit(self, app, client):
        def post(addr):
            return client.post(
                "/login",
                data={"email": "x@example.org", "password": "x" * 12},
                headers={"X-Forwarded-For": addr},
                environ_base={"REMOTE_ADDR": "127.0.0.1"},
            ).status_code

        assert [post("198.51.100.1") for _ in range(3)] == [400, 400, 429]
        assert post("198.51.100.2") == 400


def _login_link(app):
    with app.test_request_context():
        messages = [m for m in read_outbox() if "sign-in link" in m.subject]
    assert messages, "no sign-in link mailed"
    match = re.search(r"http://localhost(/login/link/\S+)", messages[0].body)
    assert match, messages[0].body
    return match.group(1)


def test_locked_owner_signs_in_with_a_one_time_link(app, client):
    info = factories.create_user(app, email="ana@example.org", password=PASSWORD)
    for _ in range(5):
        _post(client, "ana@example.org")
    assert _post(client, "ana@example.org", password=PASSWORD).status_code == 429
    response = client.post("/login/link", data={"email": "ana@example.org"})
    assert response.status_code == 302
    link = _login_link(app)
    assert client.get(link).status_code == 200  # opening it shows a button, it does not sign in
    assert client.get("/dashboard").status_code == 302
    assert client.post(link).status_code == 302
    assert client.get("/dashboard").status_code == 200
    client.post("/logout")
    assert client.post(link).status_code == 410  # single use
    with app.app_context():
        row = db.session.scalar(select(AccountToken).where(AccountToken.purpose == "login_link"))
        assert link.rsplit("/", 1)[1] not in row.token_hash and len(row.token_hash) == 64
        assert row.expires_at - row.created_at == timedelta(minutes=15)
        actions = set(
            db.session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(info.id)))
        )
    assert {"login_link_sent", "login_link_used"} <= actions


def test_login_links_expire_are_limited_and_refused_for_disabled_or_unconfirmed(app):
    info = factories.create_user(app, email="ana@example.org", password=PASSWORD)
    now = utcnow()
    with app.app_context():
        user = db.session.get(User, info.id)
        tokens = [services.issue_login_link(user, now + timedelta(minutes=i)) for i in range(4)]
        assert all(tokens[:3]) and tokens[3] is None  # three per hour per account
        with pytest.raises(services.AccountError):
            services.sign_in_with_link(tokens[0], now + timedelta(minutes=16))
        user.email_confirmed_at = None
        assert services.issue_login_link(user, now + timedelta(hours=2)) is None
        with pytest.raises(services.AccountError):
            services.sign_in_with_link(tokens[1], now + timedelta(minutes=2))
        user.email_confirmed_at = now
        services.disable_user(user, "Left")
        assert services.issue_login_link(user, now + timedelta(hours=2)) is None
        with pytest.raises(services.AccountError):
            services.sign_in_with_link(tokens[2], now + timedelta(minutes=3))
        db.session.rollback()


def test_unknown_address_gets_the_same_answer_for_a_login_link(app, client):
    response = client.post("/login/link", data={"email": "nobody@example.org"}, follow_redirects=True)
    assert "If an active, confirmed account exists" in response.get_data(as_text=True)
    with app.test_request_context():
        assert read_outbox() == []

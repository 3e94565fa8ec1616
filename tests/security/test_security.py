"""Security baseline: CSRF, rate limits, headers, redirects, error pages."""

from __future__ import annotations

import pytest

from lms.auth.permissions import is_safe_next
from tests import factories


class TestCSRF:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_post_without_token_is_rejected(self, app, client):
        factories.create_user(app, email="ana@example.org", password="correct horse battery")
        response = client.post(
            "/login", data={"email": "ana@example.org", "password": "correct horse battery"}
        )
        assert response.status_code == 400
        assert "form expired" in response.get_data(as_text=True)
        assert client.get("/dashboard").status_code == 302

    def test_every_form_carries_a_token(self, client):
        for path in ("/login", "/register", "/forgot-password"):
            assert 'name="csrf_token"' in client.get(path).get_data(as_text=True), path

    def test_logout_needs_token(self, app, client):
        factories.create_user(app, email="ana@example.org", password="correct horse battery")
        page = client.get("/login").get_data(as_text=True)
        import re

        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert (
            client.post(
                "/login",
                data={
                    "email": "ana@example.org",
                    "password": "correct horse battery",
                    "csrf_token": token,
                },
            ).status_code
            == 302
        )
        assert client.post("/logout").status_code == 400
        assert client.get("/dashboard").status_code == 200


class TestRateLimit:
    @pytest.fixture
    def app_config(self):
        return {
            "RATELIMIT_ENABLED": True,
            "LOGIN_LIMIT_PER_ACCOUNT": "3 per minute",
            "LOGIN_LIMIT_PER_ADDRESS": "6 per minute",
        }

    def test_per_account_limit(self, app, client):
        factories.create_user(app, email="ana@example.org", password="correct horse battery")
        for _ in range(3):
            assert (
                client.post(
                    "/login", data={"email": "ana@example.org", "password": "wrong!!!!!!"}
                ).status_code
                == 400
            )
        blocked = client.post(
            "/login", data={"email": "ANA@example.org", "password": "correct horse battery"}
        )
        assert blocked.status_code == 429
        assert "Too many sign-in attempts" in blocked.get_data(as_text=True)
        # Another account from the same address is not blocked yet.
        assert (
            client.post("/login", data={"email": "bob@example.org", "password": "x" * 12}).status_code == 400
        )

    def test_per_address_limit(self, app, client):
        for i in range(6):
            client.post("/login", data={"email": f"user{i}@example.org", "password": "x" * 12})
        assert (
            client.post("/login", data={"email": "new@example.org", "password": "x" * 12}).status_code == 429
        )
        # A different address still gets through.
        other = client.post(
            "/login",
            data={"email": "new@example.org", "password": "x" * 12},
            environ_base={"REMOTE_ADDR": "10.9.9.9"},
        )
        assert other.status_code == 400

    def test_every_attempt_counts_before_the_password_is_checked(self, app, client):
        factories.create_user(app, email="ana@example.org", password="correct horse battery")
        good = {"email": "ana@example.org", "password": "correct horse battery"}
        for _ in range(3):
            assert client.post("/login", data=good).status_code == 302
            client.post("/logout")
        assert client.post("/login", data=good).status_code == 429


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_no_inline_script_or_style_in_pages(client):
    for path in ("/", "/login", "/register", "/courses"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "<script >" not in html, path
        assert " style=" not in html, path
        assert " onclick=" not in html, path


def test_session_cookie_flags(app, client):
    factories.create_user(app, email="ana@example.org", password="correct horse battery")
    response = client.post("/login", data={"email": "ana@example.org", "password": "correct horse battery"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/courses", True),
        ("/courses?q=car-t#x", True),
        ("https://evil.example/", False),
        ("//evil.example/", False),
        ("/\\evil.example", False),
        ("\\\\evil.example", False),
        ("javascript:alert(1)", False),
        ("http:/evil.example", False),
        ("", False),
        (None, False),
        ("/ok\r\nSet-Cookie: x", False),
    ],
)
def test_is_safe_next(target, safe):
    assert is_safe_next(target) is safe


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example"])
def test_login_refuses_offsite_next(app, client, target):
    factories.create_user(app, email="ana@example.org", password="correct horse battery")
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "ana@example.org", "password": "correct horse battery"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


def test_login_follows_same_host_next(app, client):
    factories.create_user(app, email="ana@example.org", password="correct horse battery")
    response = client.post(
        "/login",
        query_string={"next": "/account"},
        data={"email": "ana@example.org", "password": "correct horse battery"},
    )
    assert response.headers["Location"] == "/account"


def test_friendly_404_and_405(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    assert client.get("/logout").status_code == 405


def test_500_page_hides_traceback(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong on our side" in html
    assert "secret internals" not in html
    assert "Traceback" not in html


def test_logout_ends_a_remembered_session(app, client):
    factories.create_user(app, email="ana@example.org", password="correct horse battery")
    response = client.post(
        "/login", data={"email": "ana@example.org", "password": "correct horse battery", "remember": "y"}
    )
    assert "remember_token=" in " ".join(response.headers.getlist("Set-Cookie"))
    client.post("/logout")
    assert client.get_cookie("remember_token") is None
    assert client.get("/dashboard").status_code == 302


class TestResetLinksIgnoreHostHeader:
    @pytest.fixture
    def app_config(self):
        return {"BASE_URL": "https://lms.example.org"}

    def test_link_uses_base_url(self, app, client):
        from lms.mail import read_outbox

        factories.create_user(app, email="ana@example.org")
        client.post(
            "/forgot-password",
            data={"email": "ana@example.org"},
            headers={"Host": "evil.example", "X-Forwarded-Host": "evil2.example"},
        )
        with app.test_request_context():
            body = read_outbox()[0].body
        assert "https://lms.example.org/reset-password/" in body
        assert "evil" not in body

"""Sessions live on the server: logout, "sign out everywhere", password changes and disabling end them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.auth import services
from lms.auth.models import User, UserSession
from lms.extensions import db
from lms.timeutil import utcnow
from tests import factories

PASSWORD = "correct horse battery"


def _login(client, email="ana@example.org", remember=False):
    data = {"email": email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.data[:300]
    return response


def _cookie(client, name):
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def _signed_in(app, cookies: dict[str, str]) -> bool:
    """A fresh browser holding only these cookie values: does it reach a signed-in page?"""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other.get("/dashboard").status_code == 200


def test_copied_session_cookie_dies_at_logout(app, client):
    factories.create_user(app, email="ana@example.org", password=PASSWORD)
    _login(client)
    copied = {"session": _cookie(client, "session")}
    assert _signed_in(app, copied)
    client.post("/logout")
    assert not _signed_in(app, copied)


def test_copied_remember_cookie_dies_at_logout(app, client):
    factories.create_user(app, email="ana@example.org", password=PASSWORD)
    _login(client, remember=True)
    copied = {"remember_token": _cookie(client, "remember_token")}
    assert _signed_in(app, copied)  # the remember-me cookie alone signs a new browser in
    client.post("/logout")
    assert not _signed_in(app, copied)


def test_remember_me_lasts_the_configured_days_and_changes_at_each_login(app, client):
    factories.create_user(app, email="ana@example.org", password=PASSWORD)
    response = _login(client, remember=True)
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    assert "Expires=" in header
    first = _cookie(client, "remember_token")
    with app.app_context():
        row = db.session.scalar(select(UserSession).where(UserSession.remember.is_(True)))
        assert row.expires_at - row.created_at == timedelta(days=14)
    client.post("/logout")
    _login(client, remember=True)
    assert _cookie(client, "remember_token") != first


def test_sign_out_everywhere_ends_every_session(app, client):
    factories.create_user(app, email="ana@example.org", password=PASSWORD)
    phone = app.test_client()
    _login(phone, remember=True)
    phone_cookies = {"session": _cookie(phone, "session"), "remember_token": _cookie(phone, "remember_token")}
    _login(client)
    assert "Sign out everywhere" in client.get("/account").get_data(as_text=True)
    response = client.post("/account/sign-out-everywhere")
    assert response.status_code == 302
    assert client.get("/dashboard").status_code == 302
    assert phone.get("/dashboard").status_code == 302
    assert not _signed_in(app, phone_cookies)


def test_password_change_ends_other_sessions_but_keeps_this_one(app, client):
    factories.create_user(app, email="ana@example.org", password=PASSWORD)
    phone = app.test_client()
    _login(phone, remember=True)
    remember = {"remember_token": _cookie(phone, "remember_token")}
    _login(client)
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a fresh passphrase",
            "confirm_password": "a fresh passphrase",
        },
    )
    assert response.status_code == 302
    assert client.get("/dashboard").status_code == 200
    assert phone.get("/dashboard").status_code == 302
    assert not _signed_in(app, remember)


def test_reset_and_disabling_end_sessions(app, client):
    info = factories.create_user(app, email="ana@example.org", password=PASSWORD)
    _login(client)
    with app.app_context():
        user = db.session.get(User, info.id)
        token = services.create_reset_token(user, utcnow())
        services.reset_password(token, "a fresh passphrase")
        db.session.commit()
    assert client.get("/dashboard").status_code == 302

    client.post("/login", data={"email": "ana@example.org", "password": "a fresh passphrase"})
    assert client.get("/dashboard").status_code == 200
    with app.app_context():
        services.disable_user(db.session.get(User, info.id), "Left the hospital")
        db.session.commit()
    assert client.get("/dashboard").status_code == 302


def test_user_and_live_session_load_in_one_query(app, count_queries):
    info = factories.create_user(app, email="ana@example.org", password=PASSWORD)
    now = utcnow()
    with app.app_context():
        key = services.start_session(db.session.get(User, info.id), now)
        db.session.commit()
    with app.app_context(), count_queries() as counter:
        assert services.load_user_from_session(f"{info.id}.{key}", now=now) is not None
    # The session check is part of the statement that loads the user (roles follow by selectin).
    assert "user_session" in counter.statements[0] and "user_account" in counter.statements[0]
    assert sum("user_session" in statement for statement in counter.statements) == 1
    with app.app_context():
        assert services.load_user_from_session(f"{info.id}.not-a-key", now=now) is None
        assert services.load_user_from_session(f"{info.id}.{key}", now=now + timedelta(hours=13)) is None

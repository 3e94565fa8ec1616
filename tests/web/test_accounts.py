"""Registration, login, logout, profile and password change through the app."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lms.auth.models import User
from lms.extensions import db
from tests import factories

GOOD = {
    "email": "Zoe@Example.org",
    "password": "a long passphrase here",
    "confirm_password": "a long passphrase here",
    "full_name": "Zoë Łukasiewicz-Núñez",
    "profession": "physician",
    "specialty": "Haematology",
    "country": "PL",
    "licence_number": "",
}


def _user(app, email):
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email))


@pytest.mark.parametrize(
    "name", ["Zoë Łukasiewicz-Núñez", "Дмитрий Иванов", "李小龙", "O'Brien Ó Súilleabháin"]
)
def test_register_accepts_names_in_any_script(app, client, name):
    response = client.post("/register", data={**GOOD, "full_name": name})
    assert response.status_code == 200
    assert "Check your email to finish" in response.get_data(as_text=True)
    user = _user(app, "zoe@example.org")
    assert user is not None
    assert user.full_name == name
    assert user.roles == {"learner"}
    assert user.password_hash != GOOD["password"]
    assert user.password_hash.startswith("scrypt:")
    # Not signed in until the emailed link is opened.
    assert user.email_confirmed_at is None
    assert client.get("/account").status_code == 302


def test_register_page_names_fields_and_autocomplete(client):
    html = client.get("/register").get_data(as_text=True)
    for name, autocomplete in [
        ("email", "email"),
        ("password", "new-password"),
        ("full_name", "name"),
        ("country", "country"),
        ("licence_number", "off"),
    ]:
        tag = re.search(rf'<(input|select)[^>]*name="{name}"[^>]*>', html)
        assert tag, name
        assert f'autocomplete="{autocomplete}"' in tag.group(0), tag.group(0)
    for name in ("profession", "specialty"):
        assert f'name="{name}"' in html
    assert '<label for="email">' in html


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"email": ""}, "email", "required"),
        ({"password": "short", "confirm_password": "short"}, "password", "at least 10"),
        ({"confirm_password": "something else entirely"}, "confirm_password", "differ"),
        ({"full_name": ""}, "full_name", "required"),
        ({"full_name": "x" * 201}, "full_name", "200"),
        ({"profession": "astronaut"}, "profession", "Not a valid choice"),
        ({"country": "XX"}, "country", "Not a valid choice"),
        ({"specialty": ""}, "specialty", "Choose your specialty"),
    ],
)
def test_register_rejects_bad_input_with_field_errors(app, client, change, field, message):
    response = client.post("/register", data={**GOOD, **change})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    error = re.search(rf'id="{field}-error">(.*?)</p>', html, re.S)
    assert error, f"no error shown for {field}"
    assert message.lower() in error.group(1).lower()
    # The other answers are kept in the form.
    if field != "specialty":
        assert 'value="Haematology"' in html
    assert _user(app, "zoe@example.org") is None


def test_emails_are_case_insensitive_and_unique(app, client):
    factories.create_user(app, email="zoe@example.org")
    response = client.post("/register", data=GOOD)
    # The same answer as for a new address: nobody learns which addresses have accounts.
    assert response.status_code == 200
    assert "Check your email to finish" in response.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.scalars(select(User)).all()) == 1


def test_login_is_case_insensitive_and_logout_ends_session(app, client):
    factories.create_user(app, email="ana@example.org", password="correct horse battery")
    response = client.post(
        "/login", data={"email": "  ANA@Example.ORG ", "password": "correct horse battery"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_same_message_for_unknown_email_and_wrong_password(app, client):
    factories.create_user(app, email="ana@example.org", password="correct horse battery")
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "whatever12345"})
    wrong = client.post("/login", data={"email": "ana@example.org", "password": "wrong password!"})
    assert unknown.status_code == wrong.status_code == 400
    msg = "The email or password is not correct."
    assert msg in unknown.get_data(as_text=True)
    assert msg in wrong.get_data(as_text=True)


def test_session_is_rotated_at_login(app, client):
    factories.create_user(app, email="ana@example.org", password="correct horse battery")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    client.post("/login", data={"email": "ana@example.org", "password": "correct horse battery"})
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess.get("_user_id")


def test_disabled_account_cannot_log_in_and_is_kept(app, client, auth):
    info = factories.create_user(app, email="ana@example.org", password="correct horse battery")
    with app.app_context():
        from lms.auth import services

        user = db.session.get(User, info.id)
        services.disable_user(user, "Left the hospital")
        db.session.commit()
    response = client.post("/login", data={"email": "ana@example.org", "password": "correct horse battery"})
    assert response.status_code == 400
    assert "not correct" in response.get_data(as_text=True)
    assert _user(app, "ana@example.org").disabled_reason == "Left the hospital"


def test_disabling_logs_out_an_open_session(app, client, auth):
    info = auth.login("learner")
    with app.app_context():
        from lms.auth import services

        services.disable_user(db.session.get(User, info.id), "Duplicate account")
        db.session.commit()
    assert client.get("/dashboard").status_code == 302


def test_profile_edit(app, client, auth):
    auth.login("learner")
    response = client.post(
        "/account",
        data={
            "full_name": "Дмитрий Иванов",
            "profession": "pharmacist",
            "specialty": "Oncology pharmacy",
            "country": "DE",
            "licence_number": "AB-12345",
        },
    )
    assert response.status_code == 302
    user = _user(app, "learner@example.org")
    assert (user.full_name, user.profession, user.country, user.licence_number) == (
        "Дмитрий Иванов",
        "pharmacist",
        "DE",
        "AB-12345",
    )


def test_profile_edit_shows_errors(client, auth):
    auth.login("learner")
    response = client.post("/account", data={"full_name": "", "profession": "nurse", "country": "FR"})
    assert response.status_code == 400
    assert 'id="full_name-error"' in response.get_data(as_text=True)


def test_change_password_requires_current_and_signs_out_other_sessions(app, client, auth):
    auth.login("learner")
    other = app.test_client()
    other.post("/login", data={"email": "learner@example.org", "password": auth.password})
    assert other.get("/dashboard").status_code == 200

    wrong = client.post(
        "/account/password",
        data={
            "current_password": "not it at all",
            "new_password": "brand new passphrase",
            "confirm_password": "brand new passphrase",
        },
    )
    assert wrong.status_code == 400
    assert "current password is not correct" in wrong.get_data(as_text=True)

    ok = client.post(
        "/account/password",
        data={
            "current_password": auth.password,
            "new_password": "brand new passphrase",
            "confirm_password": "brand new passphrase",
        },
    )
    assert ok.status_code == 302
    assert client.get("/dashboard").status_code == 200  # this session continues
    assert other.get("/dashboard").status_code == 302  # the other one is signed out
    client.post("/logout")
    assert (
        client.post(
            "/login", data={"email": "learner@example.org", "password": "brand new passphrase"}
        ).status_code
        == 302
    )

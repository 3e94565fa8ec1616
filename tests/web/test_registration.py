"""Registration with a confirmed address, forgot-password off the request path, password rules, CLI resets."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms import jobs
from lms.auth import notices, services
from lms.auth.models import AccountToken, User
from lms.extensions import db
from lms.jobs import BackgroundJob
from lms.mail import read_outbox
from lms.timeutil import utcnow
from tests import factories

PASSWORD = "a long passphrase here"
FORM = {
    "email": "zoe@example.org",
    "password": PASSWORD,
    "confirm_password": PASSWORD,
    "full_name": "Zoë Example",
    "profession": "physician",
    "specialty": "Haematology",
    "country": "PL",
    "licence_number": "",
}


def _outbox(app):
    with app.test_request_context():
        return read_outbox()


def _link(app, path):
    for message in _outbox(app):
        match = re.search(rf"http://localhost({path}/\S+)", message.body)
        if match:
            return match.group(1)
    raise AssertionError(f"no {path} link in the outbox")


def _login(client, email="zoe@example.org", password=PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


def test_new_account_signs_in_only_after_opening_the_link_once(app, client):
    response = client.post("/register", data=FORM)
    assert response.status_code == 200
    assert "Check your email to finish" in response.get_data(as_text=True)
    refused = _login(client)
    assert refused.status_code == 400
    assert "Confirm your email address first" in refused.get_data(as_text=True)
    link = _link(app, "/confirm-email")
    assert client.get(link).status_code == 302
    assert _login(client).status_code == 302
    client.post("/logout")
    assert client.get(link).status_code == 410  # single use
    with app.app_context():
        row = db.session.scalar(select(AccountToken).where(AccountToken.purpose == "confirm_email"))
        assert row.expires_at - row.created_at == timedelta(hours=24)
        assert link.rsplit("/", 1)[1] not in row.token_hash


def test_confirmation_link_expires_after_24_hours(app):
    with app.app_context():
        user = services.register(
            services.Registration(
                "zoe@example.org", PASSWORD, services.ProfileData("Zoë", "physician", "x", "PL", None)
            )
        )
        now = utcnow()
        token = services.create_confirmation_token(user, now)
        with pytest.raises(services.AccountError):
            services.confirm_email(token, now + timedelta(hours=24, seconds=1))
        assert services.confirm_email(token, now + timedelta(hours=23)).email_confirmed_at is not None
        db.session.rollback()


def test_existing_address_gets_the_same_answer_and_a_notice_instead(app, client):
    factories.create_user(app, email="zoe@example.org")
    response = client.post("/register", data={**FORM, "email": "ZOE@example.org"})
    assert response.status_code == 200
    assert "Check your email to finish" in response.get_data(as_text=True)
    messages = _outbox(app)
    assert [m.subject for m in messages] == ["Someone tried to register with your address at Helix LMS"]
    assert "/confirm-email/" not in messages[0].body
    with app.app_context():
        assert len(db.session.scalars(select(User)).all()) == 1


def test_resend_confirmation_answers_the_same_whether_or_not_the_account_exists(app, client):
    client.post("/register", data=FORM)
    known = client.post("/confirm-email/resend", data={"email": "zoe@example.org"}, follow_redirects=True)
    unknown = client.post(
        "/confirm-email/resend", data={"email": "nobody@example.org"}, follow_redirects=True
    )
    assert known.status_code == unknown.status_code == 200
    message = "If an account with that address is waiting for confirmation"
    assert message in known.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert len([m for m in _outbox(app) if "Confirm your email" in m.subject]) == 2
    assert 'action="/confirm-email/resend"' in client.get("/login").get_data(as_text=True)


def test_send_confirmation_service_queues_a_mail_for_unconfirmed_accounts_only(app):
    confirmed = factories.create_user(app, email="ana@example.org")
    with app.app_context():
        user = db.session.get(User, confirmed.id)
        services.send_confirmation(user, utcnow())
        user.email_confirmed_at = None
        services.send_confirmation(user, utcnow())
        db.session.commit()
    assert [m.subject for m in _outbox(app)] == ["Confirm your email address for Helix LMS"]


class TestMailOffTheRequestPath:
    @pytest.fixture
    def app_config(self):
        return {"JOBS_MODE": "manual"}

    def test_forgot_password_never_mails_during_the_request(self, app, client, monkeypatch):
        factories.create_user(app, email="ana@example.org")
        sent = []

        def blocked_mailer(to, subject, body):
            if not sent_allowed:
                raise AssertionError("mail sent on the request path")
            sent.append(to)

        sent_allowed = False
        monkeypatch.setattr(notices, "send_mail", blocked_mailer)
        known = client.post("/forgot-password", data={"email": "ana@example.org"})
        unknown = client.post("/forgot-password", data={"email": "nobody@example.org"})
        assert known.status_code == unknown.status_code == 302
        assert known.headers["Location"] == unknown.headers["Location"]
        with app.app_context():
            queued = db.session.scalars(select(BackgroundJob.name)).all()
            assert queued == ["lms.auth.notices:send_password_reset"]
            sent_allowed = True
            assert jobs.run_pending() == 1
        assert sent == ["ana@example.org"]


@pytest.mark.parametrize("password", ["short one", "qwertyuiop", "password123", "1q2w3e4r5t", "aaaaaaaaaaaa"])
def test_weak_or_common_passwords_are_refused(app, client, password):
    response = client.post("/register", data={**FORM, "password": password, "confirm_password": password})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_common_password_list_is_shipped_with_its_source():
    assert len(services.common_passwords()) > 1000
    assert "qwertyuiop" in services.common_passwords()


class TestRegistrationLimit:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "REGISTER_LIMIT_PER_ADDRESS": "2 per hour"}

    def test_counts_created_accounts_not_failed_posts(self, app, client):
        for _ in range(5):
            assert client.post("/register", data={**FORM, "email": "not-an-email"}).status_code == 400
        for i in range(2):
            assert client.post("/register", data={**FORM, "email": f"u{i}@example.org"}).status_code == 200
        blocked = client.post("/register", data={**FORM, "email": "u9@example.org"})
        assert blocked.status_code == 429
        html = blocked.get_data(as_text=True)
        assert 'value="u9@example.org"' in html and "Wait 1 hour" in html
        assert PASSWORD not in html


def test_cli_created_accounts_are_confirmed_and_operators_can_reset_passwords(app, client, runner):
    result = runner.invoke(
        args=["users", "create", "ops@example.org", "--name", "Op Erator", "--password-stdin"],
        input="an operator passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert _login(client, "ops@example.org", "an operator passphrase").status_code == 302
    result = runner.invoke(
        args=["users", "set-password", "ops@example.org", "--password-stdin"], input="a replaced passphrase\n"
    )
    assert result.exit_code == 0, result.output
    assert client.get("/dashboard").status_code == 302  # the open session ended
    assert _login(client, "ops@example.org", "a replaced passphrase").status_code == 302
    weak = runner.invoke(
        args=["users", "set-password", "ops@example.org", "--password-stdin"], input="short\n"
    )
    assert weak.exit_code == 1 and "at least 10" in weak.output
    missing = runner.invoke(args=["users", "set-password", "no@example.org", "--password-stdin"], input="x\n")
    assert missing.exit_code == 1

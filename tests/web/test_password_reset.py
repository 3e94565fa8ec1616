"""Password reset by an emailed, single-use, expiring link (file outbox when SMTP is not configured)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.auth.models import AuditEvent, PasswordResetToken
from lms.extensions import db
from lms.mail import read_outbox
from lms.timeutil import utcnow
from tests import factories


def _request_link(app, client, email="ana@example.org") -> str:
    response = client.post("/forgot-password", data={"email": email})
    assert response.status_code == 302
    with app.test_request_context():
        messages = read_outbox()
    assert messages, "no message in the outbox"
    match = re.search(r"http://localhost(/reset-password/\S+)", messages[0].body)
    assert match, messages[0].body
    return match.group(1)


def test_reset_flow_single_use(app, client):
    factories.create_user(app, email="ana@example.org", password="correct horse battery")
    link = _request_link(app, client)
    with app.test_request_context():
        message = read_outbox()[0]
    assert message.to == "ana@example.org"
    assert "Reset your" in message.subject

    assert client.get(link).status_code == 200
    response = client.post(
        link, data={"new_password": "a fresh passphrase", "confirm_password": "a fresh passphrase"}
    )
    assert response.status_code == 302
    # The old password no longer works; the new one does.
    assert (
        client.post(
            "/login", data={"email": "ana@example.org", "password": "correct horse battery"}
        ).status_code
        == 400
    )
    assert (
        client.post("/login", data={"email": "ana@example.org", "password": "a fresh passphrase"}).status_code
        == 302
    )
    client.post("/logout")
    # Single use.
    again = client.post(
        link,
        data={"new_password": "another passphrase!", "confirm_password": "another passphrase!"},
    )
    assert again.status_code == 410
    assert (
        client.post(
            "/login", data={"email": "ana@example.org", "password": "another passphrase!"}
        ).status_code
        == 400
    )


def test_reset_link_expires(app, client):
    factories.create_user(app, email="ana@example.org")
    link = _request_link(app, client)
    with app.app_context():
        token = db.session.scalar(select(PasswordResetToken))
        token.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    response = client.get(link)
    assert response.status_code == 410
    assert "cannot be used" in response.get_data(as_text=True)


def test_repeated_requests_cannot_cancel_a_live_link_and_are_limited_per_account(app, client):
    factories.create_user(app, email="ana@example.org")
    first = _request_link(app, client)
    second = _request_link(app, client)
    assert first != second
    # Anyone can ask for a reset of ana's address: that must not kill the link ana is about to open.
    assert client.get(first).status_code == 200
    assert client.get(second).status_code == 200
    _request_link(app, client)
    client.post("/forgot-password", data={"email": "ana@example.org"})
    with app.app_context():
        assert len(db.session.scalars(select(PasswordResetToken)).all()) == 3  # RESET_MAILS_PER_HOUR
    with app.test_request_context():
        assert len(read_outbox()) == 3


def test_any_password_change_kills_live_reset_links(app, client, runner):
    factories.create_user(app, email="ana@example.org")
    link = _request_link(app, client)
    result = runner.invoke(
        args=["users", "set-password", "ana@example.org", "--password-stdin"], input="an operator's new one\n"
    )
    assert result.exit_code == 0, result.output
    assert client.get(link).status_code == 410


def test_unknown_email_gets_same_answer_and_no_mail(app, client):
    response = client.post("/forgot-password", data={"email": "nobody@example.org"}, follow_redirects=True)
    assert "If an account exists" in response.get_data(as_text=True)
    with app.test_request_context():
        assert read_outbox() == []


def test_only_token_digest_is_stored(app, client):
    factories.create_user(app, email="ana@example.org")
    link = _request_link(app, client)
    token = link.rsplit("/", 1)[1]
    with app.app_context():
        row = db.session.scalar(select(PasswordResetToken))
        assert token not in row.token_hash
        assert len(row.token_hash) == 64


def test_admin_outbox_shows_metadata_and_never_other_peoples_links(app, client, auth):
    factories.create_user(app, email="ana@example.org")
    link = _request_link(app, client)
    token = link.rsplit("/", 1)[1]
    admin = auth.login("admin")
    html = client.get("/admin/outbox").get_data(as_text=True)
    assert "ana@example.org" in html
    assert "Reset your" in html
    assert token not in html and "/reset-password/" not in html
    with app.test_request_context():
        name = read_outbox()[0].name
    message = client.get(f"/admin/outbox/{name}").get_data(as_text=True)
    assert "Reset your" in message
    assert token not in message
    assert "[link hidden]" in message
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "read_mail"))
        assert event is not None and event.actor_id == admin.id and event.target_id == name
    assert client.get("/admin/outbox/..%2Fsecret_key").status_code == 404
    assert client.get("/admin/outbox/20260101T000000000000-deadbeef.eml").status_code == 404


def test_admin_reads_the_full_text_of_their_own_mail(app, client, auth):
    admin = auth.login("admin")
    client.post("/logout")
    link = _request_link(app, client, email=admin.email)
    auth.login("admin")
    with app.test_request_context():
        name = read_outbox()[0].name
    assert link in client.get(f"/admin/outbox/{name}").get_data(as_text=True)


def test_outbox_files_are_private(app, client):
    factories.create_user(app, email="ana@example.org")
    _request_link(app, client)
    with app.test_request_context():
        from lms.mail import outbox_dir

        files = list(outbox_dir().glob("*.eml"))
    assert files and all(f.stat().st_mode & 0o777 == 0o600 for f in files)


def test_resets_changes_and_operator_resets_are_audited(app, client, runner, auth):
    info = auth.login("learner")
    client.post(
        "/account/password",
        data={
            "current_password": auth.password,
            "new_password": "a fresh passphrase",
            "confirm_password": "a fresh passphrase",
        },
    )
    client.post("/logout")
    link = _request_link(app, client, email=info.email)
    client.post(link, data={"new_password": "a newer passphrase", "confirm_password": "a newer passphrase"})
    runner.invoke(args=["users", "set-password", info.email, "--password-stdin"], input="an operator's one\n")
    with app.app_context():
        actions = list(
            db.session.scalars(
                select(AuditEvent.action).where(AuditEvent.target_id == str(info.id)).order_by(AuditEvent.id)
            )
        )
    assert actions == ["password_change", "password_reset", "password_set_by_operator"]


class _FakeSMTP:
    sent: list = []

    def __init__(self, host, port, timeout=None):
        self.host, self.port = host, port
        self.started_tls = False
        self.logged_in = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        self.started_tls = True

    def login(self, user, password):
        self.logged_in = (user, password)

    def send_message(self, msg):
        _FakeSMTP.sent.append((self, msg))


class TestSMTP:
    @pytest.fixture
    def app_config(self):
        return {
            "SMTP_HOST": "smtp.example.org",
            "SMTP_PORT": 2525,
            "SMTP_USERNAME": "lms",
            "SMTP_PASSWORD": "pw",
        }

    def test_mail_goes_through_smtp_when_configured(self, app, client, monkeypatch):
        import lms.mail

        _FakeSMTP.sent = []
        monkeypatch.setattr(lms.mail.smtplib, "SMTP", _FakeSMTP)
        factories.create_user(app, email="ana@example.org")
        client.post("/forgot-password", data={"email": "ana@example.org"})
        assert len(_FakeSMTP.sent) == 1
        smtp, msg = _FakeSMTP.sent[0]
        assert (smtp.host, smtp.port, smtp.started_tls, smtp.logged_in) == (
            "smtp.example.org",
            2525,
            True,
            ("lms", "pw"),
        )
        assert msg["To"] == "ana@example.org"
        assert "/reset-password/" in msg.get_content()
        with app.test_request_context():
            assert read_outbox() == []  # nothing went to the file outbox

"""Co-author invitations by email: existing accounts are added and told; new addresses get a link that works
for that address only (after registration or signed in); revoked and expired invitations give nothing."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from lms.auth.models import AuditEvent, User
from lms.authoring import invitations
from lms.authoring import services as svc
from lms.authoring.models import CoauthorInvitation
from lms.extensions import db
from lms.mail import read_outbox
from lms.timeutil import utcnow
from tests import factories
from tests.web.test_authoring import _new_course

PASSWORD = "a long passphrase here"
REGISTRATION = {
    "password": PASSWORD,
    "confirm_password": PASSWORD,
    "full_name": "Nia New",
    "profession": "physician",
    "specialty": "Haematology",
    "country": "PL",
    "licence_number": "",
}


def _outbox(app):
    with app.test_request_context():
        return read_outbox()


def _link(app, path: str, to: str) -> str:
    for message in _outbox(app):
        match = re.search(rf"http://localhost({path}/\S+)", message.body)
        if match and message.to == to:
            return match.group(1)
    raise AssertionError(f"no {path} link to {to} in the outbox")


def _role(app, email: str) -> str | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        return svc.role_on(user, svc.get_course("my-course")) if user else None


def _invite(client, email: str):
    return client.post("/author/my-course/staff", data={"email": email})


def _actions(app) -> list[str]:
    with app.app_context():
        return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_an_existing_educator_becomes_a_coauthor_at_once_and_is_told(app, client, auth):
    auth.login("educator")
    _new_course(client)
    factories.create_user(app, email="colleague@example.org", roles=("educator",), full_name="Col")
    assert _invite(client, "Colleague@Example.org").status_code == 302
    assert _role(app, "colleague@example.org") == "coauthor"
    mail = [m for m in _outbox(app) if m.to == "colleague@example.org"]
    assert len(mail) == 1 and "co-author" in mail[0].subject
    assert "http://localhost/author/my-course" in mail[0].body
    assert "coauthor_add" in _actions(app)
    again = _invite(client, "colleague@example.org")
    assert again.status_code == 400 and b"already a co-author" in again.data
    mine = _invite(client, "educator@example.org")
    assert mine.status_code == 400 and b"already owns" in mine.data


def test_an_existing_learner_is_made_educator_and_coauthor(app, client, auth):
    auth.login("educator")
    _new_course(client)
    factories.create_user(app, email="learner2@example.org", full_name="Lea")
    assert _invite(client, "learner2@example.org").status_code == 302
    assert _role(app, "learner2@example.org") == "coauthor"
    assert "grant_role" in _actions(app)


def test_a_new_address_registers_and_becomes_coauthor_on_confirming(app, client, auth):
    auth.login("educator")
    _new_course(client)
    response = _invite(client, "nia@example.org")
    assert response.status_code == 302
    page = client.get("/author/my-course").get_data(as_text=True)
    assert "nia@example.org" in page and "Withdraw the invitation to nia@example.org" in page
    link = _link(app, "/author/invitations", "nia@example.org")
    with app.app_context():
        row = db.session.scalar(select(CoauthorInvitation))
        assert row.token_hash and link.rsplit("/", 1)[1] not in row.token_hash  # only the hash is stored
        assert row.expires_at - row.created_at == timedelta(days=invitations.INVITATION_DAYS)
    assert "coauthor_invite" in _actions(app)
    client.post("/logout")

    invited = client.get(link)
    assert invited.status_code == 200 and "Register with nia@example.org" in invited.get_data(as_text=True)
    assert client.post("/register", data={**REGISTRATION, "email": "nia@example.org"}).status_code == 200
    assert _role(app, "nia@example.org") is None  # not before the address is confirmed
    assert client.get(_link(app, "/confirm-email", "nia@example.org")).status_code == 302
    assert _role(app, "nia@example.org") == "coauthor"
    assert client.post("/login", data={"email": "nia@example.org", "password": PASSWORD}).status_code == 302
    assert client.get("/author/my-course").status_code == 200
    assert client.get(link).status_code == 404  # used up
    client.post("/logout")
    auth.login("educator")
    assert "No invitations waiting" in client.get("/author/my-course").get_data(as_text=True)


def test_following_the_link_signed_in_with_that_address_accepts(app, client, auth):
    auth.login("educator")
    _new_course(client)
    _invite(client, "later@example.org")
    link = _link(app, "/author/invitations", "later@example.org")
    factories.create_user(app, email="later@example.org", password=PASSWORD)  # e.g. made by an operator
    client.post("/logout")
    assert client.post("/login", data={"email": "later@example.org", "password": PASSWORD}).status_code == 302
    page = client.get(link)
    assert page.status_code == 200 and "Accept and open the course" in page.get_data(as_text=True)
    accepted = client.post(link)
    assert accepted.status_code == 302 and accepted.location.endswith("/author/my-course")
    assert _role(app, "later@example.org") == "coauthor"


def test_the_wrong_user_following_the_link_gets_nothing(app, client, auth):
    auth.login("educator")
    _new_course(client)
    _invite(client, "someone-else@example.org")
    link = _link(app, "/author/invitations", "someone-else@example.org")
    client.post("/logout")
    auth.login("learner")
    assert client.get(link).status_code == 404
    assert client.post(link).status_code == 404
    assert _role(app, "learner@example.org") is None
    with app.app_context():
        assert db.session.scalar(select(CoauthorInvitation)).accepted_at is None


def test_revoked_and_expired_invitations_give_nothing(app, client, auth):
    auth.login("educator")
    _new_course(client)
    _invite(client, "revoked@example.org")
    _invite(client, "expired@example.org")
    revoked_link = _link(app, "/author/invitations", "revoked@example.org")
    expired_link = _link(app, "/author/invitations", "expired@example.org")
    with app.app_context():
        rows = {r.email: r for r in db.session.scalars(select(CoauthorInvitation))}
        revoked_id = rows["revoked@example.org"].id
        rows["expired@example.org"].expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert client.post(f"/author/my-course/invitations/{revoked_id}/revoke").status_code == 302
    assert client.post(f"/author/my-course/invitations/{revoked_id}/revoke").status_code == 404
    assert "coauthor_invite_revoke" in _actions(app)
    page = client.get("/author/my-course").get_data(as_text=True)
    assert "revoked@example.org" not in page and "expired" in page

    client.post("/logout")
    for email, link in (("revoked@example.org", revoked_link), ("expired@example.org", expired_link)):
        assert client.get(link).status_code == 404
        factories.create_user(app, email=email, password=PASSWORD)
        assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
        assert client.get(link).status_code == 404 and client.post(link).status_code == 404
        assert _role(app, email) is None
        client.post("/logout")


def test_registration_after_expiry_gives_nothing(app, client, auth):
    auth.login("educator")
    _new_course(client)
    _invite(client, "slow@example.org")
    with app.app_context():
        row = db.session.scalar(select(CoauthorInvitation))
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    client.post("/logout")
    client.post("/register", data={**REGISTRATION, "email": "slow@example.org"})
    assert client.get(_link(app, "/confirm-email", "slow@example.org")).status_code == 302
    assert _role(app, "slow@example.org") is None


def test_only_owners_and_admins_revoke(app, client, auth):
    auth.login("educator")
    _new_course(client)
    _invite(client, "x@example.org")
    factories.create_user(app, email="co@example.org", roles=("educator",), password=PASSWORD)
    _invite(client, "co@example.org")
    with app.app_context():
        invitation_id = db.session.scalar(select(CoauthorInvitation.id))
    client.post("/logout")
    client.post("/login", data={"email": "co@example.org", "password": PASSWORD})
    assert client.post(f"/author/my-course/invitations/{invitation_id}/revoke").status_code == 403
    assert "Withdraw" not in client.get("/author/my-course").get_data(as_text=True)

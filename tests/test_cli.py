"""The ``flask users`` commands."""

from __future__ import annotations

from sqlalchemy import select

from lms.auth.models import User
from lms.extensions import db


def _users(app):
    with app.app_context():
        return {u.email: u for u in db.session.scalars(select(User))}


def test_create_with_password_stdin_and_roles(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Boss@Example.org",
            "--name",
            "Li Wei 李伟",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input="a secure passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created boss@example.org" in result.output
    user = _users(app)["boss@example.org"]
    assert user.full_name == "Li Wei 李伟"
    assert user.roles == {"learner", "admin"}
    client = app.test_client()
    assert (
        client.post(
            "/login", data={"email": "boss@example.org", "password": "a secure passphrase"}
        ).status_code
        == 302
    )


def test_create_rejects_duplicates_and_weak_passwords(app, runner):
    ok = runner.invoke(
        args=["users", "create", "a@example.org", "--name", "A", "--password-stdin"],
        input="long enough pass\n",
    )
    assert ok.exit_code == 0
    dup = runner.invoke(
        args=["users", "create", "A@example.org", "--name", "A", "--password-stdin"],
        input="long enough pass\n",
    )
    assert dup.exit_code == 1
    assert "already exists" in dup.output
    weak = runner.invoke(
        args=["users", "create", "b@example.org", "--name", "B", "--password-stdin"],
        input="short\n",
    )
    assert weak.exit_code == 1
    assert "at least 10" in weak.output
    assert "Traceback" not in weak.output


def test_grant_revoke_list(app, runner):
    runner.invoke(
        args=["users", "create", "a@example.org", "--name", "Ann", "--password-stdin"],
        input="long enough pass\n",
    )
    assert (
        "now has the educator role"
        in runner.invoke(args=["users", "grant", "a@example.org", "educator"]).output
    )
    assert _users(app)["a@example.org"].roles == {"learner", "educator"}
    listing = runner.invoke(args=["users", "list"]).output
    assert "a@example.org" in listing and "educator" in listing
    assert "no longer has" in runner.invoke(args=["users", "revoke", "a@example.org", "educator"]).output
    assert _users(app)["a@example.org"].roles == {"learner"}
    missing = runner.invoke(args=["users", "grant", "nobody@example.org", "admin"])
    assert missing.exit_code == 1
    assert "no account" in missing.output
    bad_role = runner.invoke(args=["users", "grant", "a@example.org", "superuser"])
    assert bad_role.exit_code == 2


def test_disable_and_enable(app, runner):
    runner.invoke(
        args=["users", "create", "a@example.org", "--name", "Ann", "--password-stdin"],
        input="long enough pass\n",
    )
    assert runner.invoke(args=["users", "disable", "a@example.org", "--reason", "left"]).exit_code == 0
    assert _users(app)["a@example.org"].disabled_at is not None
    assert runner.invoke(args=["users", "enable", "a@example.org"]).exit_code == 0
    assert _users(app)["a@example.org"].disabled_at is None


def test_demo_accounts_only_once(app, runner):
    first = runner.invoke(args=["users", "demo"])
    assert first.exit_code == 0
    assert first.output.count("@example.org") == 3
    users = _users(app)
    assert users["admin@example.org"].roles == {"learner", "admin"}
    assert users["educator@example.org"].roles == {"learner", "educator"}
    # The printed passwords work.
    line = next(ln for ln in first.output.splitlines() if "learner@example.org" in ln)
    password = line.split()[1]
    assert (
        app.test_client()
        .post("/login", data={"email": "learner@example.org", "password": password})
        .status_code
        == 302
    )
    second = runner.invoke(args=["users", "demo"])
    assert "already exist" in second.output
    assert len(_users(app)) == 3

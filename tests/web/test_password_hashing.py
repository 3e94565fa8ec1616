"""Password hashing: argon2id at OWASP's parameters in production, older hashes upgraded at login."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from lms.auth.models import User
from lms.config import Config, ProductionConfig, TestingConfig
from lms.extensions import db
from tests import factories

PASSWORD = "correct horse battery"


@pytest.fixture
def app_config():
    # The production method and parameters (tests elsewhere keep TestingConfig's fast hash).
    return {
        "PASSWORD_HASH_METHOD": Config.PASSWORD_HASH_METHOD,
        "PASSWORD_ARGON2_MEMORY_KIB": Config.PASSWORD_ARGON2_MEMORY_KIB,
        "PASSWORD_ARGON2_TIME_COST": Config.PASSWORD_ARGON2_TIME_COST,
        "PASSWORD_ARGON2_PARALLELISM": Config.PASSWORD_ARGON2_PARALLELISM,
    }


def _stored_hash(app, email: str) -> str:
    with app.app_context():
        return db.session.scalar(select(User.password_hash).where(User.email == email))


def test_production_uses_argon2id_at_owasp_parameters(app):
    assert ProductionConfig.PASSWORD_HASH_METHOD == "argon2id"
    assert TestingConfig.PASSWORD_HASH_METHOD != "argon2id"  # the suite keeps its fast hash
    from lms.auth.services import hash_password, verify_password

    with app.app_context():
        stored = hash_password(PASSWORD)
        assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert verify_password(stored, PASSWORD)
        assert not verify_password(stored, PASSWORD + "x")
        assert not verify_password("$argon2id$not-a-hash", PASSWORD)


def test_scrypt_hash_is_upgraded_at_the_next_login(app, client):
    info = factories.create_user(app, email="old@example.org", password=PASSWORD)
    with app.app_context():
        user = db.session.get(User, info.id)
        user.password_hash = generate_password_hash(PASSWORD, method="scrypt")  # as stored before argon2
        db.session.commit()
    assert _stored_hash(app, info.email).startswith("scrypt:")

    wrong = client.post("/login", data={"email": info.email, "password": "not the password"})
    assert wrong.status_code == 400
    assert _stored_hash(app, info.email).startswith("scrypt:")  # a failed login changes nothing

    assert client.post("/login", data={"email": info.email, "password": PASSWORD}).status_code == 302
    upgraded = _stored_hash(app, info.email)
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")

    client.post("/logout")
    assert client.post("/login", data={"email": info.email, "password": PASSWORD}).status_code == 302
    assert _stored_hash(app, info.email) == upgraded  # already current: not hashed again


def test_weaker_argon2_parameters_are_upgraded_too(app, client):
    from argon2 import PasswordHasher

    info = factories.create_user(app, email="weak@example.org", password=PASSWORD)
    with app.app_context():
        user = db.session.get(User, info.id)
        user.password_hash = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
        db.session.commit()
    assert client.post("/login", data={"email": info.email, "password": PASSWORD}).status_code == 302
    assert _stored_hash(app, info.email).startswith("$argon2id$v=19$m=19456,t=2,p=1$")

"""Test data builders. Each opens its own app context and commits, so web tests see real rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from lms.auth import services
from lms.extensions import db


@dataclass(frozen=True)
class UserInfo:
    id: int
    email: str
    full_name: str


def create_user(
    app: Flask,
    email: str = "someone@example.org",
    password: str = "correct horse battery",
    roles: tuple[str, ...] = (),
    full_name: str = "Someone Tester",
    profession: str = "physician",
) -> UserInfo:
    with app.app_context():
        user = services.create_user(email, full_name, password, roles, profession=profession)
        db.session.commit()
        return UserInfo(user.id, user.email, user.full_name)


def find_user(app: Flask, email: str) -> UserInfo | None:
    with app.app_context():
        user = services.get_user_by_email(email)
        return UserInfo(user.id, user.email, user.full_name) if user else None


def signing_key_file(folder: Path) -> Path:
    """An RSA signing key file (mode 0600), as an operator provides for production."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = Path(folder) / "signing-key.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    return path

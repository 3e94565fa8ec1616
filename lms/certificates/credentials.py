"""Open Badges 3.0 glue: a certificate's credential payload and its VC-JWT, from the stored snapshot.

The credential format and signing live in ``credential.py`` (pure) and the keys in ``lms.keys``; this module
only supplies what they need from configuration (base URL, issuer name, key store) and the database.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import current_app

from lms.auth.models import User
from lms.certificates.models import Certificate
from lms.extensions import db


def base_url() -> str:
    """Absolute URLs in credentials, QR codes and mail come from LMS_BASE_URL, never the Host header."""
    return (current_app.config.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/")


def key_store() -> Any:
    """The app's key store, built once by the factory (production checks its key file there)."""
    return current_app.extensions["lms_keystore"]


def _salt(cert: Certificate) -> str:
    """The salt stored at issue; certificates imported without one get a stable keyed derivation."""
    if cert.snapshot.get("subject_salt"):
        return str(cert.snapshot["subject_salt"])
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"credential-salt:{cert.serial}".encode(), hashlib.sha256).hexdigest()[:16]


def credential_payload(cert: Certificate) -> dict[str, Any]:
    from lms.certificates.credential import build_credential

    user = db.session.get(User, cert.user_id)
    assert user is not None
    return build_credential(
        cert.snapshot,
        base_url=base_url(),
        issuer_name=cert.snapshot["provider_name"],
        email=user.email,
        salt=_salt(cert),
        credential_id=cert.credential_id,
    )


def signed_token(cert: Certificate) -> tuple[str, str]:
    from lms.certificates.credential import sign_credential

    key = key_store().active_key("credential-signing")
    return key.kid, sign_credential(credential_payload(cert), key)

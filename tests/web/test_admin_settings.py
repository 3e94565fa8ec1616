"""Administrators' certificate settings: they override the configuration for new certificates only."""

from __future__ import annotations

import io
from datetime import datetime

from PIL import Image
from sqlalchemy import select

from lms.auth.models import AuditEvent
from lms.certificates.models import Certificate, CertificateClaim
from lms.extensions import db
from tests.certs import complete, sync_cert_course


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "navy").save(buffer, "PNG")
    return buffer.getvalue()


def test_settings_need_admin(client, auth):
    assert client.get("/admin/settings").status_code == 302
    auth.login("educator")
    assert client.get("/admin/settings").status_code == 403


def test_settings_apply_to_new_certificates_only_and_are_audited(app, client, auth, tmp_path):
    sync_cert_course(app, tmp_path)
    info = auth.login("admin")
    complete(app, info.id, "certified", datetime(2026, 11, 20, 9, 0))
    client.post("/courses/certified/certificate", data={"hours": "1", "attest": "y"})
    with app.app_context():
        claim_id = db.session.scalar(select(CertificateClaim.id))
    client.post(f"/admin/certificates/claims/{claim_id}/issue")
    data = {
        "provider_name": "St Elsewhere CME Office",
        "signatory_name": "Dr Grace Hopper",
        "signatory_title": "CME Director",
        "paper": "Letter",
        "signature_image": (io.BytesIO(_png()), "sig.png"),
    }
    response = client.post("/admin/settings", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        first = db.session.scalar(select(Certificate))
        assert first.snapshot["signatory_name"] != "Dr Grace Hopper"  # issued before: unchanged
        detail = db.session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "settings.change"))
        assert "signatory_name" in detail and "signature_image" in detail
        from lms.certificates.routes import issuer_settings

        with app.test_request_context():
            settings = issuer_settings()
        assert settings.provider_name == "St Elsewhere CME Office" and settings.paper == "Letter"
        assert settings.signature_image  # stored re-encoded, base64
    # A reissue now prints the new signatory, on Letter paper.
    serial = first.snapshot["serial"]
    client.post(f"/admin/certificates/{serial}/reissue", data={"reissue-reason": "new signatory"})
    with app.app_context():
        latest = db.session.scalar(select(Certificate).order_by(Certificate.id.desc()))
        assert latest.snapshot["signatory_name"] == "Dr Grace Hopper" and latest.snapshot["paper"] == "Letter"


def test_bad_image_is_a_field_error(client, auth):
    auth.login("admin")
    data = {
        "provider_name": "P",
        "signatory_name": "S",
        "signatory_title": "",
        "paper": "A4",
        "logo_image": (io.BytesIO(b"<svg onload=alert(1)>"), "logo.svg"),
    }
    response = client.post("/admin/settings", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "PNG or JPEG" in response.get_data(as_text=True)

"""Background jobs of the certificates area (run after commit; each is idempotent)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from lms.auth.models import User
from lms.certificates.models import Certificate, SignedCredential
from lms.extensions import db
from lms.jobs import job
from lms.mail import send_mail
from lms.timeutil import utcnow


@job
def mail_learner(user_id: int, subject: str, body: str) -> None:
    user = db.session.get(User, user_id)
    if user is not None:
        send_mail(user.email, subject, body)


@job
def sign_certificate(certificate_id: int) -> None:
    """Sign the Open Badges credential once (a second run finds it signed and does nothing)."""
    from lms.certificates.credentials import signed_token

    if db.session.scalar(
        select(SignedCredential.id).where(SignedCredential.certificate_id == certificate_id)
    ):
        return
    cert = db.session.get(Certificate, certificate_id)
    if cert is None:
        return
    kid, token = signed_token(cert)
    db.session.add(SignedCredential(certificate_id=cert.id, kid=kid, token=token, signed_at=utcnow()))


def export_dir() -> Path:
    folder = Path(current_app.config.get("EXPORTS_DIR") or Path(current_app.instance_path) / "exports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def zip_name(slug: str, token: str) -> str:
    return f"certificates-{slug}-{token}.zip"


@job
def zip_course_certificates(course_id: int, slug: str, token: str) -> None:
    """All certificates of a course as one zip of PDFs, written to instance/exports (deterministic bytes)."""
    from lms.certificates.pdf import render_certificate_pdf
    from lms.certificates.services import certificate_views

    certs = list(
        db.session.scalars(
            select(Certificate).where(Certificate.course_id == course_id).order_by(Certificate.id)
        )
    )
    views = certificate_views(certs, utcnow().date())
    target = export_dir() / zip_name(slug, token)
    partial = target.with_suffix(".part")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for view in views:
            snapshot = dict(view.certificate.snapshot, status=view.state)
            info = zipfile.ZipInfo(
                f"{view.certificate.snapshot['serial']}.pdf", date_time=(2000, 1, 1, 0, 0, 0)
            )
            info.external_attr = 0o644 << 16
            archive.writestr(info, render_certificate_pdf(snapshot), zipfile.ZIP_DEFLATED)
    partial.replace(target)

"""Completions, claims and certificates: append-only records a credentialing office can trust.

Nothing here is ever updated or deleted by the application (mapper events below refuse it): a state change
is a new row. A claim is *pending* until a certificate or a decline row names it; a certificate is *valid*
until a revocation row names it or a newer certificate supersedes it. At most one certificate per learner and
course version is an original (a partial unique index); every reissue supersedes exactly one earlier
certificate (a unique ``supersedes_id``), so each chain has one tip and at most one valid certificate.
User foreign keys never cascade: history outlives accounts.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db
from lms.timeutil import utcnow


class CourseCompletion(db.Model):
    """A learner completed one course version: recorded once, its date frozen forever."""

    __tablename__ = "course_completion"
    #: the edition is part of the key so historical (imported) editions with no stored version (number 0)
    #: can sit side by side; for stored versions the number decides the edition anyway
    __table_args__ = (UniqueConstraint("user_id", "course_id", "version_no", "edition"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    version_no: Mapped[int]
    edition: Mapped[str] = mapped_column(String(50))
    completed_at: Mapped[datetime]
    #: the final assessment's grade on this edition, as a fraction (None without a final)
    final_score: Mapped[float | None]
    #: recorded activity: the sum of gaps between the learner's actions, each capped (see rules.time_spent)
    minutes_spent: Mapped[int] = mapped_column(default=0)
    imported: Mapped[bool] = mapped_column(Boolean, default=False)


class CertificateClaim(db.Model):
    """The learner attests participation and claims hours for a completion."""

    __tablename__ = "certificate_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    completion_id: Mapped[int] = mapped_column(ForeignKey("course_completion.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    version_no: Mapped[int]
    hours: Mapped[float]
    #: the claim exceeds the recorded activity: shown to administrators, never refused
    over_time: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the name as the learner asked it to be printed (when the registered one cannot be printed)
    printed_name: Mapped[str] = mapped_column(String(200), default="")
    attested_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    imported: Mapped[bool] = mapped_column(Boolean, default=False)


class ClaimDecline(db.Model):
    __tablename__ = "claim_decline"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("certificate_claim.id"), unique=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class Certificate(db.Model):
    """An issued certificate. ``snapshot`` holds every printed value, copied at issue."""

    __tablename__ = "certificate"
    __table_args__ = (
        # One original certificate per learner and course version; reissues chain from it. Imported
        # historical certificates (version 0 when the edition was never stored here) are outside it.
        Index(
            "uq_certificate_original",
            "user_id",
            "course_id",
            "version_no",
            unique=True,
            sqlite_where=text("supersedes_id IS NULL AND NOT imported"),
            postgresql_where=text("supersedes_id IS NULL AND NOT imported"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(16), unique=True)  # canonical, without hyphens
    claim_id: Mapped[int] = mapped_column(ForeignKey("certificate_claim.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    version_no: Mapped[int]
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"), unique=True)
    credential_id: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime]
    completed_on: Mapped[date]
    expires_on: Mapped[date | None]
    hours: Mapped[float]
    credit_type: Mapped[str] = mapped_column(String(120), default="")
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    imported: Mapped[bool] = mapped_column(Boolean, default=False)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)


class CertificateRevocation(db.Model):
    __tablename__ = "certificate_revocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), unique=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class SignedCredential(db.Model):
    """The Open Badges 3.0 VC-JWT for a certificate, signed once by a background job."""

    __tablename__ = "signed_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), unique=True)
    kid: Mapped[str] = mapped_column(String(100))
    token: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime]


class ReissueRequest(db.Model):
    """A learner asks for a corrected name; an administrator reissues (or not)."""

    __tablename__ = "reissue_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    requested_name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]


class ExpiryReminder(db.Model):
    """One row per certificate and threshold (60, 14 days): a reminder is mailed once."""

    __tablename__ = "expiry_reminder"
    __table_args__ = (UniqueConstraint("certificate_id", "days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    days: Mapped[int]
    sent_on: Mapped[date]


class CourseCertificateSetting(db.Model):
    """Administrators' per-course settings (auto-issue); deliberately not a manifest field."""

    __tablename__ = "course_certificate_setting"

    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), primary_key=True)
    auto_issue: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


#: Records that are never changed once written (the audit log is guarded the same way in init_app).
APPEND_ONLY = (
    CourseCompletion,
    CertificateClaim,
    ClaimDecline,
    Certificate,
    CertificateRevocation,
    SignedCredential,
    ReissueRequest,
    ExpiryReminder,
)


class AppendOnlyViolation(RuntimeError):
    """Something tried to update or delete a record that is append-only."""


def _refuse(mapper: Any, connection: Any, target: Any) -> None:
    raise AppendOnlyViolation(f"{type(target).__name__} rows are append-only: write a new row instead")


def guard_append_only(*models: type) -> None:
    for model in models:
        if not event.contains(model, "before_update", _refuse):
            event.listen(model, "before_update", _refuse)
            event.listen(model, "before_delete", _refuse)

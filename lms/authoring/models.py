"""A course's draft and its publications.

The draft *is* a course package: a mapping of package paths to file contents. Publishing reads those
files with the same loader and validator as bundled folders and zips (``lms.coursepacks``), so an
authored course can never hold anything a package could not, and export is the files themselves.
"""

from __future__ import annotations

import base64
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from lms.certificates.models import guard_append_only
from lms.extensions import db
from lms.timeutil import utcnow


def encode_files(files: dict[str, bytes]) -> dict[str, str]:
    """Files as JSON-safe text (base64), sorted by path so equal drafts store equal JSON."""
    return {path: base64.b64encode(files[path]).decode("ascii") for path in sorted(files)}


def decode_files(stored: dict[str, str] | None) -> dict[str, bytes]:
    return {path: base64.b64decode(data) for path, data in (stored or {}).items()}


class CourseDraft(db.Model):
    """One editable draft per course. ``revision`` goes up on every save (optimistic concurrency)."""

    __tablename__ = "course_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), unique=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    #: the published version the draft started from (0 for a course never published)
    base_version_no: Mapped[int] = mapped_column(Integer, default=0)
    files_json: Mapped[dict[str, str]] = deferred(mapped_column(JSON, nullable=False))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    @property
    def files(self) -> dict[str, bytes]:
        return decode_files(self.files_json)


class CoursePublication(db.Model):
    """Who published which version from a draft, when and why; keeps the published files for export."""

    __tablename__ = "course_publication"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    version_no: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    files_json: Mapped[dict[str, str]] = deferred(mapped_column(JSON, nullable=False))

    @property
    def files(self) -> dict[str, bytes]:
        return decode_files(self.files_json)


class RegradeFlag(db.Model):
    """A quiz outcome, completion or certificate a regrade put in doubt, for an administrator to review.

    Append-only like the records it points at: resolving a flag writes a ``RegradeFlagResolution`` row, so
    what the regrade found and what an administrator decided stay side by side.
    """

    __tablename__ = "regrade_flag"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    quiz_key: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))  # completion | certificate | pass
    completion_id: Mapped[int | None] = mapped_column(ForeignKey("course_completion.id", ondelete="CASCADE"))
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id", ondelete="CASCADE"))
    detail: Mapped[str] = mapped_column(Text, default="")
    #: the learner's final quiz grade (by the quiz's grading method) before and after the regrade
    old_score: Mapped[float | None]
    new_score: Mapped[float | None]
    old_passed: Mapped[bool | None]
    new_passed: Mapped[bool | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))


class CoauthorInvitation(db.Model):
    """An owner's invitation to co-author a course, sent to an email that has no account yet.

    Only the SHA-256 of the mailed token is stored. The invitation is accepted when an account with that
    email confirms its address (registration) or follows the link signed in; it is then marked accepted,
    never deleted, so the staff history stays readable. Revoked or expired invitations give nothing.
    """

    __tablename__ = "coauthor_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    #: SHA-256 of the token in the mailed link (null until the mail job issues it)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]

    def pending(self, now: datetime) -> bool:
        return self.accepted_at is None and self.revoked_at is None and now < self.expires_at


class RegradeFlagResolution(db.Model):
    """An administrator's decision on one flag: the outcome, a required note, who and when (also audited)."""

    __tablename__ = "regrade_flag_resolution"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: one resolution per flag: a second administrator resolving the same flag is refused, not overwritten
    flag_id: Mapped[int] = mapped_column(ForeignKey("regrade_flag.id", ondelete="CASCADE"), unique=True)
    outcome: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime]


guard_append_only(RegradeFlag, RegradeFlagResolution)

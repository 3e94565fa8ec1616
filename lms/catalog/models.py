"""Courses and their immutable versions: modules, items (lessons and quizzes), media, enrolments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from lms.extensions import db
from lms.timeutil import utcnow


class Course(db.Model):
    """A course slug and its source. Content lives in versions; the catalog shows the current one."""

    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    source: Mapped[str] = mapped_column(String(200))  # bundled | entry-point:<dist> | upload
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    current_version_no: Mapped[int] = mapped_column(Integer, default=0)
    # Denormalised from the current version so the catalog is one query.
    title: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="published")
    credit_hours: Mapped[float] = mapped_column(default=0.0)
    estimated_minutes: Mapped[int] = mapped_column(default=0)
    #: "|Haematology|Oncology|": filterable with LIKE on every database
    specialties: Mapped[str] = mapped_column(Text, default="")
    #: the current version's credit window (release and termination dates), for "closed for credit"
    release_on: Mapped[date | None]
    terminates_on: Mapped[date | None]
    #: the current version's title, summary, specialties and objectives, normalised by lms.textsearch
    search_text: Mapped[str] = deferred(mapped_column(Text, default="", nullable=False))

    versions: Mapped[list[CourseVersion]] = relationship(
        back_populates="course", order_by="CourseVersion.number", lazy="raise"
    )

    @property
    def specialty_list(self) -> list[str]:
        return [s for s in self.specialties.split("|") if s]


class CourseVersion(db.Model):
    """One stored edition of a package. Never changed after it is written; learners' history points at it."""

    __tablename__ = "course_version"
    __table_args__ = (UniqueConstraint("course_id", "number"), UniqueConstraint("course_id", "checksum"))

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    edition: Mapped[str] = mapped_column(String(50))
    checksum: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    estimated_minutes: Mapped[int]
    credit_hours: Mapped[float]
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship(back_populates="versions", lazy="raise")
    modules: Mapped[list[Module]] = relationship(order_by="Module.position", lazy="raise")


class Module(db.Model):
    __tablename__ = "course_module"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("course_version.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")


class Item(db.Model):
    """A lesson or a quiz in a version's syllabus. ``key`` is stable across versions (progress follows it)."""

    __tablename__ = "course_item"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("course_version.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("course_module.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))  # lesson | quiz | final | survey
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    minutes: Mapped[int] = mapped_column(default=0)
    #: sha256 of what the learner reads or answers: an unchanged item carries progress over to a new edition
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    #: lesson body, rendered and sanitised at sync time; deferred so syllabus queries stay light
    html: Mapped[str] = deferred(mapped_column(Text, default="", nullable=False))
    citations: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: the lesson's title and text, normalised by lms.textsearch, for catalog search (deferred like html)
    search_text: Mapped[str] = deferred(mapped_column(Text, default="", nullable=False))


class MediaAsset(db.Model):
    __tablename__ = "media_asset"
    __table_args__ = (UniqueConstraint("version_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("course_version.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(300))
    mime: Mapped[str] = mapped_column(String(50))
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))


class Enrolment(db.Model):
    """A learner's enrolment. Leaving keeps the row (and all progress); enrolling again reopens it."""

    __tablename__ = "enrolment"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    left_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def active(self) -> bool:
        return self.left_at is None


#: What a staff row lets a person do on one course: owners manage it, co-authors help write it.
STAFF_ROLES = ("owner", "coauthor")


class CourseStaff(db.Model):
    """Who teaches a course: its owner(s) and co-authors. Admins need no row; learners never get one.

    Authoring and reports pages of a course answer 404 to anyone who is neither on this list nor an admin.
    """

    __tablename__ = "course_staff"
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # owner | coauthor
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

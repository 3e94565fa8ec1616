"""Drafts, publishing, history, import and export of courses. Services flush only; routes and the CLI commit.

A draft is the course package as files (path → bytes). Every way a draft changes (a saved file, an uploaded
image, an imported zip) goes through the same few functions here, and publishing hands the files to the same
loader and validator that bundled folders and uploaded zips go through (``load_package``), then stores an
immutable version with ``store_package``. Nothing here knows about HTTP.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from lms.auth.models import User
from lms.authoring.models import CourseDraft, CoursePublication, encode_files
from lms.catalog.models import Course, CourseStaff, CourseVersion, Item
from lms.catalog.services import add_staff, staff_role
from lms.catalog.sync import SyncError, store_package
from lms.coursepacks.currency import review_overdue
from lms.coursepacks.loader import SLUG, LoadResult, load_package, package_checksum
from lms.coursepacks.manifest import Problem
from lms.coursepacks.reader import MAX_FILE_BYTES, MEDIA_SUFFIXES, PackageFiles, read_zip, unsafe_path_reason
from lms.coursepacks.sources import FoundPackage
from lms.coursepacks.svg import svg_problems
from lms.coursepacks.timing import plain_text
from lms.extensions import db
from lms.plugins import QuestionTypeRegistry

AUTHORED = "authored"
#: Fixed timestamp and mode of every archive entry, so the same files always give the same zip bytes.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
ZIP_MODE = 0o100644
IMAGE_LIMIT = 1024 * 1024


class AuthoringError(Exception):
    """A change is refused; ``problems`` name the file and field (shown next to the field or as a list)."""

    def __init__(self, message: str, problems: Iterable[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class EditConflict(Exception):
    """Someone saved the same file since this editor loaded it: the caller shows both versions."""

    def __init__(self, theirs: bytes | None, revision: int) -> None:
        super().__init__("this file was changed by someone else since you opened it")
        self.theirs = theirs
        self.revision = revision


# -- who may do what ------------------------------------------------------------------------------------


def is_admin(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.is_active and user.has_role("admin")


def role_on(user: Any, course: Course) -> str | None:
    """ "admin", "owner", "coauthor" or None: who the user is for this course's authoring pages."""
    if is_admin(user):
        return "admin"
    return staff_role(user, course)


def can_manage_staff(user: Any, course: Course) -> bool:
    """Owners and admins invite co-authors; co-authors write but do not hand out access."""
    return role_on(user, course) in ("admin", "owner")


def get_course(slug: str) -> Course | None:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def editable_courses(user: Any) -> list[tuple[Course, str]]:
    """Courses the user may author with their role on each (admins: every course)."""
    if is_admin(user):
        return [(c, "admin") for c in db.session.scalars(select(Course).order_by(Course.title, Course.slug))]
    rows = db.session.execute(
        select(Course, CourseStaff.role)
        .join(CourseStaff, CourseStaff.course_id == Course.id)
        .where(CourseStaff.user_id == user.id)
        .order_by(Course.title, Course.slug)
    )
    return [(c, r) for c, r in rows]


# -- state ----------------------------------------------------------------------------------------------


def get_draft(course: Course) -> CourseDraft | None:
    return db.session.scalar(
        select(CourseDraft)
        .where(CourseDraft.course_id == course.id)
        .options(db.undefer(CourseDraft.files_json))
    )


def latest_version(course: Course) -> CourseVersion | None:
    if not course.current_version_no:
        return None
    return db.session.scalar(
        select(CourseVersion).where(
            CourseVersion.course_id == course.id, CourseVersion.number == course.current_version_no
        )
    )


def course_states(
    course: Course, draft: CourseDraft | None, version: CourseVersion | None, today: date
) -> list[str]:
    """At a glance: draft only, published, unpublished changes, review overdue."""
    states = []
    if version is None:
        states.append("draft")
    else:
        states.append("published")
        if draft is not None and package_checksum(draft.files) != version.checksum:
            states.append("unpublished changes")
        last_review = (version.details or {}).get("dates", {}).get("last_review")
        if last_review and review_overdue(date.fromisoformat(str(last_review)), today, status=version.status):
            states.append("review overdue")
    return states


# -- files of a course ----------------------------------------------------------------------------------


def _slug_of(files: dict[str, bytes]) -> str | None:
    try:
        return str(tomllib.loads(files.get("course.toml", b"").decode("utf-8")).get("slug") or "") or None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


def published_files(course: Course, sources: Iterable[FoundPackage]) -> dict[str, bytes] | None:
    """The package files of the course's published content: the last publication from a draft, or the
    bundled/installed package it was synced from. None if neither is at hand."""
    publication = db.session.scalar(
        select(CoursePublication)
        .where(CoursePublication.course_id == course.id)
        .order_by(CoursePublication.version_no.desc(), CoursePublication.id.desc())
        .options(db.undefer(CoursePublication.files_json))
        .limit(1)
    )
    if publication is not None and course.source == AUTHORED:
        return publication.files
    for found in sources:
        if (
            found.source == course.source
            and not found.files.problems
            and _slug_of(found.files.files) == course.slug
        ):
            return dict(found.files.files)
    return None


def course_files(course: Course, sources: Iterable[FoundPackage]) -> dict[str, bytes] | None:
    """What "the course" is for export: its draft if it has one, else its published package."""
    draft = get_draft(course)
    return draft.files if draft is not None else published_files(course, sources)


def export_zip(files: dict[str, bytes], slug: str) -> bytes:
    """The package as a zip with deterministic bytes: sorted entries, fixed timestamps and modes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(f"{slug}/{path}", date_time=ZIP_EPOCH)
            info.external_attr = ZIP_MODE << 16
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[path], compresslevel=9)
    return buffer.getvalue()


# -- drafts ---------------------------------------------------------------------------------------------


def skeleton(slug: str, title: str, today: date) -> dict[str, bytes]:
    """A minimal valid package for a brand-new course: one module with one lesson, no credit yet."""
    expiry = date(today.year + 2, today.month, min(today.day, 28))
    manifest = f'''slug = "{slug}"
title = {_toml_str(title)}
edition = "{today.year}.1"
summary = "Describe what the learner will be able to do."
audience = ["physician"]
specialties = ["Haematology"]
objectives = ["Describe one thing the learner will be able to do"]
estimated_minutes = 1
status = "published"

[credit]
hours = 0
accredited = false

[dates]
release = {today.isoformat()}
last_review = {today.isoformat()}
expiry = {expiry.isoformat()}

[[faculty]]
name = "Course author"
role = "Author"
disclosure = "Nothing to disclose."

[completion]
require_all_lessons = true
require_quizzes = "all"

[[modules]]
id = "m1"
title = "Module 1"
items = ["lessons/introduction.md"]
'''
    lesson = (
        """+++
id = "introduction"
title = "Introduction"
+++
Write the lesson here in **Markdown**.

"""
        + ("Lorem ipsum dolor sit amet. " * 60).strip()
        + "\n"
    )
    return {"course.toml": manifest.encode(), "lessons/introduction.md": lesson.encode()}


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def create_course(slug: str, title: str, user: User, now: datetime) -> Course:
    """A new authored course with a skeleton draft, the creator as its owner. Not in the catalog until
    published (``current_version_no`` stays 0)."""
    slug = slug.strip()
    if not SLUG.match(slug):
        raise AuthoringError(
            "use lower-case letters, digits and single hyphens", [Problem("slug", "invalid")]
        )
    if get_course(slug) is not None:
        raise AuthoringError(f'the slug "{slug}" is already taken', [Problem("slug", "taken")])
    if not title.strip():
        raise AuthoringError("a title is required", [Problem("title", "required")])
    course = Course(slug=slug, source=AUTHORED, title=title.strip(), status="draft", current_version_no=0)
    db.session.add(course)
    db.session.flush()
    if user.has_role("educator"):  # an admin creating a course edits it as admin, no staff row needed
        add_staff(course, user, "owner", now)
    _new_draft(course, skeleton(slug, title.strip(), now.date()), user, now)
    return course


def _new_draft(course: Course, files: dict[str, bytes], user: User | None, now: datetime) -> CourseDraft:
    draft = CourseDraft(
        course_id=course.id,
        revision=1,
        base_version_no=course.current_version_no,
        files_json=encode_files(files),
        created_at=now,
        updated_at=now,
        updated_by_id=user.id if user else None,
    )
    db.session.add(draft)
    db.session.flush()
    return draft


def start_draft(
    course: Course, sources: Iterable[FoundPackage], user: User | None, now: datetime
) -> CourseDraft:
    """Copy the published course (authored, bundled or installed) into an editable draft."""
    existing = get_draft(course)
    if existing is not None:
        return existing
    files = published_files(course, sources)
    if files is None:
        raise AuthoringError(
            f"the package files of {course.slug} are not available (source {course.source}); "
            "import a package zip instead"
        )
    return _new_draft(course, files, user, now)


def file_hash(data: bytes | None) -> str:
    return hashlib.sha256(data).hexdigest() if data is not None else ""


def _write(draft: CourseDraft, files: dict[str, bytes], user: User | None, now: datetime) -> None:
    draft.files_json = encode_files(files)
    draft.revision += 1
    draft.updated_at = now
    draft.updated_by_id = user.id if user else None
    db.session.flush()


def _lock(draft: CourseDraft) -> CourseDraft:
    """Re-read the draft under a row lock so two saves are serialised (PostgreSQL; SQLite locks the file)."""
    db.session.refresh(draft, with_for_update=True)
    return draft


def save_file(
    draft: CourseDraft, path: str, data: bytes, base_hash: str, user: User | None, now: datetime
) -> None:
    """Save one text file of the draft. ``base_hash`` is the hash of the file the editor started from: if the
    stored file differs, someone else saved it meanwhile and ``EditConflict`` carries their version."""
    path = path.strip()
    problem = _path_problem(path)
    if problem:
        raise AuthoringError(problem, [Problem(path or "path", problem)])
    if len(data) > MAX_FILE_BYTES:
        raise AuthoringError("the file is larger than 2 MiB", [Problem(path, "too large")])
    _lock(draft)
    files = draft.files
    current = files.get(path)
    if file_hash(current) != base_hash:
        raise EditConflict(current, draft.revision)
    files[path] = data
    _write(draft, files, user, now)


def delete_file(draft: CourseDraft, path: str, user: User | None, now: datetime) -> None:
    _lock(draft)
    files = draft.files
    if path == "course.toml":
        raise AuthoringError("course.toml cannot be deleted", [Problem(path, "required")])
    if files.pop(path, None) is None:
        raise AuthoringError(f"{path} is not in the draft")
    _write(draft, files, user, now)


def _path_problem(path: str) -> str | None:
    if not path:
        return "a file name is required"
    reason = unsafe_path_reason(path)
    if reason:
        return reason
    if path == "course.toml":
        return None
    top, _, rest = path.partition("/")
    if top not in ("lessons", "quizzes", "media") or not rest:
        return "files go in lessons/ (.md), quizzes/ (.toml) or media/ (images)"
    if top == "lessons" and not path.endswith(".md"):
        return "lesson files end in .md"
    if top == "quizzes" and not path.endswith(".toml"):
        return "quiz files end in .toml"
    return None


def upload_image(draft: CourseDraft, filename: str, data: bytes, user: User | None, now: datetime) -> str:
    """Add an image to media/ (type and size limits; SVG through the package sanitiser). Returns its path."""
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].strip().replace(" ", "-")
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in MEDIA_SUFFIXES:
        raise AuthoringError(
            f"images must be one of {', '.join(sorted(MEDIA_SUFFIXES))}",
            [Problem("image", "type not allowed")],
        )
    if len(data) > IMAGE_LIMIT:
        raise AuthoringError("images must be at most 1 MiB", [Problem("image", "too large")])
    if suffix == ".svg" and (issues := svg_problems(data)):
        raise AuthoringError("; ".join(issues), [Problem("image", i) for i in issues])
    path = f"media/{name}"
    if unsafe_path_reason(path):
        raise AuthoringError("invalid file name", [Problem("image", "invalid name")])
    _lock(draft)
    files = draft.files
    files[path] = data
    _write(draft, files, user, now)
    return path


def validate_draft(course: Course, files: dict[str, bytes], registry: QuestionTypeRegistry) -> LoadResult:
    """The draft through the package loader and validator, plus the one authoring rule: the slug stays."""
    result = load_package(PackageFiles(label=course.slug, files=dict(files)), registry)
    if result.package is not None and result.package.slug != course.slug:
        return LoadResult(
            None, [Problem("course.toml", f'"slug" must stay "{course.slug}" (it is the course\'s address)')]
        )
    return result


@dataclass(frozen=True)
class Published:
    version: int
    status: str


def publish(
    course: Course,
    draft: CourseDraft,
    registry: QuestionTypeRegistry,
    user: User | None,
    note: str,
    now: datetime,
) -> Published:
    """Validate the whole draft and store it as an immutable version with a change note and its publisher.

    The course becomes ``source = "authored"``: from then on ``courses sync`` leaves it alone.
    """
    if not note.strip():
        raise AuthoringError("say what changed", [Problem("note", "a change note is required")])
    files = draft.files
    result = validate_draft(course, files, registry)
    if not result.ok:
        raise AuthoringError("the draft has problems; nothing was published", result.problems)
    assert result.package is not None
    latest = latest_version(course)
    if latest is not None and latest.checksum == result.package.checksum:
        raise AuthoringError(
            f"nothing changed since version {latest.number}", [Problem("note", "no changes")]
        )
    course.source = AUTHORED
    db.session.flush()
    try:
        outcome = store_package(result.package, AUTHORED)
    except SyncError as exc:  # pragma: no cover - source was set just above
        raise AuthoringError(str(exc)) from exc
    db.session.add(
        CoursePublication(
            course_id=course.id,
            version_no=outcome.version,
            note=note.strip(),
            published_by_id=user.id if user else None,
            published_at=now,
            files_json=encode_files(files),
        )
    )
    draft.base_version_no = outcome.version
    db.session.flush()
    return Published(outcome.version, outcome.status)


def import_package(
    course: Course | None,
    data: bytes,
    filename: str,
    registry: QuestionTypeRegistry,
    user: User | None,
    now: datetime,
) -> tuple[Course, CourseDraft]:
    """Replace a course's draft with an uploaded package zip, validated whole first: every problem is
    reported and nothing is half-imported. With ``course`` None the zip's slug picks (or creates) the
    course."""
    files = read_zip(data, filename)
    result = load_package(files, registry)
    if not result.ok:
        raise AuthoringError(f"{filename} was not imported", result.problems)
    assert result.package is not None
    slug = result.package.slug
    if course is not None and slug != course.slug:
        raise AuthoringError(
            f"{filename} was not imported",
            [Problem("course.toml", f'"slug" is "{slug}" but this course is "{course.slug}"')],
        )
    if course is None:
        course = get_course(slug)
        if course is None:
            course = Course(slug=slug, source=AUTHORED, title=result.package.title, status="draft")
            db.session.add(course)
            db.session.flush()
            if user is not None and user.has_role("educator"):
                add_staff(course, user, "owner", now)
    draft = get_draft(course)
    if draft is None:
        draft = _new_draft(course, files.files, user, now)
    else:
        _lock(draft)
        _write(draft, dict(files.files), user, now)
    return course, draft


# -- history --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    number: int
    edition: str
    title: str
    created_at: datetime
    note: str
    published_by: str


def history(course: Course) -> list[HistoryRow]:
    """Every stored version, newest first, with who published it and why (synced versions: the source)."""
    versions = db.session.scalars(
        select(CourseVersion)
        .where(CourseVersion.course_id == course.id)
        .order_by(CourseVersion.number.desc())
    ).all()
    notes = {
        p.version_no: (p, name)
        for p, name in db.session.execute(
            select(CoursePublication, User.full_name)
            .outerjoin(User, User.id == CoursePublication.published_by_id)
            .where(CoursePublication.course_id == course.id)
            .order_by(CoursePublication.id)
        )
    }
    rows = []
    for v in versions:
        pub, name = notes.get(v.number, (None, None))
        rows.append(
            HistoryRow(
                number=v.number,
                edition=v.edition,
                title=v.title,
                created_at=pub.published_at if pub else v.created_at,
                note=pub.note if pub else f"synced from {course.source}",
                published_by=(name or "(deleted account)") if pub else "courses sync",
            )
        )
    return rows


@dataclass
class LessonDiff:
    key: str
    title: str
    change: str  # added | removed | changed
    lines: list[tuple[str, str]] = field(default_factory=list)  # (kind: add|del|ctx|hunk, text)


def _lesson_texts(course: Course, number: int) -> dict[str, tuple[str, str]]:
    rows = db.session.execute(
        select(Item.key, Item.title, Item.html)
        .join(CourseVersion, CourseVersion.id == Item.version_id)
        .where(CourseVersion.course_id == course.id, CourseVersion.number == number, Item.kind == "lesson")
        .order_by(Item.position)
    )
    return {key: (title, plain_text(html)) for key, title, html in rows}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def lesson_diff(course: Course, old: int, new: int) -> list[LessonDiff]:
    """Lesson text (as learners read it) changed between two versions: a unified diff per lesson.

    The result is plain text in (kind, line) pairs; templates escape it, so authored text cannot inject
    markup.
    """
    before, after = _lesson_texts(course, old), _lesson_texts(course, new)
    out = []
    for key in list(after) + [k for k in before if k not in after]:
        if key not in before:
            out.append(LessonDiff(key, after[key][0], "added", [("add", t) for t in _lines(after[key][1])]))
        elif key not in after:
            out.append(
                LessonDiff(key, before[key][0], "removed", [("del", t) for t in _lines(before[key][1])])
            )
        elif before[key] != after[key]:
            diff = LessonDiff(key, after[key][0], "changed")
            if before[key][0] != after[key][0]:
                diff.lines.append(("hunk", f"title: {before[key][0]} → {after[key][0]}"))
            for line in difflib.unified_diff(_lines(before[key][1]), _lines(after[key][1]), lineterm="", n=1):
                if line.startswith(("---", "+++")):
                    continue
                kind = {"@": "hunk", "+": "add", "-": "del"}.get(line[:1], "ctx")
                diff.lines.append((kind, line[1:] if kind != "hunk" else "…"))
            out.append(diff)
    return out

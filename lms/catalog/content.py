"""A cache of published course content: a version's syllabus, modules and lesson bodies.

A course version is immutable once synced (a changed package becomes a new version), so what it holds can
be kept for the life of the process without ever going stale: only the course row, which says which version
is current, is read on each request. Lesson bodies, the heaviest part, are also kept in Redis when
``REDIS_URL`` is configured, so a new or restarted worker does not read them from the database again.

Cached objects are detached from any session and read-only: never change them, never add them to a session.
Learner data (enrolments, progress, attempts, sessions) is never cached here.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from markupsafe import Markup
from sqlalchemy import select, tuple_

from lms.catalog.models import Course, CourseVersion, Item, Module
from lms.extensions import db
from lms.learning.progress import Policy, SyllabusItem

log = logging.getLogger(__name__)

#: versions kept per process (a few courses with a few editions each; the oldest is dropped first)
MAX_VERSIONS = 256


@dataclass
class VersionContent:
    """Everything immutable the learner pages need from one course version (detached ORM rows)."""

    version: CourseVersion
    modules: list[Module]
    items: list[Item]
    syllabus: list[SyllabusItem]
    policy: Policy
    lesson_html: dict[str, str] = field(default_factory=dict)

    def item(self, key: str, kind: str | None = None) -> Item | None:
        return next((i for i in self.items if i.key == key and (kind is None or i.kind == kind)), None)

    def module(self, module_id: int) -> Module:
        return next(m for m in self.modules if m.id == module_id)


class ContentCache:
    """Per-app, per-process LRU of VersionContent, keyed by the course row's identity and version number."""

    def __init__(self, redis_url: str | None = None) -> None:
        self._versions: OrderedDict[tuple, VersionContent] = OrderedDict()
        self._other: dict[tuple, Any] = {}
        self._lock = threading.Lock()
        self._redis_url = redis_url
        self._redis: Any = None

    def clear(self) -> None:
        with self._lock:
            self._versions.clear()
            self._other.clear()

    def get(self, key: tuple) -> VersionContent | None:
        with self._lock:
            found = self._versions.get(key)
            if found is not None:
                self._versions.move_to_end(key)
            return found

    def put(self, key: tuple, content: VersionContent) -> None:
        with self._lock:
            self._versions[key] = content
            while len(self._versions) > MAX_VERSIONS:
                self._versions.popitem(last=False)

    def cached(self, key: tuple, load: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._other:
                return self._other[key]
        value = load()
        with self._lock:
            self._other[key] = value
            while len(self._other) > MAX_VERSIONS * 4:
                self._other.pop(next(iter(self._other)))
        return value

    def redis(self) -> Any:
        if not self._redis_url:
            return None
        if self._redis is None:
            from redis import Redis

            self._redis = Redis.from_url(self._redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return self._redis


def init_app(app: Flask) -> None:
    app.extensions["lms_content"] = ContentCache(app.config.get("REDIS_URL") or None)


def _cache() -> ContentCache:
    return current_app.extensions["lms_content"]


def cached(key: tuple, load: Callable[[], Any]) -> Any:
    """Any other immutable published content (e.g. a quiz's questions), loaded once per process by
    ``load``; ``key`` must name an immutable thing (ids of a synced version)."""
    return _cache().cached(key, load)


def version_fragment(template: str, version: CourseVersion, part: str = "", **context: Any) -> Markup:
    """A part of a page that is the same for everyone reading this edition, rendered once per process.

    The course page's credit, faculty and reference sections, and a lesson's article (its body and its
    references), are most of those pages' markup and rendering time, yet depend only on the immutable
    version. ``template`` sees ``v`` (the version), ``d`` (its details), ``config`` and ``context``, never
    the user or the request. ``part`` names what ``context`` holds within the version (e.g. the lesson's
    key): the caller passes only things of this version that ``part`` determines, never learner data.
    Templates that reload while running (development) are rendered afresh every time.
    """
    app = current_app

    def render() -> Markup:
        page = app.jinja_env.get_template(template)
        # The environment autoescapes: the rendered fragment is safe markup, as render_template's is.
        return Markup(page.render(v=version, d=version.details, config=app.config, **context))  # noqa: S704

    if app.jinja_env.auto_reload:
        return render()
    return cached(("fragment", template, version.id, version.checksum, part), render)


def _key(course: Course) -> tuple:
    # created_at too: after a development reset, ids restart but the new course row is a different one.
    return (course.id, course.created_at, course.current_version_no)


def policy_from_details(details: dict[str, Any]) -> Policy:
    c = details.get("completion", {})
    return Policy(
        require_all_lessons=c.get("require_all_lessons", True),
        require_quizzes=c.get("require_quizzes", "all"),
        final_quiz=c.get("final_quiz", ""),
        evaluation=c.get("evaluation", ""),
        gated=c.get("gated", True),
        min_minutes=c.get("min_minutes", 0),
    )


def version_content(course: Course) -> VersionContent:
    """The course's current version with its modules and syllabus: no query once cached (three before)."""
    key = _key(course)
    cache = _cache()
    found = cache.get(key)
    if found is not None:
        return found
    version = db.session.scalar(
        select(CourseVersion).where(
            CourseVersion.course_id == course.id, CourseVersion.number == course.current_version_no
        )
    )
    assert version is not None, f"course {course.slug} has no version {course.current_version_no}"
    modules = list(
        db.session.scalars(select(Module).where(Module.version_id == version.id).order_by(Module.position))
    )
    items = list(
        db.session.scalars(select(Item).where(Item.version_id == version.id).order_by(Item.position))
    )
    by_id = {m.id: m for m in modules}
    syllabus = [SyllabusItem(i.key, i.kind, i.title, by_id[i.module_id].key, i.content_hash) for i in items]
    for obj in (version, *modules, *items):
        if obj in db.session:
            db.session.expunge(obj)
    content = VersionContent(version, modules, items, syllabus, policy_from_details(version.details))
    cache.put(key, content)
    return content


def version_contents(courses: Sequence[Course]) -> dict[int, VersionContent]:
    """Each published course's current version content, by course id: no query when all are cached, three
    in all for whichever are not (a page listing many courses costs the same as one listing a single one)."""
    cache = _cache()
    out: dict[int, VersionContent] = {}
    missing: dict[tuple[int, int], Course] = {}
    for course in courses:
        if course.current_version_no <= 0:
            continue
        found = cache.get(_key(course))
        if found is not None:
            out[course.id] = found
        else:
            missing[(course.id, course.current_version_no)] = course
    if not missing:
        return out
    versions = {
        v.id: v
        for v in db.session.scalars(
            select(CourseVersion).where(
                tuple_(CourseVersion.course_id, CourseVersion.number).in_(list(missing))
            )
        )
    }
    modules: dict[int, list[Module]] = {vid: [] for vid in versions}
    for module in db.session.scalars(
        select(Module).where(Module.version_id.in_(list(versions))).order_by(Module.position)
    ):
        modules[module.version_id].append(module)
    items: dict[int, list[Item]] = {vid: [] for vid in versions}
    for item in db.session.scalars(
        select(Item).where(Item.version_id.in_(list(versions))).order_by(Item.position)
    ):
        items[item.version_id].append(item)
    for version_id, version in versions.items():
        by_id = {m.id: m for m in modules[version_id]}
        syllabus = [
            SyllabusItem(i.key, i.kind, i.title, by_id[i.module_id].key, i.content_hash)
            for i in items[version_id]
        ]
        for obj in (version, *modules[version_id], *items[version_id]):
            if obj in db.session:
                db.session.expunge(obj)
        content = VersionContent(
            version, modules[version_id], items[version_id], syllabus, policy_from_details(version.details)
        )
        course = missing[(version.course_id, version.number)]
        cache.put(_key(course), content)
        out[course.id] = content
    return out


def lesson_html(content: VersionContent, item: Item) -> str:
    """A lesson's rendered, sanitised body: from this process, else Redis, else one query (then kept)."""
    html = content.lesson_html.get(item.key)
    if html is not None:
        return html
    redis_key = f"lms:lesson:{content.version.id}:{content.version.checksum}:{item.key}"
    redis = _cache().redis()
    if redis is not None:
        try:
            cached = redis.get(redis_key)
        except Exception as exc:  # Redis down: the database still answers
            log.warning("lesson cache: Redis unavailable (%s)", exc)
            cached, redis = None, None
        if cached is not None:
            return _keep_lesson(content, item, cached.decode("utf-8"))
    html = db.session.scalar(select(Item.html).where(Item.id == item.id)) or ""
    if redis is not None:
        try:
            redis.set(redis_key, html.encode("utf-8"), ex=7 * 24 * 3600)
        except Exception as exc:
            log.warning("lesson cache: Redis unavailable (%s)", exc)
    return _keep_lesson(content, item, html)


def _keep_lesson(content: VersionContent, item: Item, stored: str) -> str:
    """Keep the lesson in this process with its media URLs versioned (lms/catalog/media.py)."""
    html = stored
    if "/media/" in stored:
        from lms.catalog.media import media_versions, versioned_media_urls

        version = content.version
        versions = cached(("media-versions", version.id, version.checksum), lambda: media_versions(version))
        html = versioned_media_urls(stored, versions)
    content.lesson_html[item.key] = html
    return html

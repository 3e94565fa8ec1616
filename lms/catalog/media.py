"""Course media URLs that name the file's content, so browsers may keep them for a year.

A media file belongs to an immutable course version and its sha256 is stored with it (MediaAsset.sha256).
Lesson HTML is stored at sync time with plain URLs (``/courses/<slug>/media/<path>``, see
``lms.coursepacks.loader.media_url_for``); when a lesson is first read in a process the URLs of this
version's media gain ``?v=<hash>``. HTML stored by older releases thus needs no migration, and a plain or
stale URL (quiz pictures, a bookmarked image) keeps working with a short lifetime.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Mapping

from sqlalchemy import select

from lms.catalog.models import CourseVersion, MediaAsset
from lms.extensions import db
from lms.staticfiles import HASH_LENGTH

#: an image (or link) pointing at a course's media route, without a query string yet
_MEDIA_SRC = re.compile(r'(?P<attr>\b(?:src|href)=")(?P<url>/courses/[^/"?#]+/(?P<path>media/[^"?#]+))"')


def media_version(sha256: str) -> str:
    """The ``v`` of a media URL: a prefix of the stored sha256 (the same length as static files')."""
    return sha256[:HASH_LENGTH]


def media_versions(version: CourseVersion) -> dict[str, str]:
    """Path (``media/x.svg``) to URL version for every media file of ``version`` (one query)."""
    rows = db.session.execute(
        select(MediaAsset.path, MediaAsset.sha256).where(MediaAsset.version_id == version.id)
    )
    return {path: media_version(sha) for path, sha in rows}


def versioned_media_urls(html: str, versions: Mapping[str, str]) -> str:
    """Add ``?v=<hash>`` to every URL in ``html`` naming one of ``versions``' files; leave the rest alone."""

    def add_version(match: re.Match[str]) -> str:
        version = versions.get(htmllib.unescape(match.group("path")))
        if version is None:
            return match.group(0)
        return f'{match.group("attr")}{match.group("url")}?v={version}"'

    return _MEDIA_SRC.sub(add_version, html)

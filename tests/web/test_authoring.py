"""Authoring through the app: drafts, publishing, history, conflicts, import/export, sync, permissions."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.auth.models import User
from lms.authoring import services as svc
from lms.authoring.models import CourseDraft, CoursePublication
from lms.catalog.models import Course, CourseVersion
from lms.catalog.services import add_staff
from lms.coursepacks.loader import load_package
from lms.coursepacks.reader import read_folder, read_zip
from lms.extensions import db
from tests import factories
from tests.packages import SVG, sync, write_package, zip_folder

NOW = datetime(2026, 12, 1, 9, 0)
ROOT = Path(__file__).resolve().parents[2]


def _csrf(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.data[:300]
    match = re.search(rb'name="csrf_token"[^>]* value="([^"]+)"', page.data)
    assert match, "no CSRF token on " + url
    return match.group(1).decode()


def _registry(app):
    return app.extensions["lms"].question_types


def _new_course(client, slug: str = "my-course", title: str = "My course"):
    token = _csrf(client, "/author/new")
    return client.post("/author/new", data={"csrf_token": token, "slug": slug, "title": title})


def _draft_files(app, slug: str) -> dict[str, bytes]:
    with app.app_context():
        course = svc.get_course(slug)
        draft = svc.get_draft(course)
        return draft.files


def _editor_state(client, slug: str, path: str) -> tuple[str, str]:
    page = client.get(f"/author/{slug}/edit?path={path}")
    assert page.status_code == 200
    token = re.search(rb'name="csrf_token"[^>]* value="([^"]+)"', page.data).group(1).decode()
    base = (
        re.search(rb'id="base_hash" name="base_hash" type="hidden" value="([^"]*)"', page.data)
        .group(1)
        .decode()
    )
    return token, base


def _save(client, slug, path, content, token, base, **extra):
    data = {"csrf_token": token, "path": path, "content": content, "base_hash": base, "save": "1", **extra}
    return client.post(f"/author/{slug}/edit", data=data)


def _publish(client, slug: str, note: str = "First edition"):
    token = _csrf(client, f"/author/{slug}")
    return client.post(f"/author/{slug}/publish", data={"csrf_token": token, "note": note})


def test_skeleton_of_a_new_course_is_a_valid_package(app):
    with app.app_context():
        files = svc.skeleton("new-course", 'A "quoted" title', NOW.date())
        course = Course(slug="new-course", source="authored")
        result = svc.validate_draft(course, files, _registry(app))
        assert result.ok, [str(p) for p in result.problems]
        assert result.package.title == 'A "quoted" title'


def test_educator_writes_publishes_and_learner_sees_the_course(app, client, auth):
    educator = auth.login("educator")
    assert _new_course(client).status_code == 302
    page = client.get("/author")
    assert b"My course" in page.data and b"draft" in page.data
    lesson = _draft_files(app, "my-course")["lessons/introduction.md"].decode()
    token, base = _editor_state(client, "my-course", "lessons/introduction.md")
    changed = lesson.replace("Write the lesson here", "CRS is graded by the ASTCT criteria")
    assert _save(client, "my-course", "lessons/introduction.md", changed, token, base).status_code == 302

    response = _publish(client, "my-course", "First edition for the ward")
    assert response.status_code == 302
    with app.app_context():
        course = svc.get_course("my-course")
        assert course.source == "authored" and course.current_version_no == 1 and course.status == "published"
        pub = db.session.scalar(select(CoursePublication).where(CoursePublication.course_id == course.id))
        assert pub.note == "First edition for the ward" and pub.published_by_id == educator.id
    history = client.get("/author/my-course/history")
    assert b"First edition for the ward" in history.data and b"Test educator" in history.data

    # Publishing the same content again is refused with a message next to the note.
    again = _publish(client, "my-course", "Again")
    assert again.status_code == 400 and b"nothing changed since version 1" in again.data

    # A second edition: the history diff shows the changed lesson text, escaped.
    token, base = _editor_state(client, "my-course", "lessons/introduction.md")
    second = changed.replace("ASTCT criteria", "ASTCT criteria <b>(2019)</b>")
    assert _save(client, "my-course", "lessons/introduction.md", second, token, base).status_code == 302
    assert _publish(client, "my-course", "Cite the year").status_code == 302
    diff = client.get("/author/my-course/history/2")
    assert diff.status_code == 200
    assert b"Introduction" in diff.data and b"(2019)" in diff.data and b"<b>(2019)" not in diff.data

    auth.logout()
    auth.login("learner")
    catalog = client.get("/courses")
    assert b"My course" in catalog.data


def test_publish_refuses_a_broken_draft_and_stores_nothing(app, client, auth):
    auth.login("educator")
    _new_course(client)
    token, base = _editor_state(client, "my-course", "course.toml")
    toml = _draft_files(app, "my-course")["course.toml"].decode()
    broken = toml.replace(
        'items = ["lessons/introduction.md"]',
        'items = ["lessons/introduction.md", "lessons/missing-lesson.md"]',
    )
    assert _save(client, "my-course", "course.toml", broken, token, base).status_code == 302
    page = client.get("/author/my-course")
    assert b"cannot be published yet" in page.data and b"missing-lesson" in page.data
    response = _publish(client, "my-course")
    assert response.status_code == 400 and b"the draft has problems" in response.data
    with app.app_context():
        course = svc.get_course("my-course")
        assert course.current_version_no == 0
        assert db.session.scalar(select(CourseVersion).where(CourseVersion.course_id == course.id)) is None


def test_slug_cannot_change_in_the_draft(app):
    with app.app_context():
        course = Course(slug="kept", source="authored")
        files = svc.skeleton("other", "Other", NOW.date())
        result = svc.validate_draft(course, files, _registry(app))
        assert not result.ok and 'must stay "kept"' in str(result.problems[0])


def test_second_educator_saving_the_same_lesson_sees_both_versions(app, client, auth):
    auth.login("educator")
    _new_course(client)
    path = "lessons/introduction.md"
    token, base = _editor_state(client, "my-course", path)  # both editors opened the same file
    original = _draft_files(app, "my-course")[path].decode()
    first = _save(client, "my-course", path, original + "\nMine.\n", token, base)
    assert first.status_code == 302
    second = _save(client, "my-course", path, original + "\nTheirs.\n", token, base)
    assert second.status_code == 409
    assert b"Someone else saved this file" in second.data
    assert b"Mine." in second.data and b"Theirs." in second.data  # their saved text and my unsaved text
    assert _draft_files(app, "my-course")[path].decode().endswith("Mine.\n")
    # Saving again from the conflict page (which carries the new base) goes through.
    new_base = re.search(
        rb'id="base_hash" name="base_hash" type="hidden" value="([^"]*)"', second.data
    ).group(1)
    merged = _save(client, "my-course", path, original + "\nMine.\nTheirs.\n", token, new_base.decode())
    assert merged.status_code == 302


def test_saving_another_file_does_not_conflict(app, client, auth):
    auth.login("educator")
    _new_course(client)
    token, lesson_base = _editor_state(client, "my-course", "lessons/introduction.md")
    _t, toml_base = _editor_state(client, "my-course", "course.toml")
    toml = _draft_files(app, "my-course")["course.toml"].decode()
    assert _save(client, "my-course", "course.toml", toml, token, toml_base).status_code == 302
    lesson = _draft_files(app, "my-course")["lessons/introduction.md"].decode()
    assert (
        _save(client, "my-course", "lessons/introduction.md", lesson + "x\n", token, lesson_base).status_code
        == 302
    )


def test_preview_is_sanitised_with_and_without_javascript(app, client, auth):
    auth.login("educator")
    _new_course(client)
    token, base = _editor_state(client, "my-course", "lessons/introduction.md")
    body = '+++\ntitle = "X"\n+++\n**Bold** <script>alert(1)</script>'
    live = client.post(
        "/author/my-course/preview", data={"csrf_token": token, "path": "lessons/x.md", "content": body}
    )
    assert live.status_code == 200 and b"<strong>Bold</strong>" in live.data and b"<script>" not in live.data
    no_js = client.post(
        "/author/my-course/edit",
        data={
            "csrf_token": token,
            "path": "lessons/introduction.md",
            "content": body,
            "base_hash": base,
            "preview": "1",
        },
    )
    assert no_js.status_code == 200 and b"<strong>Bold</strong>" in no_js.data
    assert b"<script>alert" not in no_js.data
    assert (
        "Bold" not in _draft_files(app, "my-course")["lessons/introduction.md"].decode()
    )  # preview never saves
    assert "script-src" not in no_js.headers.get("X-Unused", "")
    assert b"<script>" not in no_js.data.split(b"</head>")[1]  # no inline script in the page body


def test_image_upload_limits_and_svg_sanitiser(app, client, auth):
    auth.login("educator")
    _new_course(client)
    token = _csrf(client, "/author/my-course")

    def upload(name: str, data: bytes):
        return client.post(
            "/author/my-course/image",
            data={"csrf_token": token, "image": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )

    assert upload("dot.svg", SVG).status_code == 302
    assert _draft_files(app, "my-course")["media/dot.svg"] == SVG
    bad_svg = upload("evil.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    assert bad_svg.status_code == 400 and b"error-text" in bad_svg.data
    assert upload("notes.exe", b"MZ").status_code == 400
    too_big = upload("big.png", b"\x89PNG" + b"0" * (svc.IMAGE_LIMIT + 1))
    assert too_big.status_code == 400 and b"at most 1 MiB" in too_big.data
    assert set(_draft_files(app, "my-course")) == {"course.toml", "lessons/introduction.md", "media/dot.svg"}
    media = client.get("/author/my-course/media/dot.svg")
    assert media.status_code == 200 and media.mimetype == "image/svg+xml"


def test_bundled_course_copied_into_a_draft_then_sync_leaves_it_alone(app, client, auth, runner, tmp_path):
    folder = write_package(tmp_path / "pkg", slug="test-course")
    sync(app, folder)
    admin = auth.login("admin")
    page = client.get("/author/test-course")
    assert b"Start a draft" in page.data
    with app.app_context():  # the folder synced from a path counts as bundled: point the app at it
        course = svc.get_course("test-course")
        files = read_folder(folder)
        from lms.coursepacks.sources import FoundPackage

        draft = svc.start_draft(course, [FoundPackage("bundled", str(folder), files)], None, NOW)
        assert draft.files == files.files
        lesson = next(p for p in draft.files if p.startswith("lessons/"))
        svc.save_file(
            draft,
            lesson,
            draft.files[lesson] + b"\nAn added sentence.\n",
            svc.file_hash(draft.files[lesson]),
            db.session.get(User, admin.id),
            NOW,
        )
        result = svc.publish(course, draft, _registry(app), db.session.get(User, admin.id), "Edited", NOW)
        db.session.commit()
        assert result.version == 2 and course.source == "authored"
    out = runner.invoke(args=["courses", "sync", str(folder)])
    assert out.exit_code == 0, out.output
    assert "left alone" in out.output and "edited in the browser" in out.output
    with app.app_context():
        assert svc.get_course("test-course").current_version_no == 2


def test_import_zip_into_the_draft_all_or_nothing(app, client, auth, tmp_path):
    auth.login("educator")
    _new_course(client, slug="test-course", title="T")
    before = _draft_files(app, "test-course")
    token = _csrf(client, "/author/test-course")

    def upload(data: bytes, name: str = "pkg.zip"):
        return client.post(
            "/author/test-course/import",
            data={"csrf_token": token, "package": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )

    folder = write_package(tmp_path / "pkg", slug="test-course")
    broken = zip_folder(folder, extra={"quizzes/extra.toml": b"title = [", "notes.txt": b"x"})
    response = upload(broken)
    assert response.status_code == 400
    assert b"quizzes/extra.toml" in response.data and b"is not listed in any module" in response.data
    assert b"notes.txt" in response.data
    assert _draft_files(app, "test-course") == before  # nothing half-imported

    corrupt = upload(b"PK\x03\x04 not really a zip")
    assert corrupt.status_code == 400 and b"is not a valid zip file" in corrupt.data

    lying = _stored_zip(read_folder(folder).files).replace(
        b'slug = "test-course"', b'slug = "test-coursX"', 1
    )
    refused = upload(
        lying
    )  # the stored bytes no longer match their CRC-32: a clear problem, nothing imported
    assert refused.status_code == 400 and b"is damaged inside the zip" in refused.data
    assert _draft_files(app, "test-course") == before

    good = zip_folder(folder)

    other = write_package(tmp_path / "other", slug="other-course")
    wrong = upload(zip_folder(other))
    assert wrong.status_code == 400 and b"this course is" in wrong.data

    assert upload(good).status_code == 302
    assert _draft_files(app, "test-course") == read_folder(folder).files


def _stored_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return buffer.getvalue()


def test_corrupt_zip_member_is_a_clear_problem():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("course.toml", b"slug = 'x'\n" * 20)
    data = bytearray(buffer.getvalue())
    start = data.find(b"slug")
    data[start : start + 4] = b"SLAG"  # stored data no longer matches its CRC-32
    files = read_zip(bytes(data), "lying.zip")
    assert files.problems and "is damaged inside the zip" in files.problems[0][1]
    assert files.files == {}


def test_cli_export_and_import(app, runner, tmp_path):
    folder = write_package(tmp_path / "pkg", slug="test-course")
    sync(app, folder)
    out_zip = tmp_path / "out.zip"
    with app.app_context():  # `courses export` finds bundled files through COURSES_DIR
        app.config["COURSES_DIR"] = str(folder.parent)
    result = runner.invoke(args=["courses", "export", "test-course", "-o", str(out_zip)])
    assert result.exit_code == 0, result.output
    assert read_zip(out_zip).files == read_folder(folder).files
    imported = runner.invoke(args=["courses", "import", str(out_zip)])
    assert imported.exit_code == 0, imported.output
    assert _draft_files(app, "test-course") == read_folder(folder).files
    bad = tmp_path / "bad.zip"
    bad.write_bytes(_stored_zip({**read_folder(folder).files, "course.toml": b"title = ["}))
    refused = runner.invoke(args=["courses", "import", str(bad)])
    assert refused.exit_code == 1 and "course.toml" in refused.output
    missing = runner.invoke(args=["courses", "export", "nope", "-o", str(tmp_path / "x.zip")])
    assert missing.exit_code == 1 and "no course" in missing.output


@pytest.mark.parametrize(
    "folder", sorted(p for p in (ROOT / "courses").iterdir() if p.is_dir()), ids=lambda p: p.name
)
def test_bundled_course_round_trip(app, folder):
    """export → import → export gives identical archives, and the export loads as the folder does."""
    registry = _registry(app)
    files = read_folder(folder)
    first = svc.export_zip(files.files, folder.name)
    imported = read_zip(first, "export.zip")
    assert not imported.problems and imported.files == files.files
    second = svc.export_zip(imported.files, folder.name)
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == sorted(i.filename for i in infos)
        assert {i.date_time for i in infos} == {svc.ZIP_EPOCH}
        assert {i.external_attr >> 16 for i in infos} == {svc.ZIP_MODE}
    from_folder = load_package(files, registry)
    from_zip = load_package(imported, registry)
    assert from_folder.ok and from_zip.ok
    assert from_zip.package == from_folder.package


# -- permissions: role × URL × ownership ----------------------------------------------------------------

COURSE_URLS = [
    "/author/perm-course",
    "/author/perm-course/history",
    "/author/perm-course/export.zip",
    "/author/perm-course/edit?path=course.toml",
    "/author/perm-course/media/none.png",
]


@pytest.fixture
def perm_course(app, auth):
    """A course owned by "owner@", co-authored by "coauthor@", with a draft."""
    owner = factories.create_user(app, email="owner@example.org", roles=("educator",), password=auth.password)
    coauthor = factories.create_user(
        app, email="coauthor@example.org", roles=("educator",), password=auth.password
    )
    with app.app_context():
        user = db.session.get(User, owner.id)
        course = svc.create_course("perm-course", "Permissions", user, NOW)
        add_staff(course, db.session.get(User, coauthor.id), "coauthor", NOW)
        db.session.commit()


def _login_as(client, auth, who: str) -> None:
    if who == "anonymous":
        return
    if who in ("owner", "coauthor"):
        response = client.post("/login", data={"email": f"{who}@example.org", "password": auth.password})
        assert response.status_code == 302
        return
    auth.login(who)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),
        ("learner", 403),
        ("educator", 200),
        ("owner", 200),
        ("coauthor", 200),
        ("admin", 200),
    ],
)
def test_author_index_permissions(client, auth, perm_course, who, expected):
    _login_as(client, auth, who)
    assert client.get("/author").status_code == expected
    assert client.get("/author/new").status_code == expected


@pytest.mark.parametrize("url", COURSE_URLS)
@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("anonymous", None),
        ("learner", False),
        ("educator", False),
        ("owner", True),
        ("coauthor", True),
        ("admin", True),
    ],
)
def test_course_authoring_permissions(client, auth, perm_course, url, who, allowed):
    _login_as(client, auth, who)
    status = client.get(url).status_code
    if allowed is None:
        assert status == 302  # to the login page
    elif allowed:
        assert status in (200, 404) if url.endswith("none.png") else status == 200
    else:
        assert status == 404  # not even the course's existence leaks


@pytest.mark.parametrize(
    ("who", "expected"), [("educator", 404), ("coauthor", 403), ("owner", 302), ("admin", 302)]
)
def test_only_owners_and_admins_invite(client, auth, perm_course, who, expected):
    _login_as(client, auth, who)
    page = client.get("/author")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    response = client.post(
        "/author/perm-course/staff", data={"csrf_token": token, "email": "nobody@example.org"}
    )
    assert response.status_code == expected


def test_draft_rows_are_one_per_course(app, perm_course):
    with app.app_context():
        course = svc.get_course("perm-course")
        rows = db.session.scalars(select(CourseDraft).where(CourseDraft.course_id == course.id)).all()
        assert len(rows) == 1 and rows[0].revision == 1


def test_start_a_draft_from_a_bundled_course_through_the_page(app, client, auth, tmp_path):
    folder = write_package(tmp_path / "bundle", slug="test-course")
    sync(app, folder)
    app.config["COURSES_DIR"] = str(folder.parent)  # where bundled packages are found
    auth.login("admin")
    token = _csrf(client, "/author/test-course")
    assert client.post("/author/test-course/draft", data={"csrf_token": token}).status_code == 302
    assert _draft_files(app, "test-course") == read_folder(folder).files
    page = client.get("/author/test-course")
    assert b"Draft files" in page.data and b"published" in page.data
    exported = client.get("/author/test-course/export.zip")
    assert exported.status_code == 200 and exported.mimetype == "application/zip"
    assert read_zip(exported.data).files == read_folder(folder).files


POST_URLS = [
    "/author/perm-course/publish",
    "/author/perm-course/import",
    "/author/perm-course/image",
    "/author/perm-course/draft",
    "/author/perm-course/structure/move",
    "/author/perm-course/regrade",
    "/author/perm-course/grant",
    "/author/perm-course/staff",
]


@pytest.mark.parametrize("url", POST_URLS)
@pytest.mark.parametrize("who", ["learner", "educator"])
def test_course_writes_are_404_for_anyone_off_the_staff(client, auth, perm_course, app, url, who):
    _login_as(client, auth, who)
    before = _draft_files(app, "perm-course")
    assert client.post(url, data={"note": "x", "email": "owner@example.org"}).status_code == 404
    assert _draft_files(app, "perm-course") == before


def test_course_states_at_a_glance(app):
    from lms.authoring.models import encode_files

    with app.app_context():
        course = Course(slug="s", source="authored")
        files = svc.skeleton("s", "S", NOW.date())
        draft = CourseDraft(files_json=encode_files(files))
        assert svc.course_states(course, draft, None, NOW.date()) == ["draft"]
        from lms.coursepacks.loader import package_checksum

        version = CourseVersion(
            checksum=package_checksum(files),
            status="published",
            details={"dates": {"last_review": "2025-11-01"}},
        )
        assert svc.course_states(course, draft, version, NOW.date()) == ["published", "review overdue"]
        version.details = {"dates": {"last_review": "2026-06-01"}}
        assert svc.course_states(course, None, version, NOW.date()) == ["published"]
        changed = CourseDraft(files_json=encode_files({**files, "lessons/x.md": b"x"}))
        assert svc.course_states(course, changed, version, NOW.date()) == ["published", "unpublished changes"]


@pytest.mark.postgres_only
def test_parallel_saves_of_the_same_lesson_one_wins_one_is_told(app, perm_course):
    """Two educators press Save at the same moment from the same page: the row lock serialises them."""
    from tests.concurrency import run_together

    path = "lessons/introduction.md"
    base = svc.file_hash(_draft_files(app, "perm-course")[path])

    def worker(text, wait):
        with app.app_context():
            draft = svc.get_draft(svc.get_course("perm-course"))
            wait()
            try:
                svc.save_file(draft, path, text.encode(), base, None, NOW)
                db.session.commit()
                return "saved"
            except svc.EditConflict:
                db.session.rollback()
                return "conflict"

    results, errors = run_together(worker, ["first version\n", "second version\n"])
    assert errors == []
    assert sorted(results) == ["conflict", "saved"]
    with app.app_context():
        draft = svc.get_draft(svc.get_course("perm-course"))
        assert draft.revision == 2
        assert draft.files[path] in (b"first version\n", b"second version\n")

"""Structured authoring: modules and items reordered with buttons, quiz settings, and questions written with
the form generated from each question-type plugin (every built-in type and the example third-party type)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from lms.authoring import structure as st
from lms.authoring import tomlwrite
from tests.web.test_authoring import _csrf, _draft_files, _new_course

ROOT = Path(__file__).resolve().parents[2]
BUNDLED_TOML = sorted(ROOT.glob("courses/*/course.toml")) + sorted(ROOT.glob("courses/*/quizzes/*.toml"))


@pytest.mark.parametrize("path", BUNDLED_TOML, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_toml_writer_round_trips_every_bundled_file(path):
    doc = tomllib.loads(path.read_text("utf-8"))
    assert tomllib.loads(tomlwrite.dumps(doc)) == doc


def _example_specs() -> dict[str, dict]:
    specs: dict[str, dict] = {}
    for path in sorted(ROOT.glob("courses/*/quizzes/*.toml")):
        for q in tomllib.loads(path.read_text("utf-8")).get("questions", []):
            specs.setdefault(q["type"], q)
    specs["keyword"] = {
        "id": "kw",
        "type": "keyword",
        "prompt": "Name the two drugs.",
        "keywords": ["tocilizumab", "dexamethasone"],
        "feedback_correct": "Yes.",
    }
    return specs


SPECS = _example_specs()
SURVEY_TYPES = {"likert", "free_text"}


def _add_quiz(client, kind: str = "quiz", key: str = "check") -> str:
    token = _csrf(client, "/author/my-course/structure")
    base = st_hash(client)
    response = client.post(
        "/author/my-course/structure/item",
        data={
            "csrf_token": token,
            "base_hash": base,
            "module": "0",
            "kind": kind,
            "key": key,
            "title": "Check",
        },
    )
    assert response.status_code == 302, response.data[-2000:]
    return f"quizzes/{key}.toml"


def st_hash(client) -> str:
    from lms.authoring.services import file_hash

    app = client.application
    return file_hash(_draft_files(app, "my-course")["course.toml"])


def _form_values(qtype, spec: dict) -> dict:
    data = st.form_data(qtype, spec)
    values = {("id" if k == "id_" else k): v for k, v in data.items()}
    return values


@pytest.mark.parametrize("type_name", sorted(SPECS))
def test_author_a_question_of_each_type_with_the_generated_form(app, client, auth, type_name):
    auth.login("educator")
    _new_course(client)
    path = _add_quiz(client, kind="survey" if type_name in SURVEY_TYPES else "quiz")
    qtype = app.extensions["lms"].question_types.get(type_name)
    form_page = client.get(f"/author/my-course/question?path={path}&type={type_name}")
    assert form_page.status_code == 200
    for name in qtype.fields:  # one box per field the plugin declares, no template of its own
        assert f'name="f_{name}"'.encode() in form_page.data
    spec = {k: v for k, v in SPECS[type_name].items() if k not in ("title", "idnumber")}
    from lms.authoring.services import file_hash

    base = file_hash(_draft_files(app, "my-course")[path])
    token = _csrf(client, f"/author/my-course/question?path={path}&type={type_name}")
    response = client.post(
        f"/author/my-course/question?path={path}&type={type_name}",
        data={"csrf_token": token, "base_hash": base, **_form_values(qtype, spec)},
    )
    assert response.status_code == 302, response.data[-3000:]
    stored = tomllib.loads(_draft_files(app, "my-course")[path].decode())["questions"]
    assert stored == [spec]
    edit = client.get(f"/author/my-course/question?path={path}&index=0")
    assert edit.status_code == 200 and qtype.label.encode() in edit.data


def test_plugin_validation_errors_show_next_to_the_field(app, client, auth):
    auth.login("educator")
    _new_course(client)
    path = _add_quiz(client)
    from lms.authoring.services import file_hash

    before = _draft_files(app, "my-course")[path]
    token = _csrf(client, f"/author/my-course/question?path={path}&type=keyword")
    response = client.post(
        f"/author/my-course/question?path={path}&type=keyword",
        data={
            "csrf_token": token,
            "base_hash": file_hash(before),
            "id": "kw",
            "prompt": "Name them.",
            "f_keywords": "[]",
            "f_feedback_correct": '"unterminated',
        },
    )
    assert response.status_code == 400
    text = response.data.decode()
    assert 'id="f_feedback_correct-error"' in text and "not a TOML value" in text
    assert _draft_files(app, "my-course")[path] == before
    response = client.post(
        f"/author/my-course/question?path={path}&type=keyword",
        data={
            "csrf_token": token,
            "base_hash": file_hash(before),
            "id": "kw",
            "prompt": "P",
            "f_keywords": "[]",
        },
    )
    assert response.status_code == 400
    error = response.data.decode().split('id="f_keywords-error"', 1)[1][:200]
    assert '"keywords" must list at least one keyword' in error.replace("&#34;", '"')


def test_reorder_items_and_questions_with_buttons(app, client, auth):
    auth.login("educator")
    _new_course(client)
    path = _add_quiz(client)
    items = tomllib.loads(_draft_files(app, "my-course")["course.toml"].decode())["modules"][0]["items"]
    assert items == ["lessons/introduction.md", path]
    token = _csrf(client, "/author/my-course/structure")
    stale = st_hash(client)
    moved = client.post(
        "/author/my-course/structure/move",
        data={"csrf_token": token, "base_hash": stale, "module": "0", "index": "1", "delta": "-1"},
    )
    assert moved.status_code == 302
    items = tomllib.loads(_draft_files(app, "my-course")["course.toml"].decode())["modules"][0]["items"]
    assert items == [path, "lessons/introduction.md"]
    again = client.post(  # from a page built before that move: refused, not applied twice
        "/author/my-course/structure/move",
        data={"csrf_token": token, "base_hash": stale, "module": "0", "index": "1", "delta": "-1"},
        follow_redirects=True,
    )
    assert b"Someone else changed course.toml" in again.data
    items = tomllib.loads(_draft_files(app, "my-course")["course.toml"].decode())["modules"][0]["items"]
    assert items == [path, "lessons/introduction.md"]

    quiz = {"title": "Check", "kind": "quiz", "pass_mark": 70, "questions": [{"id": "a"}, {"id": "b"}]}
    assert st.move_question(quiz, 1, -1)["questions"] == [{"id": "b"}, {"id": "a"}]
    assert st.move_question(quiz, 0, -1)["questions"] == [{"id": "a"}, {"id": "b"}]
    assert st.delete_question(quiz, 0)["questions"] == [{"id": "b"}]


def test_quiz_settings_form(app, client, auth):
    """The settings are fields (tests/web/test_authoring_forms.py has the rest)."""
    auth.login("educator")
    _new_course(client)
    path = _add_quiz(client)
    from lms.authoring.services import file_hash

    base = file_hash(_draft_files(app, "my-course")[path])
    token = _csrf(client, f"/author/my-course/quiz?path={path}")
    bad = client.post(
        f"/author/my-course/quiz/settings?path={path}",
        data={"csrf_token": token, "base_hash": base, "title": "Check", "pass_mark": "abc"},
    )
    assert bad.status_code == 400 and b'id="pass_mark-error"' in bad.data
    good = client.post(
        f"/author/my-course/quiz/settings?path={path}",
        data={"csrf_token": token, "base_hash": base, "title": "Check", "kind": "quiz", "pass_mark": "80"},
    )
    assert good.status_code == 302
    assert tomllib.loads(_draft_files(app, "my-course")[path].decode())["pass_mark"] == 80


GIFT = b"""::q-true::CRS can occur after CAR-T infusion. {T}

::bad::Q? {~a ~b}

::html-one::[html]<p>Which is a vector?</p> {=AAV ~Aspirin}

::mc::Which is a vector? {=AAV ~Aspirin ~Saline}
"""


def _upload_gift(client, target: str, data: bytes = GIFT):
    import io

    token = _csrf(client, "/author/my-course/gift")
    return client.post(
        "/author/my-course/gift",
        data={"csrf_token": token, "target": target, "gift": (io.BytesIO(data), "questions.gift")},
        content_type="multipart/form-data",
    )


def test_gift_into_a_quiz_lists_every_refused_question_with_its_line(app, client, auth):
    auth.login("educator")
    _new_course(client)
    path = _add_quiz(client)
    response = _upload_gift(client, path)
    assert response.status_code == 200
    text = response.data.decode()
    assert "2 questions imported: q-true, mc" in text
    assert "line 3: " in text and "no option has a positive weight" in text
    assert "line 5: not imported: uses the html text format" in text
    stored = tomllib.loads(_draft_files(app, "my-course")[path].decode())["questions"]
    assert [q["id"] for q in stored] == ["q-true", "mc"]
    assert all("format" not in q for q in stored)
    nothing = _upload_gift(client, path, b"Q? {~a ~b}\n")
    assert nothing.status_code == 400 and "line 1: " in nothing.data.decode()
    not_utf8 = _upload_gift(client, path, b"\xff\xfe Q? {T}")
    assert not_utf8.status_code == 400 and b"UTF-8" in not_utf8.data


def test_gift_into_the_bank_then_into_a_quiz(app, client, auth):
    auth.login("educator")
    _new_course(client)
    path = _add_quiz(client)
    refused = _upload_gift(client, "bank")
    assert refused.status_code == 400 and b"publish the course once" in refused.data
    # A question so the quiz is valid, then publish, then fill the bank.
    from lms.authoring.services import file_hash

    _upload_gift(client, path, b"::first::Fever is required for CRS. {T}\n")
    token = _csrf(client, "/author/my-course")
    published = client.post("/author/my-course/publish", data={"csrf_token": token, "note": "v1"})
    assert published.status_code == 302, published.data[-3000:]
    response = _upload_gift(client, "bank")
    assert response.status_code == 200 and "3 questions imported" in response.data.decode()
    quiz_page = client.get(f"/author/my-course/quiz?path={path}")
    assert b"Add from the question bank" in quiz_page.data and b"html-one" in quiz_page.data
    base = file_hash(_draft_files(app, "my-course")[path])
    token = _csrf(client, f"/author/my-course/quiz?path={path}")
    added = client.post(
        f"/author/my-course/quiz/from-bank?path={path}",
        data={"csrf_token": token, "base_hash": base, "key": "mc"},
        follow_redirects=True,
    )
    assert b"Added mc from the bank" in added.data
    html = client.post(
        f"/author/my-course/quiz/from-bank?path={path}",
        data={
            "csrf_token": token,
            "base_hash": file_hash(_draft_files(app, "my-course")[path]),
            "key": "html-one",
        },
        follow_redirects=True,
    )
    assert b"uses the html text format" in html.data
    stored = tomllib.loads(_draft_files(app, "my-course")[path].decode())["questions"]
    assert [q["id"] for q in stored] == ["first", "mc"]


def test_preview_a_draft_quiz_records_nothing(app, client, auth):
    from sqlalchemy import func, select

    from lms.extensions import db
    from lms.learning.models import ProgressRecord
    from lms.quizzes.models import Attempt

    auth.login("educator")
    _new_course(client)
    path = _add_quiz(client)
    _upload_gift(client, path, b"::tf::Fever is required for CRS. {T}\n\n::tf2::CRS is graded 1-4. {T}\n")
    page = client.get(f"/author/my-course/try?path={path}")
    assert page.status_code == 200 and b'name="p1"' in page.data and b"Nothing you answer" in page.data
    token = _csrf(client, f"/author/my-course/try?path={path}")
    result = client.post(
        f"/author/my-course/try?path={path}", data={"csrf_token": token, "p1": "true", "p2": "false"}
    )
    assert result.status_code == 200
    assert b"Score 50.0%" in result.data and b"not passed" in result.data
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attempt)) == 0
        assert db.session.scalar(select(func.count()).select_from(ProgressRecord)) == 0


@pytest.mark.parametrize("path", sorted(ROOT.glob("courses/*/course.toml")), ids=lambda p: p.parent.name)
def test_details_form_keeps_every_bundled_manifest(app, path):
    """Loading a manifest into the details form and saving it unchanged gives the same manifest."""
    from lms.authoring import manifest_form as mf

    doc = tomllib.loads(path.read_text("utf-8"))
    with app.test_request_context():
        form = mf.ManifestForm(formdata=None, data=mf.form_data(doc))
        new, errors = mf.apply(form, doc)
    assert errors == {}
    assert new == doc


def test_details_form_saves_and_shows_validator_problems_next_to_fields(app, client, auth):
    auth.login("educator")
    _new_course(client)
    page = client.get("/author/my-course/details")
    assert page.status_code == 200 and b'value="My course"' in page.data
    from lms.authoring.services import file_hash

    base = file_hash(_draft_files(app, "my-course")["course.toml"])
    token = _csrf(client, "/author/my-course/details")
    data = {
        "csrf_token": token,
        "base_hash": base,
        "title": "Renamed course",
        "edition": "2026.2",
        "summary": "What you will learn.",
        "audience": ["nurse", "pharmacist"],
        "specialties": ["Haematology", "Oncology"],
        "objectives": "One\nTwo",
        "estimated_minutes": "1",
        "credit_hours": "5",
        "release": "2026-12-01",
        "last_review": "2026-12-01",
        "expiry": "2028-11-30",
        "faculty-0-name": "Dr A",
        "faculty-0-role": "Author",
        "faculty-0-disclosure": "None.",
        "completion-require_all_lessons": "y",
        "completion-require_quizzes": "all",
        "completion-gated": "y",
        "action": "save",
    }
    saved = client.post("/author/my-course/details", data=data)
    assert saved.status_code == 302
    doc = tomllib.loads(_draft_files(app, "my-course")["course.toml"].decode())
    assert doc["title"] == "Renamed course" and doc["audience"] == ["nurse", "pharmacist"]
    assert doc["specialties"] == ["Haematology", "Oncology"] and doc["credit"]["hours"] == 5
    assert doc["modules"][0]["items"] == ["lessons/introduction.md"]
    page = client.get("/author/my-course/details")
    error = page.data.decode().split('id="credit_hours-error"', 1)[1][:300]
    assert '"hours" is 5' in error.replace("&#34;", '"')
    bad = client.post(
        "/author/my-course/details",
        data={
            **data,
            "base_hash": file_hash(_draft_files(app, "my-course")["course.toml"]),
            "faculty-0-disclosure": "",
        },
    )
    assert bad.status_code == 400 and 'id="faculty-0-disclosure-error"' in bad.data.decode()

"""The structured authoring forms without TOML boxes: faculty and references as rows (add, remove, move,
kept on errors), the completion policy from the course's quizzes, specialties from the controlled list, and
the quiz settings form (open/close times in the site's time zone, written as offset date-times)."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime, timedelta

from lms.authoring.services import file_hash
from tests.web.formscrape import as_dict, form_fields
from tests.web.test_authoring import _draft_files, _new_course
from tests.web.test_authoring_structure import _add_quiz

DETAILS = "/author/my-course/details"


def _details_form(client) -> dict[str, list[str]]:
    page = client.get(DETAILS)
    assert page.status_code == 200
    return as_dict(form_fields(page.data.decode(), DETAILS))


def _manifest(app) -> dict:
    return tomllib.loads(_draft_files(app, "my-course")["course.toml"].decode())


def _error(html: str, field_id: str) -> str:
    assert f'id="{field_id}-error"' in html, f"no error shown for {field_id}"
    return html.split(f'id="{field_id}-error"', 1)[1].split("</p>", 1)[0]


def test_details_page_has_no_toml_boxes_and_shows_rows(app, client, auth):
    auth.login("educator")
    _new_course(client)
    html = client.get(DETAILS).data.decode()
    assert "TOML" not in html.split("<form", 1)[1].split("</form>", 1)[0]
    assert 'name="faculty-0-name"' in html and 'value="Course author"' in html
    assert 'name="faculty-0-remove"' in html and 'value="add-faculty"' in html
    assert re.search(
        r"<input checked id=\"specialties-\d+\" name=\"specialties\" type=\"checkbox\" value=\"Haematology\"",
        html,
    )
    assert 'name="completion-require_quizzes"' in html


def test_add_a_faculty_row_keeps_what_was_typed_then_saves_it(app, client, auth):
    auth.login("educator")
    _new_course(client)
    data = _details_form(client)
    data["title"] = ["Typed but not saved"]
    data["faculty-0-name"] = ["Dr Ada Byron"]
    added = client.post(DETAILS, data={**data, "action": "add-faculty"})
    assert added.status_code == 200
    html = added.data.decode()
    assert 'value="Typed but not saved"' in html and 'value="Dr Ada Byron"' in html
    assert 'name="faculty-1-name"' in html and 'name="faculty-2-name"' not in html
    assert _manifest(app)["title"] == "My course"  # nothing saved by "add a row"

    data = as_dict(form_fields(html, DETAILS))
    data.update(
        {"faculty-1-name": ["Dr B"], "faculty-1-role": ["Reviewer"], "faculty-1-disclosure": ["None."]}
    )
    saved = client.post(DETAILS, data={**data, "action": "save"})
    assert saved.status_code == 302, saved.data[-3000:]
    faculty = _manifest(app)["faculty"]
    assert [f["name"] for f in faculty] == ["Dr Ada Byron", "Dr B"]
    assert faculty[1] == {"name": "Dr B", "role": "Reviewer", "disclosure": "None."}


def test_an_empty_added_row_is_dropped_and_a_half_filled_one_is_an_error_next_to_its_field(app, client, auth):
    auth.login("educator")
    _new_course(client)
    data = _details_form(client)
    html = client.post(DETAILS, data={**data, "action": "add-faculty"}).data.decode()
    data = as_dict(form_fields(html, DETAILS))
    assert client.post(DETAILS, data={**data, "action": "save"}).status_code == 302  # empty row ignored
    assert len(_manifest(app)["faculty"]) == 1

    html = client.post(DETAILS, data={**_details_form(client), "action": "add-faculty"}).data.decode()
    data = as_dict(form_fields(html, DETAILS))
    data["faculty-1-name"] = ["Dr Half"]
    bad = client.post(DETAILS, data={**data, "action": "save"})
    assert bad.status_code == 400
    page = bad.data.decode()
    assert "required" in _error(page, "faculty-1-disclosure")
    assert 'value="Dr Half"' in page  # kept on the validation error
    assert len(_manifest(app)["faculty"]) == 1


def test_remove_and_move_faculty_rows(app, client, auth):
    auth.login("educator")
    _new_course(client)
    html = client.post(DETAILS, data={**_details_form(client), "action": "add-faculty"}).data.decode()
    data = as_dict(form_fields(html, DETAILS))
    data.update({"faculty-1-name": ["Second"], "faculty-1-disclosure": ["None."]})
    moved = client.post(DETAILS, data={**data, "action": "up-faculty-1"}).data.decode()
    data = as_dict(form_fields(moved, DETAILS))
    assert data["faculty-0-name"] == ["Second"] and data["faculty-1-name"] == ["Course author"]
    assert client.post(DETAILS, data={**data, "action": "save"}).status_code == 302
    assert [f["name"] for f in _manifest(app)["faculty"]] == ["Second", "Course author"]

    data = _details_form(client)
    data["faculty-0-remove"] = ["y"]
    assert client.post(DETAILS, data={**data, "action": "save"}).status_code == 302
    assert [f["name"] for f in _manifest(app)["faculty"]] == ["Course author"]

    data = _details_form(client)
    data["faculty-0-remove"] = ["y"]
    bad = client.post(DETAILS, data={**data, "action": "save"})
    assert bad.status_code == 400
    assert "at least one faculty member" in _error(bad.data.decode(), "faculty")


def test_references_rows_and_validator_problems_next_to_the_row(app, client, auth):
    auth.login("educator")
    _new_course(client)
    html = client.post(DETAILS, data={**_details_form(client), "action": "add-references"}).data.decode()
    data = as_dict(form_fields(html, DETAILS))
    data.update(
        {"references-0-key": ["smith2024"], "references-0-citation": ["Smith J. Gene therapy. 2024."]}
    )
    data["references-0-doi"] = ["not-a-doi"]
    bad = client.post(DETAILS, data={**data, "action": "save"})
    assert bad.status_code == 400 and "look like a DOI" in _error(bad.data.decode(), "references-0-doi")
    assert "references" not in _manifest(app)  # nothing half-saved
    data["references-0-doi"] = ["10.1056/NEJMoa1707447"]
    assert client.post(DETAILS, data={**data, "action": "save"}).status_code == 302
    assert _manifest(app)["references"] == [
        {"key": "smith2024", "citation": "Smith J. Gene therapy. 2024.", "doi": "10.1056/NEJMoa1707447"}
    ]

    data = _details_form(client)
    data["references-0-key"] = ["bad key!"]
    bad = client.post(DETAILS, data={**data, "action": "save"})
    assert bad.status_code == 400 and "letters, digits" in _error(bad.data.decode(), "references-0-key")


def test_completion_policy_fields_use_the_courses_quizzes(app, client, auth):
    auth.login("educator")
    _new_course(client)
    _add_quiz(client, kind="final", key="final")
    _add_quiz(client, kind="survey", key="evaluation")
    html = client.get(DETAILS).data.decode()
    assert '<option value="final">Check (final, final)</option>' in html
    data = as_dict(form_fields(html, DETAILS))
    data.update(
        {
            "completion-require_quizzes": ["final"],
            "completion-final_quiz": ["final"],
            "completion-evaluation": ["evaluation"],
            "completion-min_minutes": ["30"],
        }
    )
    data.pop("completion-gated", None)  # unticked
    assert client.post(DETAILS, data={**data, "action": "save"}).status_code == 302
    assert _manifest(app)["completion"] == {
        "require_all_lessons": True,
        "require_quizzes": "final",
        "final_quiz": "final",
        "evaluation": "evaluation",
        "gated": False,
        "min_minutes": 30,
    }
    data = _details_form(client)
    data["completion-final_quiz"] = ["evaluation"]  # not a final: the validator says so, next to the field
    assert client.post(DETAILS, data={**data, "action": "save"}).status_code == 302
    page = client.get(DETAILS).data.decode()
    assert "must have kind" in _error(page, "completion-final_quiz").replace("&#34;", '"')

    data = _details_form(client)
    data["completion-require_quizzes"] = ["chosen"]
    bad = client.post(DETAILS, data={**data, "action": "save"})
    assert bad.status_code == 400 and "tick at least one quiz" in _error(
        bad.data.decode(), "completion-chosen"
    )
    data["completion-chosen"] = ["final"]
    assert client.post(DETAILS, data={**data, "action": "save"}).status_code == 302
    assert _manifest(app)["completion"]["require_quizzes"] == ["final"]


def test_specialties_come_from_the_controlled_list(app, client, auth):
    auth.login("educator")
    _new_course(client)
    data = _details_form(client)
    data["specialties"] = ["Oncology", "Pharmacy"]
    assert client.post(DETAILS, data={**data, "action": "save"}).status_code == 302
    assert _manifest(app)["specialties"] == ["Oncology", "Pharmacy"]
    data["specialties"] = ["Made-up specialty"]
    data["base_hash"] = [file_hash(_draft_files(app, "my-course")["course.toml"])]
    bad = client.post(DETAILS, data={**data, "action": "save"})
    assert bad.status_code == 400 and 'id="specialties-error"' in bad.data.decode()


def test_two_educators_saving_details_both_versions_are_shown(app, client, auth):
    auth.login("educator")
    _new_course(client)
    mine = _details_form(client)
    theirs = dict(mine)
    theirs["title"] = ["Their title"]
    assert client.post(DETAILS, data={**theirs, "action": "save"}).status_code == 302
    mine["title"] = ["My title"]
    clash = client.post(DETAILS, data={**mine, "action": "save"})
    assert clash.status_code == 409
    html = clash.data.decode()
    assert 'value="My title"' in html and "The version saved by someone else" in html
    assert "Their title" in html.split("The version saved by someone else", 1)[1]
    assert _manifest(app)["title"] == "Their title"
    again = as_dict(form_fields(html, DETAILS))  # base_hash now theirs: saving again is deliberate
    assert client.post(DETAILS, data={**again, "action": "save"}).status_code == 302
    assert _manifest(app)["title"] == "My title"


# -- quiz settings ----------------------------------------------------------------------------------------


def _settings(client, path: str) -> dict[str, list[str]]:
    page = client.get(f"/author/my-course/quiz?path={path}")
    assert page.status_code == 200
    return as_dict(form_fields(page.data.decode(), "/author/my-course/quiz/settings"))


def test_quiz_settings_form_writes_settings_and_open_close_in_the_site_zone(app, client, auth):
    auth.login("educator")
    _new_course(client)
    path = _add_quiz(client)
    page = client.get(f"/author/my-course/quiz?path={path}").data.decode()
    assert 'type="datetime-local"' in page and "Europe/Berlin" in page and "(TOML)" not in page
    data = _settings(client, path)
    data.update(
        {
            "pass_mark": ["75"],
            "max_attempts": ["3"],
            "time_limit_minutes": ["20"],
            "questions_per_page": ["5"],
            "navigation": ["one_page"],
            "review": ["score"],
            "grading_method": ["latest"],
            "shuffle_questions": ["y"],
            "opens_at": ["2027-03-01T09:00"],  # winter: CET, +01:00
            "closes_at": ["2027-07-01T17:30"],  # summer: CEST, +02:00
        }
    )
    saved = client.post(f"/author/my-course/quiz/settings?path={path}", data=data)
    assert saved.status_code == 302, saved.data[-3000:]
    text = _draft_files(app, "my-course")[path].decode()
    assert "opens_at = 2027-03-01T09:00:00+01:00" in text
    assert "closes_at = 2027-07-01T17:30:00+02:00" in text
    quiz = tomllib.loads(text)
    assert quiz["opens_at"] == datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    assert quiz["closes_at"].utcoffset() == timedelta(hours=2)
    assert quiz["pass_mark"] == 75 and quiz["max_attempts"] == 3 and quiz["shuffle_questions"] is True
    assert (
        quiz["review"] == "score" and quiz["questions_per_page"] == 5 and quiz["grading_method"] == "latest"
    )
    assert "cooldown_minutes" not in quiz and "draw" not in quiz  # left empty: left out
    shown = _settings(client, path)  # shown back as the site's wall-clock time
    assert shown["opens_at"] == ["2027-03-01T09:00"] and shown["closes_at"] == ["2027-07-01T17:30"]


def test_quiz_settings_errors_next_to_the_field(app, client, auth):
    auth.login("educator")
    _new_course(client)
    path = _add_quiz(client)
    url = f"/author/my-course/quiz/settings?path={path}"
    data = _settings(client, path)
    bad = client.post(url, data={**data, "pass_mark": ["150"], "max_attempts": ["lots"]})
    assert bad.status_code == 400
    html = bad.data.decode()
    assert _error(html, "pass_mark") and _error(html, "max_attempts") and 'value="lots"' in html
    backwards = client.post(
        url, data={**data, "opens_at": ["2027-03-02T09:00"], "closes_at": ["2027-03-01T09:00"]}
    )
    assert "must be after the opening time" in _error(backwards.data.decode(), "closes_at")
    skipped = client.post(url, data={**data, "opens_at": ["2027-03-28T02:30"]})  # clocks go forward
    assert skipped.status_code == 400 and "does not exist in Europe/Berlin" in _error(
        skipped.data.decode(), "opens_at"
    )
    ancient = client.post(url, data={**data, "opens_at": ["0001-01-01T00:00"]})
    assert ancient.status_code == 400 and "year between" in _error(ancient.data.decode(), "opens_at")
    empty_title = client.post(url, data={**data, "title": [""]})
    assert "required" in _error(empty_title.data.decode(), "title")
    # a validator problem (lockout without sets) is shown next to its field once saved
    assert client.post(url, data={**data, "lockout_hours": ["4"]}).status_code == 302
    page = client.get(f"/author/my-course/quiz?path={path}").data.decode()
    assert "attempts_per_set" in _error(page, "lockout_hours").replace("&#34;", '"')


def test_quiz_settings_conflict_shows_both_versions(app, client, auth):
    auth.login("educator")
    _new_course(client)
    path = _add_quiz(client)
    url = f"/author/my-course/quiz/settings?path={path}"
    mine = _settings(client, path)
    assert client.post(url, data={**mine, "pass_mark": ["60"]}).status_code == 302
    clash = client.post(url, data={**mine, "pass_mark": ["90"]})
    assert clash.status_code == 409
    html = clash.data.decode()
    assert 'value="90"' in html and "pass_mark = 60" in html.split("The version saved by someone else", 1)[1]
    assert tomllib.loads(_draft_files(app, "my-course")[path].decode())["pass_mark"] == 60

"""The declared package format: the committed JSON Schema is current, agrees with the loader and the
question types, and every bundled package validates against it."""

from __future__ import annotations

import json
import tomllib
from datetime import date, datetime
from pathlib import Path

import jsonschema
import pytest

from lms.coursepacks import schema
from lms.coursepacks.manifest import QuizSettings
from lms.qtypes import BUILTIN_TYPES
from lms.qtypes.base import COMMON_FIELDS

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "course.schema.json"


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def test_committed_schema_is_current(app):
    result = app.test_cli_runner().invoke(args=["courses", "schema"])
    assert result.exit_code == 0
    assert json.loads(result.output) == json.loads(COMMITTED.read_text("utf-8")), (
        "docs/course.schema.json is stale: run flask --app wsgi courses schema -o docs/course.schema.json"
    )
    assert result.output == COMMITTED.read_text("utf-8")


def test_declaration_agrees_with_the_loader_and_the_question_types():
    # every quiz setting is declared (the loader builds QuizSettings from the declared ones only)
    quiz_own = {"id", "title", "kind", "intro", "questions"}
    assert set(schema.QUIZ) - quiz_own == set(QuizSettings.__dataclass_fields__)
    assert set(schema.COMMON_QUESTION) == set(COMMON_FIELDS)
    builtins = {t.name: t for t in BUILTIN_TYPES}
    assert set(schema.QUESTION_TYPES) == set(builtins)
    for name, qtype in builtins.items():
        assert set(schema.QUESTION_TYPES[name]) == set(qtype.fields), name


def test_schema_is_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(schema.json_schema())


@pytest.mark.parametrize(
    "folder", sorted(p for p in (ROOT / "courses").iterdir() if p.is_dir()), ids=lambda p: p.name
)
def test_bundled_packages_validate_against_the_schema(folder):
    doc = schema.json_schema()
    validator = jsonschema.Draft202012Validator(doc, format_checker=jsonschema.FormatChecker())
    manifest = _jsonable(tomllib.loads((folder / "course.toml").read_text("utf-8")))
    assert [e.message for e in validator.iter_errors(manifest)] == []
    quiz_schema = {**doc["$defs"]["quiz"], "$defs": doc["$defs"]}
    quiz_validator = jsonschema.Draft202012Validator(quiz_schema)
    for path in sorted((folder / "quizzes").glob("*.toml")):
        quiz = _jsonable(tomllib.loads(path.read_text("utf-8")))
        assert [e.message for e in quiz_validator.iter_errors(quiz)] == [], path.name


def test_schema_refuses_what_the_loader_refuses():
    validator = jsonschema.Draft202012Validator(schema.json_schema())
    errors = list(validator.iter_errors({"slug": "Bad Slug", "colour": "red"}))
    messages = " ".join(e.message for e in errors)
    assert "'Bad Slug' does not match" in messages and "'colour' was unexpected" in messages


# -- the declaration drives the checks (schema.check) ------------------------------------------------------

DEMO = {
    "slug": schema.F({"type": "string", "pattern": schema.SLUG_PATTERN}, True),
    "minutes": schema.integer(minimum=1, required=True),
    "mark": schema.number(high=100),
    "kind": schema.choice(("quiz", "final")),
    "shuffle": schema.boolean(),
    "day": schema.day(),
    "opens": schema.F({"type": "string", "format": "date-time"}),
    "words": schema.texts(required=True),
    "credit": schema.table({"hours": schema.number(required=True)}),
    "people": schema.tables({"name": schema.text(required=True), "role": schema.text()}),
}


def _checked(table, **options):
    problems: list[str] = []
    values = schema.check(
        table, DEMO, lambda message, where: problems.append(f"{where}|{message}"), **options
    )
    return values, problems


def test_check_returns_cleaned_values_of_a_valid_table():
    values, problems = _checked(
        {
            "slug": " a-b ",
            "minutes": 3,
            "mark": 50,
            "kind": "final",
            "shuffle": False,
            "day": date(2026, 12, 1),
            "words": [" x "],
            "credit": {"hours": 1},
            "people": [{"name": " Ana "}],
        }
    )
    assert problems == []
    assert values == {
        "slug": "a-b",
        "minutes": 3,
        "mark": 50.0,
        "kind": "final",
        "shuffle": False,
        "day": date(2026, 12, 1),
        "words": ["x"],
        "credit": {"hours": 1.0},
        "people": [{"name": "Ana"}],
    }
    assert isinstance(values["mark"], float)  # 50 and 50.0 are one value (quiz hashes stay the same)


def test_check_reports_every_problem_with_the_table_it_is_in_and_drops_the_bad_values():
    values, problems = _checked(
        {
            "slug": "Bad Slug",
            "minutes": 0,
            "mark": "lots",
            "kind": "exam",
            "shuffle": "no",
            "day": datetime(2026, 12, 1, 9, 0),
            "opens": date(2026, 12, 1),
            "words": [],
            "credit": {"hours": True, "bonus": 1},
            "people": [{"role": "x"}, "Bob"],
            "colour": "red",
        }
    )
    assert problems == [
        '|unknown field "colour"',
        '|"slug" must use lower-case letters, digits and single hyphens, not "Bad Slug"',
        '|"minutes" must be a whole number ≥ 1, not 0',
        "|\"mark\" must be a number from 0 to 100, not 'lots'",
        "|\"kind\" must be one of quiz, final, not 'exam'",
        "|\"shuffle\" must be true or false, not 'no'",
        '|"day" must be a date such as 2026-11-01, not 2026-12-01T09:00:00',
        '|"opens" must be a date and time such as 2026-12-01T09:00:00 (in the site\'s time zone) or '
        "2026-12-01T09:00:00+01:00, not 2026-12-01",
        '|"words" must not be empty',
        'credit|unknown field "bonus"',
        'credit|"hours" must be a number ≥ 0, not True',
        'people 1|"name" is required',
        "people 2|must be a table",
    ]
    assert values == {"credit": {}, "people": [{"role": "x"}]}


def test_check_names_what_a_missing_field_or_table_needs():
    assert _checked({"credit": 3})[1] == [
        '|"slug" is required',
        '|"minutes" is required',
        '|"words" is required (a list of texts)',
        "|[credit] must be a table (hours)",
    ]
    needed = {
        "dates": schema.table({"release": schema.day(required=True)}, required=True),
        "faculty": schema.tables(
            {"name": schema.text(required=True), "disclosure": schema.text()}, required=True
        ),
    }
    problems: list[str] = []
    schema.check({}, needed, lambda message, where: problems.append(message))
    assert problems == [
        "[dates] table is required (release)",
        "[[faculty]] must list at least one table (each with name)",
    ]


def test_check_leaves_keys_to_the_caller_or_to_open_tables():
    base = {"slug": "a", "minutes": 1, "words": ["w"]}
    assert _checked({**base, "questions": []}, others={"questions"})[1] == []
    assert _checked({**base, "answer": "B"}, open_=True)[1] == []
    assert _checked({**base, "answer": "B"})[1] == ['|unknown field "answer"']

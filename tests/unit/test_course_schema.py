"""The declared package format: the committed JSON Schema is current, agrees with the loader and the
question types, and every bundled package validates against it."""

from __future__ import annotations

import json
import tomllib
from datetime import date
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

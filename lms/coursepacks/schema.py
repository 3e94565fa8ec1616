"""The course package format, declared once as data, and written out as JSON Schema for authors' editors.

``COURSE``, ``QUIZ`` and ``QUESTION_TYPES`` describe every field of ``course.toml``, the quiz files and the
built-in question types (type, required, allowed values, meaning). ``json_schema()`` turns the description
into JSON Schema (draft 2020-12; ``flask --app wsgi courses schema -o docs/course.schema.json``); tests check
that the loader's field sets agree with it and that every bundled package validates against it.

What is still hand-written: ``loader.py`` checks each field with its own code (with file/field/line messages
and cross-field rules the schema cannot express: time budgets, references used, draws and pools). Driving
those checks from this description is the next step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lms.coursepacks.manifest import GRADING_METHODS, NAVIGATION, PROFESSION_KEYS, QUIZ_KINDS, REVIEW_POLICIES


@dataclass(frozen=True)
class F:
    """One field: its JSON Schema (as a mapping) and whether it is required."""

    schema: dict[str, Any]
    required: bool = False
    doc: str = ""


def text(doc: str = "", required: bool = False) -> F:
    return F({"type": "string", "minLength": 1 if required else 0}, required, doc)


def integer(doc: str = "", minimum: int = 0, required: bool = False) -> F:
    return F({"type": "integer", "minimum": minimum}, required, doc)


def number(doc: str = "", low: float = 0, high: float | None = None, required: bool = False) -> F:
    schema: dict[str, Any] = {"type": "number", "minimum": low}
    if high is not None:
        schema["maximum"] = high
    return F(schema, required, doc)


def boolean(doc: str = "") -> F:
    return F({"type": "boolean"}, False, doc)


def choice(values: tuple[str, ...], doc: str = "", required: bool = False) -> F:
    return F({"enum": list(values)}, required, doc)


def day(doc: str = "", required: bool = False) -> F:
    return F({"type": "string", "format": "date"}, required, doc)  # a TOML date (2026-11-01)


def texts(doc: str = "", required: bool = False, values: tuple[str, ...] | None = None) -> F:
    items: dict[str, Any] = {"enum": list(values)} if values else {"type": "string", "minLength": 1}
    return F({"type": "array", "items": items, "minItems": 1 if required else 0}, required, doc)


def table(fields: dict[str, F], doc: str = "", required: bool = False) -> F:
    return F(_object(fields), required, doc)


def tables(fields: dict[str, F], doc: str = "", required: bool = False) -> F:
    return F({"type": "array", "items": _object(fields), "minItems": 1 if required else 0}, required, doc)


def anything(doc: str = "", required: bool = False) -> F:
    return F({}, required, doc)


def _object(fields: dict[str, F], open_: bool = False) -> dict[str, Any]:
    props = {}
    for name, f in fields.items():
        props[name] = {**f.schema, **({"description": f.doc} if f.doc else {})}
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": open_}
    required = [name for name, f in fields.items() if f.required]
    if required:
        out["required"] = required
    return out


KEY_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$"

COURSE: dict[str, F] = {
    "slug": F({"type": "string", "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$"}, True, "The course's address."),
    "title": text("Course title.", required=True),
    "edition": F({"type": ["string", "number"]}, True, "Edition label, e.g. 2026.1."),
    "summary": text("What the learner will gain.", required=True),
    "audience": texts("Professions the activity is for.", values=PROFESSION_KEYS),
    "specialties": texts("Specialties, for the catalog filter.", required=True),
    "objectives": texts("Learning objectives.", required=True),
    "estimated_minutes": integer("Time to complete, in minutes.", minimum=1, required=True),
    "status": choice(("published", "draft"), "draft keeps it out of the catalog."),
    "how_to_participate": text("Instructions shown before enrolment."),
    "needs": text("The practice gap the activity addresses."),
    "commercial_support": text("Commercial support statement."),
    "credit": table(
        {
            "hours": number(
                "Credit hours (at most the reading time, in quarter hours).", high=100, required=True
            ),
            "accredited": boolean("Designates accredited credit (needs type and statement)."),
            "type": text("Credit type, e.g. AMA PRA Category 1 Credit™."),
            "statement": text("Designation statement ({provider}, {credits} are filled in)."),
            "accreditation": text("Accreditation statement."),
        },
        "Credit offered.",
        required=True,
    ),
    "dates": table(
        {
            "release": day("First day of credit.", required=True),
            "last_review": day("Last content review (overdue after 12 months).", required=True),
            "expiry": day("Last day of credit.", required=True),
        },
        required=True,
    ),
    "faculty": tables(
        {
            "name": text(required=True),
            "role": text(),
            "credentials": text(),
            "disclosure": text("Financial relationships (or none).", required=True),
        },
        "Faculty and their disclosures.",
        required=True,
    ),
    "references": tables(
        {
            "key": F({"type": "string", "pattern": KEY_PATTERN}, True, "Cited in lessons as [@key]."),
            "citation": text(required=True),
            "doi": text(),
            "pmid": text(),
            "url": text(),
        }
    ),
    "completion": table(
        {
            "require_all_lessons": boolean(),
            "require_quizzes": anything('"all", "final", "none" or a list of quiz ids.'),
            "final_quiz": text("Id of the final assessment."),
            "evaluation": text("Id of the evaluation survey."),
            "gated": boolean("Final and evaluation open only after everything else."),
            "min_minutes": integer("Minimum minutes spent before a claim."),
        }
    ),
    "certificate": table({"validity_months": integer("0: the certificate does not expire.")}),
    "modules": tables(
        {
            "id": F({"type": "string", "pattern": KEY_PATTERN}, True),
            "title": text(required=True),
            "summary": text(),
            "items": texts("Lesson (lessons/*.md) and quiz (quizzes/*.toml) files, in order.", required=True),
        },
        required=True,
    ),
}

QUIZ: dict[str, F] = {
    "id": F({"type": "string", "pattern": KEY_PATTERN}, False, "Default: the file name."),
    "title": text(required=True),
    "kind": choice(QUIZ_KINDS),
    "intro": text("Markdown shown before the questions."),
    "pass_mark": number("Percent needed to pass.", high=100),
    "max_attempts": integer("0: unlimited."),
    "attempts_per_set": integer(),
    "lockout_hours": integer(),
    "cooldown_minutes": integer(),
    "time_limit_minutes": integer("0: no time limit."),
    "shuffle_questions": boolean(),
    "shuffle_options": boolean(),
    "draw": integer("Questions drawn per attempt (0: all)."),
    "grading_method": choice(GRADING_METHODS),
    "review": choice(REVIEW_POLICIES),
    "navigation": choice(NAVIGATION),
    "questions_per_page": integer("Questions per page with one_page navigation (0: all on one page)."),
    "opens_at": F(
        {"type": "string", "format": "date-time"},
        False,
        "First moment an attempt may start (a TOML date-time; without an offset, in the site's time zone).",
    ),
    "closes_at": F(
        {"type": "string", "format": "date-time"},
        False,
        "After this moment no attempt starts and open attempts are submitted (same form as opens_at).",
    ),
    "questions": anything("The questions.", required=True),  # replaced by the question schema below
}

COMMON_QUESTION: dict[str, F] = {
    "id": F({"type": "string", "pattern": KEY_PATTERN}, True),
    "type": text(required=True),
    "prompt": text("Markdown.", required=True),
    "points": number(),
    "explanation": text("Markdown, shown after answering."),
    "reference": text("A reference key."),
    "title": text(),
    "tags": texts(),
    "idnumber": text(),
}

_OPTIONS = F(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"text": {"type": "string"}, "feedback": {"type": "string"}},
            "required": ["text"],
            "additionalProperties": False,
        },
        "minItems": 2,
    },
    True,
)
_LETTER = {"type": "string", "pattern": "^[A-Z]$"}

#: the built-in question types' own fields (their ``fields``); plugin types are open objects
QUESTION_TYPES: dict[str, dict[str, F]] = {
    "single_choice": {"options": _OPTIONS, "answer": F(_LETTER, True, "Letter of the correct option.")},
    "multiple_response": {
        "options": _OPTIONS,
        "answers": F({"type": "array", "items": _LETTER, "minItems": 1}, True),
        "negative_marking": boolean(),
    },
    "true_false": {"answer": F({"type": "boolean"}, True), "feedback_true": text(), "feedback_false": text()},
    "numeric": {
        "answer": number(low=float("-inf")),
        "tolerance": number(),
        "range": F({"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}),
        "answers": F({"type": "array", "items": {"type": "object"}}),
        "unit": text(),
        "feedback_correct": text(),
        "feedback_incorrect": text(),
        "first_match": boolean(),
    },
    "short_answer": {
        "accepted": F({"type": "array", "items": {}}, True),
        "feedback_correct": text(),
        "feedback_incorrect": text(),
        "max_length": integer(minimum=1),
        "first_match": boolean(),
    },
    "ordering": {
        "items": texts(required=True),
        "feedback_correct": text(),
        "feedback_incorrect": text(),
    },
    "matching": {
        "pairs": F({"type": "array", "items": {"type": "object"}, "minItems": 2}, True),
        "distractors": texts(),
        "feedback_correct": text(),
        "feedback_incorrect": text(),
    },
    "likert": {"scale": anything(), "required": boolean()},
    "free_text": {"max_length": integer(minimum=1), "required": boolean()},
}


def _number_schema(f: F) -> dict[str, Any]:
    # JSON has no -infinity: drop a minimum that is not finite
    schema = dict(f.schema)
    if schema.get("minimum") == float("-inf"):
        schema.pop("minimum")
    return schema


def question_schema() -> dict[str, Any]:
    variants = []
    for name, own in sorted(QUESTION_TYPES.items()):
        fields = {**COMMON_QUESTION, **{k: F(_number_schema(v), v.required, v.doc) for k, v in own.items()}}
        fields["type"] = F({"const": name}, True)
        variants.append(_object(fields))
    plugin = {
        "type": "object",
        "description": "A question type from an installed plugin: its own fields are checked by the plugin.",
        "properties": {"type": {"type": "string", "not": {"enum": sorted(QUESTION_TYPES)}}},
        "required": ["id", "type", "prompt"],
        "additionalProperties": True,
    }
    return {"oneOf": [*variants, plugin]}


def json_schema() -> dict[str, Any]:
    """course.toml and quiz files as one JSON Schema document (quizzes under ``$defs``)."""
    course = _object(COURSE)
    quiz = _object(QUIZ)
    quiz["properties"]["questions"] = {"type": "array", "items": {"$ref": "#/$defs/question"}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://helix-lms.example/schemas/course.schema.json",
        "title": "Helix LMS course package: course.toml",
        "description": "Quiz files (quizzes/*.toml) follow #/$defs/quiz. Generated by "
        "`flask --app wsgi courses schema`; do not edit by hand.",
        **course,
        "$defs": {"quiz": quiz, "question": question_schema()},
    }

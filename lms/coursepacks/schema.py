"""The course package format, declared once as data: it drives the loader's checks and the JSON Schema.

``COURSE``, ``QUIZ`` and ``COMMON_QUESTION`` describe every field of ``course.toml``, the quiz files and the
fields every question has (type, required, allowed values, bounds, pattern, meaning); ``QUESTION_TYPES``
describes the built-in question types' own fields for the docs (their checks stay in the question-type
plugins, which also check plugin types' fields). Two consumers read the same declaration:

- ``check()`` walks a parsed TOML table against it and reports every problem with the field's name and the
  table it sits in (``credit``, ``faculty 2``); the loader (``loader.py``) builds its frozen dataclasses from
  the cleaned values it returns and keeps only the rules a schema cannot express (time budgets, references
  used, draws and pools, completion ids, closes after opens).
- ``json_schema()`` writes it as JSON Schema (draft 2020-12; ``flask --app wsgi courses schema -o
  docs/course.schema.json``) for authors' editors; tests check the committed file is current and that every
  bundled package validates against it.

``check()`` understands exactly the part of JSON Schema the declaration uses: ``type`` (one or a list),
``enum``, ``minimum``/``maximum``, ``minLength``/``maxLength`` (on the stripped text), ``pattern``,
``format`` ``date`` and ``date-time`` (TOML dates and date-times), arrays (``items``, ``minItems``,
``maxItems``) and tables (``properties``, ``required``, ``additionalProperties``). A field declared with
``anything()`` is checked by its caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
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
SLUG_PATTERN = "^[a-z0-9]+(?:-[a-z0-9]+)*$"
DOI_PATTERN = "^(10\\.[0-9]{4,9}/\\S+)?$"
PMID_PATTERN = "^[0-9]*$"
URL_PATTERN = "^(https://.*)?$"
#: how a problem message says what a pattern wants (patterns are also written into the JSON Schema)
PATTERN_WORDS = {
    KEY_PATTERN: 'may use letters, digits, "_" and "-" only',  # (up to 80, not starting with _ or -)
    SLUG_PATTERN: "must use lower-case letters, digits and single hyphens",
    DOI_PATTERN: "must look like a DOI (10.xxxx/...)",
    PMID_PATTERN: "must be digits only",
    URL_PATTERN: "must start with https://",
}

COURSE: dict[str, F] = {
    "slug": F({"type": "string", "pattern": SLUG_PATTERN}, True, "The course's address."),
    "title": text("Course title.", required=True),
    "edition": F({"type": ["string", "number"], "minLength": 1}, True, "Edition label, e.g. 2026.1."),
    "summary": text("What the learner will gain.", required=True),
    "audience": texts("Professions the activity is for.", required=True, values=PROFESSION_KEYS),
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
            "doi": F({"type": "string", "pattern": DOI_PATTERN}),
            "pmid": F({"type": ["string", "integer"], "pattern": PMID_PATTERN, "minimum": 0}),
            "url": F({"type": "string", "pattern": URL_PATTERN}),
        }
    ),
    "completion": table(
        {
            "require_all_lessons": boolean(),
            "require_quizzes": choice(
                ("all", "final", "none"), 'Quizzes to pass: "all" graded ones, only the "final", or "none".'
            ),
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
    "id": F({"type": "string", "pattern": KEY_PATTERN}, False, "Default: q1, q2, ... by position."),
    "type": text(required=True),
    "prompt": text("Markdown.", required=True),
    "points": number(low=0.01, high=1000),
    "explanation": text("Markdown, shown after answering."),
    "reference": text("A reference key."),
    "title": text(),
    "tags": F({"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 50}}),
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
        "required": [name for name, f in COMMON_QUESTION.items() if f.required],
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


# -- checking a parsed table against the declaration ------------------------------------------------------

#: ``report(message, where)``: one problem in the table at ``where`` ("" for the file's top level)
Report = Callable[[str, str], None]


def check(
    table: Mapping[str, Any],
    fields: Mapping[str, F],
    report: Report,
    where: str = "",
    *,
    others: Collection[str] = (),
    open_: bool = False,
) -> dict[str, Any]:
    """Check a parsed TOML table against ``fields``; report every problem; return the valid values.

    The result holds the fields that are present and valid, cleaned (texts stripped, numbers as float,
    nested tables checked and cleaned the same way, entries that are not tables left out of arrays of
    tables); a field left out is either absent or reported. ``others`` are keys the caller checks itself
    (not reported as unknown); ``open_`` accepts any other key (question types check their own fields).
    """
    return _table(table, _object(dict(fields), open_), report, where, others)


def _table(
    value: Mapping[str, Any],
    schema: Mapping[str, Any],
    report: Report,
    where: str,
    others: Collection[str] = (),
) -> dict[str, Any]:
    props: Mapping[str, Any] = schema.get("properties", {})
    if schema.get("additionalProperties", True) is False:
        for extra in sorted(set(value) - set(props) - set(others)):
            report(f'unknown field "{extra}"', where)
    required = set(schema.get("required", ()))
    out: dict[str, Any] = {}
    for name, sub in props.items():
        if value.get(name) is None:  # TOML has no null; other callers (forms) may pass None for "unset"
            if name in required:
                report(_missing(name, sub), where)
            continue
        if not _checked(sub):  # anything(): the caller checks it
            out[name] = value[name]
            continue
        ok, cleaned = _value(name, value[name], sub, report, where)
        if ok:
            out[name] = cleaned
    return out


def _checked(schema: Mapping[str, Any]) -> bool:
    return any(k in schema for k in ("type", "enum", "const", "format"))


def _types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def _child(where: str, name: str) -> str:
    return f"{where}, {name}" if where else name


def _value(name: str, value: Any, schema: Mapping[str, Any], report: Report, where: str) -> tuple[bool, Any]:
    types = _types(schema)
    if types == ["object"]:
        if not isinstance(value, dict):
            report(f"[{name}] must be a table ({', '.join(schema.get('properties', {}))})", where)
            return False, None
        return True, _table(value, schema, report, _child(where, name))
    if types == ["array"]:
        return _array(name, value, schema, report, where)
    if "enum" in schema:
        if isinstance(value, bool) or value not in schema["enum"]:
            choices = ", ".join(str(v) for v in schema["enum"])
            report(f'"{name}" must be one of {choices}, not {_shown(value)}', where)
            return False, None
        return True, value
    if schema.get("format") == "date-time" and isinstance(value, str):
        # JSON (and an exported or form-built table) carries a date-time as ISO text: read it as one
        value = _iso_datetime(value) or value
    if not _scalar_type_ok(value, schema, types):
        report(_wrong(name, value, schema, types), where)
        return False, None
    if isinstance(value, str):
        text = value.strip()
        if len(text) < schema.get("minLength", 0):
            report(
                f'"{name}" must be non-empty text'
                if schema["minLength"] == 1
                else f'"{name}" must be at least {schema["minLength"]} characters',
                where,
            )
            return False, None
        if len(text) > schema.get("maxLength", len(text)):
            report(f'"{name}" must be at most {schema["maxLength"]} characters', where)
            return False, None
        pattern = schema.get("pattern")
        if pattern and not re.search(pattern, text):
            words = PATTERN_WORDS.get(pattern, f"must match {pattern}")
            report(f'"{name}" {words}, not "{text}"', where)
            return False, None
        return True, text
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not _in_bounds(value, schema):
        report(_wrong(name, value, schema, types), where)
        return False, None
    # a field that is only a number is read as float (its value is the same whether written 50 or 50.0)
    return True, float(value) if types == ["number"] else value


def _iso_datetime(text: str) -> datetime | None:
    if "T" not in text:
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return None


def _scalar_type_ok(value: Any, schema: Mapping[str, Any], types: list[str]) -> bool:
    fmt = schema.get("format")
    if fmt == "date":  # TOML dates arrive as date objects; a date-time is not a date here
        return isinstance(value, date) and not isinstance(value, datetime)
    if fmt == "date-time":
        return isinstance(value, datetime)
    if isinstance(value, bool):
        return "boolean" in types
    if isinstance(value, int):
        return "integer" in types or "number" in types
    if isinstance(value, float):
        return "number" in types
    return isinstance(value, str) and "string" in types


def _in_bounds(value: float, schema: Mapping[str, Any]) -> bool:
    return schema.get("minimum", float("-inf")) <= value <= schema.get("maximum", float("inf"))


def _bounds(schema: Mapping[str, Any]) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f" from {low:g} to {high:g}"
    if low is not None:
        return f" ≥ {low:g}"
    return f" ≤ {high:g}" if high is not None else ""


def _wrong(name: str, value: Any, schema: Mapping[str, Any], types: list[str]) -> str:
    shown = _shown(value)
    fmt = schema.get("format")
    if fmt == "date":
        return f'"{name}" must be a date such as 2026-11-01, not {shown}'
    if fmt == "date-time":
        return (
            f'"{name}" must be a date and time such as 2026-12-01T09:00:00 (in the site\'s time zone) or '
            f"2026-12-01T09:00:00+01:00, not {shown}"
        )
    if types == ["boolean"]:
        return f'"{name}" must be true or false, not {shown}'
    if types == ["integer"]:
        return f'"{name}" must be a whole number{_bounds(schema)}, not {shown}'
    if types == ["number"]:
        return f'"{name}" must be a number{_bounds(schema)}, not {shown}'
    if types == ["string"]:
        return f'"{name}" must be {"non-empty " if schema.get("minLength") else ""}text, not {shown}'
    words = {"string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false"}
    return f'"{name}" must be {" or ".join(words[t] for t in types)}, not {shown}'


def _array(name: str, value: Any, schema: Mapping[str, Any], report: Report, where: str) -> tuple[bool, Any]:
    items: Mapping[str, Any] = schema.get("items", {})
    low = schema.get("minItems", 0)
    if _types(items) == ["object"]:
        if not isinstance(value, list) or len(value) < low:
            report(
                _missing(name, schema) if isinstance(value, list) else f"[[{name}]] must be a list of tables",
                where,
            )
            return False, None
        entries = []
        for i, entry in enumerate(value, 1):
            at = _child(where, f"{name} {i}")
            if not isinstance(entry, dict):
                report("must be a table", at)
                continue
            entries.append(_table(entry, items, report, at))
        return True, entries
    if "enum" in items:
        if not isinstance(value, list):
            report(f'"{name}" must be a list of {", ".join(items["enum"])}, not {_shown(value)}', where)
            return False, None
        wrong = [v for v in value if isinstance(v, bool) or v not in items["enum"]]
        for v in wrong:
            report(f"{name} {_shown(v, quote=True)} is not one of {', '.join(items['enum'])}", where)
        ok = not wrong and _count_ok(name, value, schema, report, where)
        return ok, list(value) if ok else None
    if _types(items) == ["string"]:
        longest = items.get("maxLength")
        texts_ok = isinstance(value, list) and all(
            isinstance(v, str) and v.strip() and (longest is None or len(v.strip()) <= longest) for v in value
        )
        if not texts_ok:
            limit = f" of at most {longest} characters" if longest else ""
            report(f'"{name}" must be a list of non-empty texts{limit}', where)
            return False, None
        ok = _count_ok(name, value, schema, report, where)
        return ok, [v.strip() for v in value] if ok else None
    if not isinstance(value, list):
        report(f'"{name}" must be a list, not {_shown(value)}', where)
        return False, None
    if not _checked(items):
        return _count_ok(name, value, schema, report, where), list(value)
    results = [_value(f"{name} {i}", v, items, report, where) for i, v in enumerate(value, 1)]
    ok = all(r[0] for r in results) and _count_ok(name, value, schema, report, where)
    return ok, [r[1] for r in results] if ok else None


def _count_ok(name: str, value: list[Any], schema: Mapping[str, Any], report: Report, where: str) -> bool:
    low, high = schema.get("minItems", 0), schema.get("maxItems")
    if len(value) < low:
        report(f'"{name}" must not be empty' if low == 1 else f'"{name}" must list at least {low}', where)
        return False
    if high is not None and len(value) > high:
        report(f'"{name}" must list at most {high}', where)
        return False
    return True


def _missing(name: str, schema: Mapping[str, Any]) -> str:
    types = _types(schema)
    if types == ["object"]:
        return f"[{name}] table is required ({', '.join(schema.get('properties', {}))})"
    if types == ["array"]:
        items = schema.get("items", {})
        if _types(items) == ["object"]:
            needed = _and(list(items.get("required", ()))) or "its fields"
            return f"[[{name}]] must list at least one table (each with {needed})"
        return f'"{name}" is required (a list of texts)'
    if schema.get("format") == "date":
        return f'"{name}" is required (a date such as 2026-11-01)'
    return f'"{name}" is required'


def _and(words: list[str]) -> str:
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


def _shown(value: Any, quote: bool = False) -> str:
    """A value as a problem message quotes it (short; dates as written in TOML)."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    shown = f'"{value}"' if quote and isinstance(value, str) else repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."

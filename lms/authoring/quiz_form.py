"""The quiz settings form: a quiz file's settings as fields, generated from ``schema.QUIZ``.

Every setting the package format declares (except the id, which names the quiz, and the questions, edited
one by one) gets the input its JSON Schema type calls for. A setting left empty (or on "Default") is left out
of the file, so the loader's default applies and a file saved unchanged stays the same. Opening and closing
times are typed in the site's time zone (``LMS_TIMEZONE``) and written as TOML offset date-times
(``2027-03-01T09:00:00+01:00``), so the file means the same instant wherever it is read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import HiddenField

from lms.authoring import schema_fields as sf
from lms.coursepacks import schema
from lms.coursepacks.manifest import QuizSettings

#: settings not on this form: the id names the quiz (and its attempts), questions have their own pages
NOT_ON_FORM = ("id", "questions")
LABELS = {
    "title": "Title",
    "kind": "Kind",
    "intro": "Introduction shown before the questions (Markdown)",
    "pass_mark": "Pass mark (percent)",
    "max_attempts": "Attempts allowed",
    "attempts_per_set": "Attempts per set",
    "lockout_hours": "Lockout after a used-up set (hours)",
    "cooldown_minutes": "Wait between attempts (minutes)",
    "time_limit_minutes": "Time limit (minutes)",
    "shuffle_questions": "Shuffle the questions",
    "shuffle_options": "Shuffle the options",
    "draw": "Questions drawn per attempt",
    "grading_method": "Grading method (several attempts)",
    "review": "What learners see after submitting",
    "navigation": "Navigation",
    "questions_per_page": "Questions per page",
    "opens_at": "Opens at",
    "closes_at": "Closes at",
}
MULTILINE = {"intro"}
MOMENTS = ("opens_at", "closes_at")
_DEFAULTS = QuizSettings()


def _default_label(name: str) -> str:
    default = getattr(_DEFAULTS, name, None) if name != "kind" else "quiz"
    if name == "review":
        return "Default (answers; a final: after_pass)"
    return f"Default ({default})" if default is not None else "Default"


def _build() -> type[FlaskForm]:
    attrs: dict[str, Any] = {"base_hash": HiddenField()}
    for name, f in schema.QUIZ.items():
        if name in NOT_ON_FORM:
            continue
        attrs[name] = sf.field_for(
            name,
            f.schema,
            f.required,
            f.doc,
            label=LABELS.get(name),
            multiline=name in MULTILINE,
            default_label=_default_label(name),
        )
    return type("QuizSettingsForm", (FlaskForm,), attrs)


QuizSettingsForm = _build()


def field_names() -> list[str]:
    return [n for n in schema.QUIZ if n not in NOT_ON_FORM]


def _local(value: datetime, zone: ZoneInfo) -> datetime:
    """A file's date-time as the site's wall-clock time (a date-time without offset already is one)."""
    if value.tzinfo is None:
        return value
    return value.astimezone(zone).replace(tzinfo=None)


def to_offset(local: datetime, zone: ZoneInfo) -> datetime | None:
    """Wall-clock time in ``zone`` as an aware date-time; None if that time does not exist there (the hour
    skipped when clocks go forward)."""
    aware = local.replace(tzinfo=zone, second=0, microsecond=0)
    back = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    return aware if back == local.replace(second=0, microsecond=0) else None


def _moment_error(local: datetime, zone: ZoneInfo) -> tuple[datetime | None, str]:
    """(aware date-time, "") or (None, what is wrong) for a typed wall-clock time."""
    if not 2000 <= local.year <= 2200:
        return None, "give a year between 2000 and 2200"
    aware = to_offset(local, zone)
    if aware is None:
        return None, f"{local:%Y-%m-%d %H:%M} does not exist in {zone.key} (the clocks go forward)"
    return aware, ""


def form_data(doc: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in field_names():
        value = doc.get(name)
        if name in MOMENTS:
            if isinstance(value, str):  # the loader also accepts quoted ISO text
                try:
                    value = datetime.fromisoformat(value)
                except ValueError:
                    value = None
            data[name] = _local(value, zone) if isinstance(value, datetime) else None
        elif isinstance(schema.QUIZ[name].schema.get("enum"), list):
            data[name] = str(value) if value is not None else ""
        elif schema.QUIZ[name].schema.get("type") == "boolean":
            data[name] = bool(value) if value is not None else bool(getattr(_DEFAULTS, name, False))
        else:
            data[name] = value if value is not None else (None if name not in ("title", "intro") else "")
    return data


def apply(form: Any, doc: dict[str, Any], zone: ZoneInfo) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The quiz with the form's settings (unknown keys, the id and the questions kept), and per-field
    errors. Keys are written in the declaration's order."""
    errors: dict[str, list[str]] = {}
    settings: dict[str, Any] = {}
    for name in field_names():
        f = schema.QUIZ[name]
        value = getattr(form, name).data
        kind = f.schema.get("type")
        if name in MOMENTS:
            if value is None:
                continue
            aware, problem = _moment_error(value, zone)
            if aware is None:
                errors[name] = [problem]
                continue
            settings[name] = aware
        elif kind == "boolean":
            default = bool(getattr(_DEFAULTS, name, False))
            if name in doc or bool(value) != default:
                settings[name] = bool(value)
        elif value is None or (isinstance(value, str) and not value.strip()):
            if f.required:
                errors[name] = ["required"]
        elif isinstance(value, Decimal):
            settings[name] = int(value) if value == value.to_integral_value() else float(value)
        elif isinstance(value, str):
            settings[name] = value.replace("\r\n", "\n").strip()
        else:
            settings[name] = value
    if "opens_at" in settings and "closes_at" in settings and settings["closes_at"] <= settings["opens_at"]:
        errors.setdefault("closes_at", []).append("must be after the opening time")
    out: dict[str, Any] = {}
    if "id" in doc:
        out["id"] = doc["id"]
    out.update(settings)
    out.update({k: v for k, v in doc.items() if k not in schema.QUIZ})  # unknown keys: the validator says
    if "questions" in doc:
        out["questions"] = doc["questions"]
    return out, errors


def field_of(message: str, where: str) -> str | None:
    """The settings field a quiz-file problem names, if any."""
    names = field_names()
    if where in names:
        return where
    return next((name for name in names if f'"{name}"' in message), None)

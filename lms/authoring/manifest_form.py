"""The course description form: course.toml's fields as an educator sees them (not as TOML).

Scalars get their own inputs; lists of text are one item per line; faculty, references and the completion
policy keep a TOML box each (they are lists of tables). Saving rewrites course.toml (modules untouched); the
package validator's problems with course.toml are shown next to the field they name.
"""

from __future__ import annotations

import tomllib
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lms.authoring import tomlwrite
from lms.coursepacks.manifest import PROFESSION_KEYS, Problem
from lms.forms import select_choices

TOML_BOXES = {"faculty": "faculty", "references": "references", "completion": "completion"}


class ManifestForm(FlaskForm):
    base_hash = HiddenField()
    title = StringField("Title", validators=[DataRequired()])
    edition = StringField("Edition", validators=[DataRequired()], description="e.g. 2026.1")
    summary = TextAreaField("Summary", validators=[DataRequired()])
    audience = SelectMultipleField(
        "Audience",
        choices=select_choices((k, k.replace("_", " ").capitalize()) for k in PROFESSION_KEYS),
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
    specialties = TextAreaField("Specialties (one per line)")
    objectives = TextAreaField("Learning objectives (one per line)")
    estimated_minutes = IntegerField("Estimated minutes", validators=[DataRequired(), NumberRange(min=1)])
    how_to_participate = TextAreaField("How to participate", validators=[Optional()])
    credit_hours = DecimalField(
        "Credit hours", places=2, validators=[Optional(), NumberRange(min=0, max=100)]
    )
    accredited = BooleanField("Accredited activity (designates accredited credit)")
    credit_type = StringField("Credit type", validators=[Optional()])
    credit_statement = TextAreaField("Credit designation statement", validators=[Optional()])
    accreditation = TextAreaField("Accreditation statement", validators=[Optional()])
    release = DateField("Release date", validators=[DataRequired()])
    last_review = DateField("Last review", validators=[DataRequired()])
    expiry = DateField("Expiry (credit ends)", validators=[DataRequired()])
    validity_months = IntegerField("Certificate validity (months, 0 = no expiry)", validators=[Optional()])
    faculty = TextAreaField("Faculty and disclosures (TOML: [[faculty]] tables)")
    references = TextAreaField("References (TOML: [[references]] tables)")
    completion = TextAreaField("Completion policy (TOML: the [completion] table's lines)")


def _lines(items: Any) -> str:
    return "\n".join(str(i) for i in items) if isinstance(items, list) else ""


def form_data(m: dict[str, Any]) -> dict[str, Any]:
    credit = m.get("credit") if isinstance(m.get("credit"), dict) else {}
    dates = m.get("dates") if isinstance(m.get("dates"), dict) else {}
    cert = m.get("certificate") if isinstance(m.get("certificate"), dict) else {}

    def tables(name: str) -> str:
        rows = m.get(name)
        return tomlwrite.dumps({name: rows}).strip() if isinstance(rows, list) and rows else ""

    completion = m.get("completion")
    return {
        "title": m.get("title", ""),
        "edition": str(m.get("edition", "")),
        "summary": m.get("summary", ""),
        "audience": list(m.get("audience") or []),
        "specialties": _lines(m.get("specialties")),
        "objectives": _lines(m.get("objectives")),
        "estimated_minutes": m.get("estimated_minutes"),
        "how_to_participate": m.get("how_to_participate", ""),
        "credit_hours": credit.get("hours"),
        "accredited": bool(credit.get("accredited", False)),
        "credit_type": credit.get("type", ""),
        "credit_statement": credit.get("statement", ""),
        "accreditation": credit.get("accreditation", ""),
        "release": dates.get("release") if isinstance(dates.get("release"), date) else None,
        "last_review": dates.get("last_review") if isinstance(dates.get("last_review"), date) else None,
        "expiry": dates.get("expiry") if isinstance(dates.get("expiry"), date) else None,
        "validity_months": cert.get("validity_months"),
        "faculty": tables("faculty"),
        "references": tables("references"),
        "completion": tomlwrite.dumps(completion).strip() if isinstance(completion, dict) else "",
    }


def apply(form: ManifestForm, m: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """course.toml with the form's values (unknown keys and modules kept), and per-field parse errors."""
    errors: dict[str, list[str]] = {}
    out = dict(m)

    def text(value: str | None) -> str:
        return (value or "").replace("\r\n", "\n").strip()

    out["title"] = text(form.title.data)
    out["edition"] = text(form.edition.data)
    out["summary"] = text(form.summary.data)
    out["audience"] = list(form.audience.data or [])
    out["specialties"] = [s.strip() for s in (form.specialties.data or "").splitlines() if s.strip()]
    out["objectives"] = [s.strip() for s in (form.objectives.data or "").splitlines() if s.strip()]
    out["estimated_minutes"] = int(form.estimated_minutes.data)
    if text(form.how_to_participate.data):
        out["how_to_participate"] = text(form.how_to_participate.data)
    else:
        out.pop("how_to_participate", None)
    credit = dict(m.get("credit") or {})
    hours = form.credit_hours.data
    credit["hours"] = float(hours) if hours is not None else 0.0
    if credit["hours"].is_integer():
        credit["hours"] = int(credit["hours"])
    credit["accredited"] = bool(form.accredited.data)
    for key, field in (("type", form.credit_type), ("statement", form.credit_statement)):
        if text(field.data):
            credit[key] = text(field.data)
        else:
            credit.pop(key, None)
    if text(form.accreditation.data):
        credit["accreditation"] = text(form.accreditation.data)
    else:
        credit.pop("accreditation", None)
    out["credit"] = credit
    out["dates"] = {
        **(m.get("dates") or {}),
        "release": form.release.data,
        "last_review": form.last_review.data,
        "expiry": form.expiry.data,
    }
    if form.validity_months.data:
        out["certificate"] = {"validity_months": int(form.validity_months.data)}
    else:
        out.pop("certificate", None)
    for name in ("faculty", "references"):
        box = text(getattr(form, name).data)
        try:
            parsed = tomllib.loads(box) if box else {}
        except tomllib.TOMLDecodeError as exc:
            errors[name] = [f"invalid TOML: {exc}"]
            continue
        if set(parsed) - {name}:
            errors[name] = [f"only [[{name}]] tables belong here"]
            continue
        if parsed.get(name):
            out[name] = parsed[name]
        else:
            out.pop(name, None)
    box = text(form.completion.data)
    try:
        out["completion"] = tomllib.loads(box) if box else {}
    except tomllib.TOMLDecodeError as exc:
        errors["completion"] = [f"invalid TOML: {exc}"]
    modules = out.pop("modules", None)  # keep modules last, as authors write them
    if modules is not None:
        out["modules"] = modules
    return out, errors


#: package-validator field names (and tables) → form fields, to show a problem next to its field
FIELD_OF = {
    "title": "title",
    "edition": "edition",
    "summary": "summary",
    "audience": "audience",
    "specialties": "specialties",
    "objectives": "objectives",
    "estimated_minutes": "estimated_minutes",
    "how_to_participate": "how_to_participate",
    "hours": "credit_hours",
    "accredited": "accredited",
    "type": "credit_type",
    "statement": "credit_statement",
    "accreditation": "accreditation",
    "release": "release",
    "last_review": "last_review",
    "expiry": "expiry",
    "validity_months": "validity_months",
}
TABLE_OF = {
    "credit": "credit_hours",
    "dates": "release",
    "certificate": "validity_months",
    "faculty": "faculty",
    "references": "references",
    "completion": "completion",
}


def field_for(problem: Problem) -> str | None:
    """The form field a course.toml problem is about (None: show it above the form)."""
    where = problem.where.split(" ", 1)[0] if problem.where else ""
    for name, field in FIELD_OF.items():
        if f'"{name}"' in problem.message:
            return field
    if where in TABLE_OF:
        return TABLE_OF[where]
    for table, field in TABLE_OF.items():
        if f"[{table}]" in problem.message or f"[[{table}]]" in problem.message:
            return field
    return None

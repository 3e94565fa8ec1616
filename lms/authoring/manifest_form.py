"""The course description form: course.toml's fields as an educator sees them (not as TOML).

Scalars get their own inputs; objectives are one per line; specialties are ticked from the controlled list
(``lms.specialties``); faculty and references are repeatable rows (add a row, remove one, move one up or
down: plain submit buttons, no script needed); the completion policy is a set of fields whose quiz choices
come from the course's own quizzes. The rows and the completion fields are built from the package format's
declaration (``lms.coursepacks.schema``), so a column added there appears here. Saving rewrites course.toml
(modules untouched); the package validator's problems are shown next to the field (or row) they name.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, NumberRange, Optional

from lms.authoring import schema_fields as sf
from lms.coursepacks import schema
from lms.coursepacks.manifest import Problem
from lms.forms import select_choices
from lms.specialties import SPECIALTIES

#: repeatable rows of course.toml (arrays of tables) and their columns' labels; the columns come from schema
ROW_LISTS = ("faculty", "references")
ROW_LABELS = {
    "faculty": {
        "name": "Name",
        "role": "Role",
        "credentials": "Credentials",
        "disclosure": "Disclosure (financial relationships, or “Nothing to disclose”)",
    },
    "references": {
        "key": "Key",
        "citation": "Citation",
        "doi": "DOI",
        "pmid": "PubMed id (PMID)",
        "url": "Web address",
    },
}
MULTILINE = {("faculty", "disclosure"), ("references", "citation")}
QUIZ_RULES = (
    ("all", "Every quiz"),
    ("final", "Only the final assessment"),
    ("none", "No quiz"),
    ("chosen", "The quizzes ticked below"),
)


def _row_form(table: str) -> type[Form]:
    """A row of ``[[table]]`` as a sub-form: one field per declared column, plus "remove this row"."""
    attrs: dict[str, Any] = {}
    for name, (spec, required, doc) in sf.row_props(schema.COURSE[table]).items():
        attrs[name] = sf.field_for(
            name,
            spec,
            required,
            doc,
            label=ROW_LABELS[table].get(name),
            multiline=(table, name) in MULTILINE,
        )
    attrs["remove"] = BooleanField("Remove this row when saving")
    return type(f"{table.title()}Row", (Form,), attrs)


FacultyRow = _row_form("faculty")
ReferenceRow = _row_form("references")


def _completion_form() -> type[Form]:
    spec = dict(sf.row_props(schema.COURSE["completion"]))
    attrs: dict[str, Any] = {
        "require_all_lessons": sf.field_for(
            "require_all_lessons", *spec["require_all_lessons"], label="Every lesson must be completed"
        ),
        "require_quizzes": SelectField(
            "Quizzes the learner must pass",
            choices=select_choices(QUIZ_RULES),
            description=spec["require_quizzes"][2],
        ),
        "chosen": sf.checkboxes("Required quizzes (when “the quizzes ticked below”)", []),
        "final_quiz": SelectField(
            "Final assessment", choices=[], validate_choice=False, description=spec["final_quiz"][2]
        ),
        "evaluation": SelectField(
            "Evaluation survey", choices=[], validate_choice=False, description=spec["evaluation"][2]
        ),
        "gated": sf.field_for("gated", *spec["gated"], label="Gated: final and evaluation open last"),
        "min_minutes": sf.field_for("min_minutes", *spec["min_minutes"], label="Minimum minutes"),
    }
    return type("CompletionForm", (Form,), attrs)


CompletionForm = _completion_form()


def _doc(name: str, table: str | None = None) -> str:
    """A field's help text from the package format's declaration (one place for the loader, docs, forms)."""
    if table is None:
        return schema.COURSE[name].doc
    return sf.row_props(schema.COURSE[table])[name][2]


class ManifestForm(FlaskForm):
    base_hash = HiddenField()
    title = StringField("Title", validators=[DataRequired()], description=_doc("title"))
    edition = StringField("Edition", validators=[DataRequired()], description=_doc("edition"))
    summary = TextAreaField("Summary", validators=[DataRequired()], description=_doc("summary"))
    audience = sf.field_for("audience", *sf.prop(schema.COURSE, "audience"))
    specialties = sf.checkboxes(
        "Specialties", [(s, s) for s in SPECIALTIES], "Tick every specialty the course is for."
    )
    objectives = TextAreaField("Learning objectives (one per line)", description=_doc("objectives"))
    estimated_minutes = IntegerField(
        "Estimated minutes",
        validators=[DataRequired(), NumberRange(min=1)],
        description=_doc("estimated_minutes"),
    )
    how_to_participate = TextAreaField(
        "How to participate", validators=[Optional()], description=_doc("how_to_participate")
    )
    credit_hours = DecimalField(
        "Credit hours",
        places=2,
        validators=[Optional(), NumberRange(min=0, max=100)],
        description=_doc("hours", "credit"),
    )
    accredited = BooleanField("Accredited activity (designates accredited credit)")
    credit_type = StringField("Credit type", validators=[Optional()], description=_doc("type", "credit"))
    credit_statement = TextAreaField(
        "Credit designation statement", validators=[Optional()], description=_doc("statement", "credit")
    )
    accreditation = TextAreaField("Accreditation statement", validators=[Optional()])
    release = DateField("Release date", validators=[DataRequired()], description=_doc("release", "dates"))
    last_review = DateField(
        "Last review", validators=[DataRequired()], description=_doc("last_review", "dates")
    )
    expiry = DateField(
        "Expiry (credit ends)", validators=[DataRequired()], description=_doc("expiry", "dates")
    )
    validity_months = IntegerField(
        "Certificate validity (months)",
        validators=[Optional()],
        description=_doc("validity_months", "certificate"),
    )
    faculty = FieldList(FormField(FacultyRow), "Faculty and disclosures", min_entries=0)
    references = FieldList(FormField(ReferenceRow), "References", min_entries=0)
    completion = FormField(CompletionForm, "Completion policy")

    def set_choices(self, quizzes: list[tuple[str, str]], manifest: dict[str, Any]) -> None:
        """Choices that depend on the course: its quizzes, and values already in the file that the lists do
        not know (kept and shown, so saving never drops what an author wrote)."""
        current = manifest.get("specialties") if isinstance(manifest.get("specialties"), list) else []
        unknown = [str(s) for s in current if str(s) not in SPECIALTIES]
        self.specialties.choices = select_choices(
            [(s, s) for s in SPECIALTIES] + [(s, f"{s} (not in the list: untick to remove)") for s in unknown]
        )
        completion = manifest.get("completion") if isinstance(manifest.get("completion"), dict) else {}
        known = dict(quizzes)
        for key in ("final_quiz", "evaluation"):
            value = completion.get(key)
            if isinstance(value, str) and value and value not in known:
                known[value] = f"{value} (no such quiz)"
        chosen = completion.get("require_quizzes")
        for value in chosen if isinstance(chosen, list) else []:
            if isinstance(value, str) and value not in known:
                known[value] = f"{value} (no such quiz)"
        pairs = list(known.items())
        self.completion.form.chosen.choices = select_choices(pairs)
        self.completion.form.final_quiz.choices = select_choices([("", "None"), *pairs])
        self.completion.form.evaluation.choices = select_choices([("", "None"), *pairs])


def _lines(items: Any) -> str:
    return "\n".join(str(i) for i in items) if isinstance(items, list) else ""


def _rows(m: dict[str, Any], table: str) -> list[dict[str, Any]]:
    rows = m.get(table)
    columns = set(sf.row_props(schema.COURSE[table]))
    if not isinstance(rows, list):
        return []
    return [{k: str(v) for k, v in r.items() if k in columns} for r in rows if isinstance(r, dict)]


def _completion_data(completion: Any) -> dict[str, Any]:
    c = completion if isinstance(completion, dict) else {}
    rule = c.get("require_quizzes", "all")
    return {
        "require_all_lessons": bool(c.get("require_all_lessons", True)),
        "require_quizzes": "chosen" if isinstance(rule, list) else str(rule),
        "chosen": [str(k) for k in rule] if isinstance(rule, list) else [],
        "final_quiz": str(c.get("final_quiz", "")),
        "evaluation": str(c.get("evaluation", "")),
        "gated": bool(c.get("gated", True)),
        "min_minutes": c.get("min_minutes"),
    }


def form_data(m: dict[str, Any]) -> dict[str, Any]:
    credit = m.get("credit") if isinstance(m.get("credit"), dict) else {}
    dates = m.get("dates") if isinstance(m.get("dates"), dict) else {}
    cert = m.get("certificate") if isinstance(m.get("certificate"), dict) else {}
    return {
        "title": m.get("title", ""),
        "edition": str(m.get("edition", "")),
        "summary": m.get("summary", ""),
        "audience": list(m.get("audience") or []),
        "specialties": [str(s) for s in m.get("specialties") or []],
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
        "faculty": _rows(m, "faculty"),
        "references": _rows(m, "references"),
        "completion": _completion_data(m.get("completion")),
    }


def _text(value: Any) -> str:
    return str(value or "").replace("\r\n", "\n").strip()


def _table_rows(
    form: ManifestForm, m: dict[str, Any], table: str, errors: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """The rows as TOML tables, in the order shown: removed and blank rows dropped, a required column left
    empty reported on that row's field. Columns the form does not show are kept from the file."""
    columns = sf.row_props(schema.COURSE[table])
    old = m.get(table) if isinstance(m.get(table), list) else []
    out = []
    for entry in getattr(form, table).entries:
        row = entry.form
        if row.remove.data:
            continue
        values = {name: _text(getattr(row, name).data) for name in columns}
        if not any(values.values()):
            continue  # an added row left empty
        table_row = {name: v for name, v in values.items() if v}
        for name, (_spec, required, _doc) in columns.items():
            if required and not values[name]:
                errors.setdefault(getattr(row, name).name, []).append("required")
        out.append(table_row)
    # unchanged rows compare equal to the file's: keep the file's own rows (with their order of keys)
    return [next((r for r in old if r == new), new) for new in out]


def _completion(form: ManifestForm, m: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    c = form.completion.form
    old = m.get("completion") if isinstance(m.get("completion"), dict) else {}
    out: dict[str, Any] = {}
    out["require_all_lessons"] = bool(c.require_all_lessons.data)
    if c.require_quizzes.data == "chosen":
        chosen = list(c.chosen.data or [])
        if not chosen:
            errors.setdefault(c.chosen.name, []).append("tick at least one quiz, or choose another rule")
        out["require_quizzes"] = chosen
    else:
        out["require_quizzes"] = c.require_quizzes.data or "all"
    for key in ("final_quiz", "evaluation"):
        if _text(getattr(c, key).data):
            out[key] = _text(getattr(c, key).data)
    if not c.gated.data or "gated" in old:
        out["gated"] = bool(c.gated.data)
    if c.min_minutes.data or "min_minutes" in old:
        out["min_minutes"] = int(c.min_minutes.data or 0)
    if "require_all_lessons" not in old and out["require_all_lessons"]:
        del out["require_all_lessons"]
    if "require_quizzes" not in old and out["require_quizzes"] == "all":
        del out["require_quizzes"]
    return out


def apply(form: ManifestForm, m: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """course.toml with the form's values (unknown keys and modules kept), and per-field errors (keyed by
    the field's name: ``faculty-0-name`` for a row's column)."""
    errors: dict[str, list[str]] = {}
    out = dict(m)
    text = _text

    out["title"] = text(form.title.data)
    out["edition"] = text(form.edition.data)
    out["summary"] = text(form.summary.data)
    out["audience"] = list(form.audience.data or [])
    out["specialties"] = list(form.specialties.data or [])
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
    for table in ROW_LISTS:
        rows = _table_rows(form, m, table, errors)
        if rows:
            out[table] = rows
        else:
            out.pop(table, None)
    if not out.get("faculty"):
        errors.setdefault("faculty", []).append("add at least one faculty member with a disclosure")
    out["completion"] = _completion(form, m, errors)
    if not out["completion"] and "completion" not in m:
        del out["completion"]
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
    "completion": "completion-require_quizzes",
}
ROW_WHERE = re.compile(r"^(faculty|references) (\d+)$")
QUOTED = re.compile(r'"([a-z_]+)"')


def field_for(problem: Problem) -> str | None:
    """The name of the form field a course.toml problem is about (None: show it above the form). A problem
    in row N of faculty or references goes to that row's column (``faculty-0-disclosure``), a completion
    problem to the completion field it quotes."""
    where = problem.where or ""
    quoted = QUOTED.findall(problem.message)
    row = ROW_WHERE.match(where)
    if row:
        table, index = row.group(1), int(row.group(2)) - 1
        columns = sf.row_props(schema.COURSE[table])
        column = next((q for q in quoted if q in columns), next(iter(columns)))
        return f"{table}-{index}-{column}"
    if where == "completion":
        column = next(
            (q for q in quoted if q in sf.row_props(schema.COURSE["completion"])), "require_quizzes"
        )
        return f"completion-{column}"
    for name, field in FIELD_OF.items():
        if f'"{name}"' in problem.message:
            return field
    head = where.split(" ", 1)[0]
    if head in TABLE_OF:
        return TABLE_OF[head]
    for table, field in TABLE_OF.items():
        if f"[{table}]" in problem.message or f"[[{table}]]" in problem.message:
            return field
    return None

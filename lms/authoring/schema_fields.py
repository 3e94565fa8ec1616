"""WTForms fields built from the package format's declaration (``lms.coursepacks.schema``).

One schema drives the loader's field sets, the published JSON Schema and these forms: a field's JSON Schema
type picks the input (text, whole number, number, checkbox, date, date-time), ``enum`` gives a select's
choices, ``minimum``/``maximum`` its range, ``doc`` the help text and ``required`` whether it may be left
empty. The forms add only what the schema cannot say: labels in plain words and the choices that depend on
the course (its quizzes, the controlled specialties).

Nothing is required at the WTForms level: an empty required field is reported by the code that turns the
form back into TOML (or by the package validator), next to the field, so "add a row" never trips over the
empty row it just added.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    Field,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from lms.coursepacks.schema import PATTERN_WORDS, F
from lms.forms import select_choices


def label_of(name: str) -> str:
    return name.replace("_", " ").capitalize()


def prop(fields: Mapping[str, F], name: str) -> tuple[dict[str, Any], bool, str]:
    """(JSON Schema, required, doc) of one declared field."""
    f = fields[name]
    return f.schema, f.required, f.doc


def row_props(f: F) -> dict[str, tuple[dict[str, Any], bool, str]]:
    """The columns of an array of tables (``schema.tables``) or of a table, from its JSON Schema."""
    obj = f.schema.get("items", f.schema)
    required = set(obj.get("required", ()))
    return {
        name: (
            {k: v for k, v in spec.items() if k != "description"},
            name in required,
            spec.get("description", ""),
        )
        for name, spec in obj.get("properties", {}).items()
    }


def field_for(
    name: str,
    schema: Mapping[str, Any],
    required: bool = False,
    doc: str = "",
    *,
    label: str | None = None,
    multiline: bool = False,
    default_label: str | None = None,
) -> Field:
    """An unbound WTForms field for one declared value. ``default_label``: a non-required choice gets an
    empty first option (the key is left out of the file) described this way."""
    label = label or label_of(name)
    description = doc + (" Required." if required and doc else "Required." if required else "")
    kind = schema.get("type")
    if "enum" in schema:
        options = [(str(v), label_of(str(v))) for v in schema["enum"]]
        if not required:
            options.insert(0, ("", default_label or "Default"))
        return SelectField(
            label,
            choices=select_choices(options),
            default="" if not required else None,
            description=description,
        )
    if kind == "boolean":
        return BooleanField(label, description=doc)
    if kind == "integer":
        low = schema.get("minimum")
        return IntegerField(
            label,
            validators=[Optional(), NumberRange(min=low, max=schema.get("maximum"))],
            description=description,
        )
    if kind == "number":
        low, high = schema.get("minimum"), schema.get("maximum")
        low = None if low == float("-inf") else low
        return DecimalField(
            label, validators=[Optional(), NumberRange(min=low, max=high)], description=description
        )
    if kind == "string" and schema.get("format") == "date":
        return DateField(label, validators=[Optional()], description=description)
    if kind == "string" and schema.get("format") == "date-time":
        return DateTimeLocalField(
            label, format="%Y-%m-%dT%H:%M", validators=[Optional()], description=description
        )
    if kind == "array" and "enum" in schema.get("items", {}):
        return checkboxes(label, [(v, label_of(v)) for v in schema["items"]["enum"]], description)
    validators: list[Any] = [Optional()]
    if schema.get("pattern"):
        words = PATTERN_WORDS.get(schema["pattern"], "is not in the expected form")
        validators.append(Regexp(schema["pattern"], message=words[0].upper() + words[1:]))
    cls = TextAreaField if multiline else StringField
    return cls(label, validators=validators, description=description)


def checkboxes(label: str, choices: Iterable[tuple[str, str]], description: str = "") -> SelectMultipleField:
    return SelectMultipleField(
        label,
        choices=select_choices(choices),
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        description=description,
    )


def all_fields(form: Any) -> Iterator[Field]:
    """Every leaf field of a form, row forms of a FieldList included (to place errors by field name)."""
    for f in form:
        if isinstance(f, FormField):
            yield from all_fields(f.form)
        elif isinstance(f, FieldList):
            for entry in f.entries:
                if isinstance(entry, FormField):
                    yield from all_fields(entry.form)
                else:
                    yield entry
        else:
            yield f


def set_errors(form: Any, errors: Mapping[str, list[str]]) -> list[str]:
    """Put each message on the field of that name (``faculty-0-name`` for a row's column); returns the
    messages that name no field (for above the form)."""
    by_name: dict[str, Any] = {f.name: f for f in form if isinstance(f, FieldList)}
    by_name.update({f.name: f for f in all_fields(form)})
    rest = []
    for name, messages in errors.items():
        target = by_name.get(name)
        if target is None:
            rest.extend(messages)
        else:
            target.errors = [*list(target.errors or []), *messages]
    return rest


ROW_KEY = re.compile(r"^(?P<list>[a-z_]+)-(?P<index>\d+)-(?P<rest>.+)$")


def rearranged(formdata: Any, action: str, lists: Iterable[str]) -> Any:
    """The posted form data with one row action applied, rows renumbered 0..n-1, so the re-rendered form
    keeps everything typed: ``add-LIST`` appends an empty row, ``up-LIST-I``/``down-LIST-I`` move row I,
    and rows whose "remove" box is ticked are dropped. Works on the raw data, before any validation."""
    lists = set(lists)
    rows: dict[str, dict[int, list[tuple[str, str]]]] = {name: {} for name in lists}
    out = MultiDict()
    for key, value in formdata.items(multi=True):
        match = ROW_KEY.match(key)
        if key == "action":
            continue
        if match and match["list"] in lists:
            rows[match["list"]].setdefault(int(match["index"]), []).append((match["rest"], value))
        else:
            out.add(key, value)
    verb, _, rest = action.partition("-")
    target, _, index = rest.rpartition("-") if verb in ("up", "down") else (rest, "", "")
    for name, by_index in rows.items():
        ordered = [by_index[i] for i in sorted(by_index)]
        if name == target and index.isdigit():
            i, delta = int(index), -1 if verb == "up" else 1
            if 0 <= i < len(ordered) and 0 <= i + delta < len(ordered):
                ordered[i], ordered[i + delta] = ordered[i + delta], ordered[i]
        kept = [row for row in ordered if not any(k == "remove" and v for k, v in row)]
        if verb == "add" and name == target:
            kept.append([])
        for new_index, row in enumerate(kept):
            for column, value in row:
                out.add(f"{name}-{new_index}-{column}", value)
            if not row:  # an empty row still needs one key so FieldList sees it
                out.add(f"{name}-{new_index}-remove", "")
    return out

"""Structured edits of a draft's TOML files: modules and their items, quiz settings, questions.

Pure functions over parsed TOML (plain dicts) and file bytes; the routes save the result with
``services.save_file`` so every edit keeps the draft's revision check. The question form is *generated* from
the question-type plugin: the common fields plus one TOML value box per field the type declares in
``fields``, checked by the type's own ``validate``: a third-party type gets a working form with no template.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from lms.authoring import tomlwrite
from lms.coursepacks.loader import KEY
from lms.qtypes.base import QuestionType


class StructureError(Exception):
    """A structured edit cannot be applied; ``field`` names the form field it concerns (or "")."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def parse(data: bytes | None, path: str) -> dict[str, Any]:
    if data is None:
        raise StructureError(f"{path} is not in the draft")
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise StructureError(f"{path} is not valid TOML ({exc}); fix it in the file editor first") from exc


def dump(doc: Mapping[str, Any]) -> bytes:
    return tomlwrite.dumps(doc).encode("utf-8")


def moved(rows: list[Any], index: int, delta: int) -> list[Any]:
    """``rows`` with the element at ``index`` moved one place up (-1) or down (+1); unchanged at the ends."""
    target = index + delta
    if not (0 <= index < len(rows)) or not (0 <= target < len(rows)):
        return list(rows)
    out = list(rows)
    out[index], out[target] = out[target], out[index]
    return out


# -- modules and items ----------------------------------------------------------------------------------


def modules_of(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    modules = manifest.get("modules")
    return [m for m in modules if isinstance(m, dict)] if isinstance(modules, list) else []


def move_module(manifest: dict[str, Any], index: int, delta: int) -> dict[str, Any]:
    return {**manifest, "modules": moved(modules_of(manifest), index, delta)}


def move_item(manifest: dict[str, Any], module: int, index: int, delta: int) -> dict[str, Any]:
    modules = [dict(m) for m in modules_of(manifest)]
    if not 0 <= module < len(modules):
        raise StructureError("no such module")
    modules[module]["items"] = moved(list(modules[module].get("items") or []), index, delta)
    return {**manifest, "modules": modules}


def add_module(manifest: dict[str, Any], key: str, title: str) -> dict[str, Any]:
    modules = modules_of(manifest)
    if not KEY.match(key):
        raise StructureError("use letters, digits, hyphens and underscores", "key")
    if any(m.get("id") == key for m in modules):
        raise StructureError(f'a module "{key}" already exists', "key")
    if not title.strip():
        raise StructureError("a title is required", "title")
    return {**manifest, "modules": [*modules, {"id": key, "title": title.strip(), "items": []}]}


def add_item(
    files: Mapping[str, bytes], manifest: dict[str, Any], module: int, kind: str, key: str, title: str
) -> tuple[dict[str, Any], str, bytes]:
    """A new lesson or quiz file, listed at the end of a module: (manifest, path, file bytes)."""
    if not KEY.match(key):
        raise StructureError("use letters, digits, hyphens and underscores", "key")
    if not title.strip():
        raise StructureError("a title is required", "title")
    modules = [dict(m) for m in modules_of(manifest)]
    if not 0 <= module < len(modules):
        raise StructureError("choose a module", "module")
    if kind == "lesson":
        path = f"lessons/{key}.md"
        data = f'+++\nid = "{key}"\ntitle = {tomlwrite.value(title.strip())}\n+++\nWrite the lesson here.\n'
    else:
        path = f"quizzes/{key}.toml"
        data = tomlwrite.dumps({"title": title.strip(), "kind": kind, "pass_mark": 70})
    if path in files:
        raise StructureError(f"{path} already exists", "key")
    modules[module]["items"] = [*list(modules[module].get("items") or []), path]
    return {**manifest, "modules": modules}, path, data.encode("utf-8")


# -- quizzes --------------------------------------------------------------------------------------------


def questions_of(quiz: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = quiz.get("questions")
    return [q for q in rows if isinstance(q, dict)] if isinstance(rows, list) else []


def settings_of(quiz: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in quiz.items() if k != "questions"}


#: Common question fields on every generated form, in order; the type's own fields follow.
TEXT_FIELDS = ("prompt", "explanation")
LINE_FIELDS = ("id", "reference")
VALUE_FIELDS = ("points", "tags")


def form_class(qtype: QuestionType) -> type[FlaskForm]:
    """A WTForms class for one question type, generated from the plugin's declared ``fields``."""
    attrs: dict[str, Any] = {
        "id_": StringField("Question id", validators=[DataRequired(), Length(max=80)], name="id"),
        "prompt": TextAreaField("Prompt (Markdown)", validators=[DataRequired()]),
        "points": StringField("Points", validators=[Optional()], description="A number; empty means 1."),
        "explanation": TextAreaField("Explanation shown after answering (Markdown)", validators=[Optional()]),
        "reference": StringField(
            "Reference key", validators=[Optional()], description="A key of [[references]]."
        ),
        "tags": StringField("Tags", validators=[Optional()], description='A TOML list, e.g. ["vignette"].'),
        "base_hash": HiddenField(),
    }
    for name in sorted(qtype.fields):
        attrs[f"f_{name}"] = TextAreaField(
            name.replace("_", " ").capitalize(),
            validators=[Optional()],
            description='A TOML value: text in quotes ("B"), a number, true/false, or a list [ ... ].',
            name=f"f_{name}",
        )
    return type(f"{qtype.name.title().replace('_', '')}QuestionForm", (FlaskForm,), attrs)


def form_data(qtype: QuestionType, spec: Mapping[str, Any]) -> dict[str, Any]:
    """A question's spec as the generated form's initial values."""
    data: dict[str, Any] = {
        "id_": spec.get("id", ""),
        "prompt": spec.get("prompt", ""),
        "explanation": spec.get("explanation", ""),
        "reference": spec.get("reference", ""),
        "points": tomlwrite.value(spec["points"]) if "points" in spec else "",
        "tags": tomlwrite.value(spec["tags"]) if "tags" in spec else "",
    }
    for name in qtype.fields:
        data[f"f_{name}"] = tomlwrite.value(spec[name]) if name in spec else ""
    return data


@dataclass
class SpecResult:
    spec: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)  # form field name → messages

    @property
    def ok(self) -> bool:
        return not self.errors


def _toml_value(text: str) -> Any:
    return tomllib.loads(f"v = {text.strip()}")["v"]


def spec_from_form(qtype: QuestionType, form: FlaskForm, keep: Mapping[str, Any] | None = None) -> SpecResult:
    """Build and validate a spec from the generated form; each problem goes to the field it names."""
    spec: dict[str, Any] = {"id": form.id_.data.strip(), "type": qtype.name}
    result = SpecResult(spec)
    for extra in ("title", "idnumber"):  # kept from the file (not on the form)
        if keep and extra in keep:
            spec[extra] = keep[extra]
    for name in TEXT_FIELDS:
        text = (getattr(form, name).data or "").replace("\r\n", "\n").strip()
        if text:
            spec[name] = text
    if (form.reference.data or "").strip():
        spec["reference"] = form.reference.data.strip()
    boxes = [("points", "points"), ("tags", "tags")] + [(f"f_{n}", n) for n in sorted(qtype.fields)]
    for attr, name in boxes:
        text = getattr(form, attr).data or ""
        if not text.strip():
            continue
        try:
            spec[name] = _toml_value(text)
        except tomllib.TOMLDecodeError as exc:
            result.errors.setdefault(attr, []).append(f"not a TOML value ({exc})")
    if not KEY.match(spec["id"]):
        result.errors.setdefault("id_", []).append("use letters, digits, hyphens and underscores")
    if result.errors:
        return result
    for problem in qtype.validate(spec):
        target = "prompt"
        for attr, name in [*boxes, ("prompt", "prompt"), ("explanation", "explanation")]:
            if f'"{name}"' in problem or problem.startswith(name + " ") or f" {name} " in problem:
                target = attr
                break
        result.errors.setdefault(target, []).append(problem)
    return result


def put_question(quiz: Mapping[str, Any], index: int | None, spec: dict[str, Any]) -> dict[str, Any]:
    """The quiz with question ``index`` replaced (or ``spec`` appended when index is None)."""
    questions = questions_of(quiz)
    others = [q.get("id") for i, q in enumerate(questions) if i != index]
    if spec["id"] in others:
        raise StructureError(f'another question already uses the id "{spec["id"]}"', "id_")
    if index is None:
        questions.append(spec)
    elif 0 <= index < len(questions):
        questions[index] = spec
    else:
        raise StructureError("no such question")
    return {**settings_of(quiz), "questions": questions}


def move_question(quiz: Mapping[str, Any], index: int, delta: int) -> dict[str, Any]:
    return {**settings_of(quiz), "questions": moved(questions_of(quiz), index, delta)}


def delete_question(quiz: Mapping[str, Any], index: int) -> dict[str, Any]:
    questions = questions_of(quiz)
    if not 0 <= index < len(questions):
        raise StructureError("no such question")
    return {**settings_of(quiz), "questions": questions[:index] + questions[index + 1 :]}

"""Ungraded survey items for course evaluations: Likert scale and free text."""

from __future__ import annotations

from typing import Any, ClassVar

from lms.qtypes.base import Grade, QuestionType, Spec

DEFAULT_SCALE = ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"]


class Likert(QuestionType):
    name: ClassVar[str] = "likert"
    label: ClassVar[str] = "Likert scale (survey)"
    graded: ClassVar[bool] = False
    fields = frozenset({"scale", "required"})

    def validate(self, spec: Spec) -> list[str]:
        problems = self.unknown_fields(spec)
        scale = spec.get("scale", DEFAULT_SCALE)
        if not isinstance(scale, list) or len(scale) < 2 or not all(isinstance(s, str) and s for s in scale):
            problems.append('"scale" must list at least 2 labels')
        return problems

    def learner_view(self, spec: Spec, seed: int, shuffle: bool = True) -> dict[str, Any]:
        scale = spec.get("scale", DEFAULT_SCALE)
        return {"options": [{"value": str(i), "text": label} for i, label in enumerate(scale)]}

    def parse_response(self, form: Any, name: str, spec: Spec | None = None, seed: int = 0) -> Any:
        raw = (form.get(name) or "").strip()[:4]
        scale = (spec or {}).get("scale", DEFAULT_SCALE)
        if not (raw.isascii() and raw.isdecimal()):
            return None
        return int(raw) if int(raw) < len(scale) else None

    def grade(self, spec: Spec, response: Any) -> Grade:
        return Grade(0.0, None)

    def review(self, spec: Spec, response: Any) -> dict[str, Any]:
        scale = spec.get("scale", DEFAULT_SCALE)
        given = scale[response] if isinstance(response, int) and 0 <= response < len(scale) else ""
        return {"your_answer": given}


class FreeText(QuestionType):
    name: ClassVar[str] = "free_text"
    label: ClassVar[str] = "Free text (survey)"
    graded: ClassVar[bool] = False
    fields = frozenset({"max_length", "required"})

    def validate(self, spec: Spec) -> list[str]:
        problems = self.unknown_fields(spec)
        limit = spec.get("max_length", 2000)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 20000:
            problems.append('"max_length" must be a whole number from 1 to 20000')
        return problems

    def learner_view(self, spec: Spec, seed: int, shuffle: bool = True) -> dict[str, Any]:
        return {"max_length": spec.get("max_length", 2000)}

    def parse_response(self, form: Any, name: str, spec: Spec | None = None, seed: int = 0) -> Any:
        limit = (spec or {}).get("max_length", 2000)
        return (form.get(name) or "").strip()[:limit] or None

    def grade(self, spec: Spec, response: Any) -> Grade:
        return Grade(0.0, None)

    def to_gift(self, spec: Spec) -> list[str]:
        return []  # an essay: empty braces

    def review(self, spec: Spec, response: Any) -> dict[str, Any]:
        return {"your_answer": response or ""}

"""Typed-answer question types: numeric and short answer."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any, ClassVar

from lms.qtypes.base import Grade, QuestionType, Spec, gift_escape, gift_feedback, gift_percent

_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def parse_number(text: Any) -> float | None:
    """A learner's number: accepts a decimal comma, spaces and a trailing unit-free value; else None."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str):
        return None
    cleaned = text.strip().replace("\u2212", "-").replace(" ", "").replace("\u00a0", "")
    if not _NUMBER.match(cleaned):
        return None
    value = float(cleaned.replace(",", "."))
    return value if math.isfinite(value) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def numeric_ranges(spec: Spec) -> list[tuple[float, float, float]]:
    """Accepted (low, high, credit) ranges from ``answer``/``tolerance``, ``range`` or ``answers``."""
    entries = spec.get("answers") or [spec]
    out = []
    for entry in entries:
        credit = float(entry.get("credit", 1.0))
        if "range" in entry:
            low, high = entry["range"]
            out.append((float(low), float(high), credit))
        else:
            tol = float(entry.get("tolerance", 0.0))
            value = float(entry["answer"])
            out.append((value - tol, value + tol, credit))
    return out


class Numeric(QuestionType):
    """A number, accepted within a tolerance or a range; units are shown next to the box."""

    name: ClassVar[str] = "numeric"
    label: ClassVar[str] = "Numeric"
    fields = frozenset(
        {"answer", "tolerance", "range", "answers", "unit", "feedback_correct", "feedback_incorrect"}
    )

    def validate(self, spec: Spec) -> list[str]:
        problems = self.unknown_fields(spec)
        entries = spec.get("answers")
        if entries is not None:
            if not isinstance(entries, list) or not entries:
                return [*problems, '"answers" must list at least one accepted value']
            for i, entry in enumerate(entries, 1):
                if not isinstance(entry, dict):
                    problems.append(f"answers {i}: must be a table")
                    continue
                problems += [f"answers {i}: {p}" for p in self._entry_problems(entry)]
                credit = entry.get("credit", 1.0)
                if not _is_number(credit) or not 0 < credit <= 1:
                    problems.append(f'answers {i}: "credit" must be a number in (0, 1]')
            if entries and not any(isinstance(e, dict) and e.get("credit", 1.0) == 1 for e in entries):
                problems.append('"answers" needs one fully correct entry (credit 1)')
        else:
            problems += self._entry_problems(spec)
        if "unit" in spec and not isinstance(spec["unit"], str):
            problems.append('"unit" must be text')
        return problems

    @staticmethod
    def _entry_problems(entry: Spec) -> list[str]:
        if "range" in entry:
            rng = entry["range"]
            if (
                not isinstance(rng, list)
                or len(rng) != 2
                or not all(_is_number(v) for v in rng)
                or rng[0] > rng[1]
            ):
                return ['"range" must be [minimum, maximum] with minimum ≤ maximum']
            if "answer" in entry:
                return ['give either "answer" (with "tolerance") or "range", not both']
            return []
        if "answer" not in entry:
            return ['"answer" is missing (or give "range")']
        if not _is_number(entry["answer"]):
            return [f'"answer" must be a number, not {entry["answer"]!r}']
        tol = entry.get("tolerance", 0)
        if not _is_number(tol) or tol < 0:
            return ['"tolerance" must be a number ≥ 0']
        return []

    def learner_view(self, spec: Spec, seed: int, shuffle: bool = True) -> dict[str, Any]:
        return {"unit": spec.get("unit", "")}

    def parse_response(self, form: Any, name: str, spec: Spec | None = None, seed: int = 0) -> Any:
        return (form.get(name) or "").strip()[:64] or None

    def grade(self, spec: Spec, response: Any) -> Grade:
        if response is None or (isinstance(response, str) and not response.strip()):
            return Grade(0.0, False, ("No answer was given.",))
        value = parse_number(response)
        if value is None:
            return Grade(0.0, False, (f'"{response}" is not a number.',))
        credit = max((c for low, high, c in numeric_ranges(spec) if low <= value <= high), default=0.0)
        ok = credit == 1.0
        key = "feedback_correct" if credit > 0 else "feedback_incorrect"
        feedback = spec.get(key, "")
        return Grade(credit, ok, (feedback,) if feedback else ())

    def to_gift(self, spec: Spec) -> list[str]:
        def value(entry: Spec) -> str:
            if "range" in entry:
                return f"{entry['range'][0]:g}..{entry['range'][1]:g}"
            return f"{entry['answer']:g}:{entry.get('tolerance', 0):g}"

        entries = spec.get("answers")
        if entries:
            parts = [
                f"={gift_percent(e['credit']) if e.get('credit', 1.0) != 1 else ''}{value(e)}"
                for e in entries
            ]
            return ["#" + " ".join(parts)]
        return [f"#{value(spec)}{gift_feedback(spec.get('feedback_correct'))}"]

    def review(self, spec: Spec, response: Any) -> dict[str, Any]:
        unit = f" {spec['unit']}" if spec.get("unit") else ""
        ranges = [(lo, hi) for lo, hi, c in numeric_ranges(spec) if c == 1.0]
        parts = []
        for low, high in ranges:
            if low == high:
                parts.append(f"{_fmt(low)}{unit}")
            else:
                mid = (low + high) / 2
                parts.append(f"{_fmt(low)}–{_fmt(high)}{unit} (e.g. {_fmt(mid)})")
        return {"your_answer": f"{response}{unit}" if response else "", "correct_answer": " or ".join(parts)}


def _fmt(value: float) -> str:
    return f"{value:g}"


def normalise_text(text: str) -> str:
    """Case- and whitespace-insensitive comparison form (Unicode-aware)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _pattern(accepted: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in normalise_text(accepted).split("*")]
    return re.compile("^" + ".*".join(parts) + "$", re.S)


def accepted_answers(spec: Spec) -> list[tuple[str, float]]:
    out = []
    for entry in spec.get("accepted", []):
        if isinstance(entry, str):
            out.append((entry, 1.0))
        else:
            out.append((entry["answer"], float(entry.get("credit", 1.0))))
    return out


class ShortAnswer(QuestionType):
    """A typed word or phrase; several accepted answers; ``*`` is a wildcard."""

    name: ClassVar[str] = "short_answer"
    label: ClassVar[str] = "Short answer"
    fields = frozenset({"accepted", "feedback_correct", "feedback_incorrect", "max_length"})

    def validate(self, spec: Spec) -> list[str]:
        problems = self.unknown_fields(spec)
        accepted = spec.get("accepted")
        if not isinstance(accepted, list) or not accepted:
            return [*problems, '"accepted" must list at least one accepted answer']
        full = False
        for i, entry in enumerate(accepted, 1):
            if isinstance(entry, str):
                text, credit = entry, 1.0
            elif isinstance(entry, dict) and isinstance(entry.get("answer"), str):
                text, credit = entry["answer"], entry.get("credit", 1.0)
                if not _is_number(credit) or not 0 < credit <= 1:
                    problems.append(f'accepted {i}: "credit" must be a number in (0, 1]')
                    continue
            else:
                problems.append(f"accepted {i}: must be text or a table with answer and credit")
                continue
            if not text.strip() or (text.strip() == "*" and credit == 1):
                problems.append(f"accepted {i}: an empty or match-anything answer would accept everything")
            full = full or credit == 1
        if not full and not problems:
            problems.append('"accepted" needs one fully correct answer')
        return problems

    def learner_view(self, spec: Spec, seed: int, shuffle: bool = True) -> dict[str, Any]:
        return {"max_length": int(spec.get("max_length", 200))}

    def parse_response(self, form: Any, name: str, spec: Spec | None = None, seed: int = 0) -> Any:
        return (form.get(name) or "").strip()[:500] or None

    def grade(self, spec: Spec, response: Any) -> Grade:
        if not isinstance(response, str) or not response.strip():
            return Grade(0.0, False, ("No answer was given.",))
        given = normalise_text(response)
        credit = max((c for text, c in accepted_answers(spec) if _pattern(text).match(given)), default=0.0)
        key = "feedback_correct" if credit > 0 else "feedback_incorrect"
        feedback = spec.get(key, "")
        return Grade(credit, credit == 1.0, (feedback,) if feedback else ())

    def to_gift(self, spec: Spec) -> list[str]:
        lines = []
        for i, entry in enumerate(spec["accepted"]):
            if isinstance(entry, str):
                feedback = gift_feedback(spec.get("feedback_correct")) if i == 0 else ""
                lines.append(f"\t={gift_escape(entry)}{feedback}")
            else:
                lines.append(f"\t={gift_percent(entry['credit'])}{gift_escape(entry['answer'])}")
        return lines

    def review(self, spec: Spec, response: Any) -> dict[str, Any]:
        best = [t for t, c in accepted_answers(spec) if c == 1.0]
        return {"your_answer": response or "", "correct_answer": " / ".join(best)}

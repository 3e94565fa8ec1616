"""Typed-answer question types: numeric and short answer."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any, ClassVar

from lms.qtypes.base import (
    Grade,
    QuestionType,
    Spec,
    gift_escape,
    gift_feedback,
    gift_number,
    gift_percent,
    gift_text,
    gift_weight,
)

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


def pick(matches: list[tuple[int, float]], first: bool) -> tuple[int, float] | None:
    """The (index, credit) that decides the grade among matching answers: the first one (Moodle's rule,
    ``first_match``) or the best one (Helix's default; the first of equal best)."""
    if not matches:
        return None
    if first:
        return matches[0]
    best = max(c for _, c in matches)
    return next(m for m in matches if m[1] == best)


def graded_feedback(spec: Spec, entry: Spec | None, credit: float) -> tuple[str, ...]:
    """The matched answer's own feedback, else the question's feedback for a right or a wrong answer."""
    own = entry.get("feedback", "") if entry is not None else ""
    text = own or spec.get("feedback_correct" if credit > 0 else "feedback_incorrect", "")
    return (text,) if text else ()


def gift_order(spec: Spec, entries: list[Any], credit_of: Any) -> list[int]:
    """Export order: Moodle grades by the first matching answer, so answers go best-first (stable), which
    makes Moodle's first match Helix's best match; a ``first_match`` question keeps its own order."""
    order = list(range(len(entries)))
    return order if spec.get("first_match") else sorted(order, key=lambda i: -credit_of(entries[i]))


class Numeric(QuestionType):
    """A number, accepted within a tolerance or a range; units are shown next to the box."""

    name: ClassVar[str] = "numeric"
    label: ClassVar[str] = "Numeric"
    fields = frozenset(
        {
            "answer",
            "tolerance",
            "range",
            "answers",
            "unit",
            "feedback_correct",
            "feedback_incorrect",
            "first_match",
        }
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
                if not _is_number(credit) or not 0 <= credit <= 1:
                    problems.append(f'answers {i}: "credit" must be a number from 0 to 1')
                if "feedback" in entry and not isinstance(entry["feedback"], str):
                    problems.append(f'answers {i}: "feedback" must be text')
                extra = sorted(set(entry) - {"answer", "tolerance", "range", "credit", "feedback"})
                if extra:
                    problems.append(f'answers {i}: unknown field "{extra[0]}"')
            if entries and not any(isinstance(e, dict) and e.get("credit", 1.0) == 1 for e in entries):
                problems.append('"answers" needs one fully correct entry (credit 1)')
        else:
            problems += self._entry_problems(spec)
        if "unit" in spec and not isinstance(spec["unit"], str):
            problems.append('"unit" must be text')
        if "first_match" in spec and not isinstance(spec["first_match"], bool):
            problems.append('"first_match" must be true or false')
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
        ranges = numeric_ranges(spec)
        matches = [(i, c) for i, (low, high, c) in enumerate(ranges) if low <= value <= high]
        chosen = pick(matches, bool(spec.get("first_match")))
        credit = chosen[1] if chosen else 0.0
        entries = spec.get("answers")
        entry = entries[chosen[0]] if chosen and entries else None
        return Grade(credit, credit == 1.0, graded_feedback(spec, entry, credit))

    def to_gift(self, spec: Spec) -> list[str]:
        def value(entry: Spec) -> str:
            if "range" in entry:
                return f"{gift_number(entry['range'][0])}..{gift_number(entry['range'][1])}"
            if "tolerance" not in entry:
                return gift_number(entry["answer"])
            return f"{gift_number(entry['answer'])}:{gift_number(entry['tolerance'])}"

        wrong = spec.get("feedback_incorrect", "")
        tail = [f"\t~#{gift_text(spec, 'feedback_incorrect', wrong)}"] if wrong else []
        entries = spec.get("answers")
        if not entries:
            head = f"{value(spec)}{gift_feedback(spec.get('feedback_correct'), spec, 'feedback_correct')}"
            return [f"#{head}"] if not tail else ["#", f"\t={head}", *tail]
        lines = ["#"]
        for i in gift_order(spec, entries, lambda e: float(e.get("credit", 1.0))):
            e = entries[i]
            credit = float(e.get("credit", 1.0))
            weight = gift_percent(credit) if credit != 1 else ""
            own, path = e.get("feedback", ""), f"answers.{i}.feedback"
            if not own and credit > 0 and spec.get("feedback_correct"):
                own, path = spec["feedback_correct"], "feedback_correct"
            elif not own and credit == 0 and wrong:
                own, path = wrong, "feedback_incorrect"
            lines.append(f"\t={weight}{value(e)}{gift_feedback(own, spec, path)}")
        return lines + tail

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
    fields = frozenset({"accepted", "feedback_correct", "feedback_incorrect", "max_length", "first_match"})

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
                if not _is_number(credit) or not 0 <= credit <= 1:
                    problems.append(f'accepted {i}: "credit" must be a number from 0 to 1')
                    continue
                if "feedback" in entry and not isinstance(entry["feedback"], str):
                    problems.append(f'accepted {i}: "feedback" must be text')
                extra = sorted(set(entry) - {"answer", "credit", "feedback"})
                if extra:
                    problems.append(f'accepted {i}: unknown field "{extra[0]}"')
            else:
                problems.append(f"accepted {i}: must be text or a table with answer and credit")
                continue
            if not text.strip() or (text.strip() == "*" and credit == 1):
                problems.append(f"accepted {i}: an empty or match-anything answer would accept everything")
            full = full or credit == 1
        if not full and not problems:
            problems.append('"accepted" needs one fully correct answer')
        if "first_match" in spec and not isinstance(spec["first_match"], bool):
            problems.append('"first_match" must be true or false')
        return problems

    def learner_view(self, spec: Spec, seed: int, shuffle: bool = True) -> dict[str, Any]:
        return {"max_length": int(spec.get("max_length", 200))}

    def parse_response(self, form: Any, name: str, spec: Spec | None = None, seed: int = 0) -> Any:
        return (form.get(name) or "").strip()[:500] or None

    def grade(self, spec: Spec, response: Any) -> Grade:
        if not isinstance(response, str) or not response.strip():
            return Grade(0.0, False, ("No answer was given.",))
        given = normalise_text(response)
        matches = [
            (i, c) for i, (text, c) in enumerate(accepted_answers(spec)) if _pattern(text).match(given)
        ]
        chosen = pick(matches, bool(spec.get("first_match")))
        credit = chosen[1] if chosen else 0.0
        entry = spec["accepted"][chosen[0]] if chosen else None
        return Grade(
            credit, credit == 1.0, graded_feedback(spec, entry if isinstance(entry, dict) else None, credit)
        )

    def to_gift(self, spec: Spec) -> list[str]:
        """Each alternative with its own weight and feedback; ``feedback_incorrect`` becomes Moodle's
        ``=%0%*#…`` catch-all, the last answer."""
        accepted = spec["accepted"]
        wrong = spec.get("feedback_incorrect", "")
        lines = []
        for i in gift_order(
            spec, accepted, lambda e: 1.0 if isinstance(e, str) else float(e.get("credit", 1))
        ):
            entry = accepted[i] if isinstance(accepted[i], dict) else {"answer": accepted[i]}
            credit = float(entry.get("credit", 1.0))
            own, path = entry.get("feedback", ""), f"accepted.{i}.feedback"
            if not own and credit > 0 and spec.get("feedback_correct"):
                own, path = spec["feedback_correct"], "feedback_correct"
            elif not own and credit == 0 and wrong:
                own, path = wrong, "feedback_incorrect"
            text = gift_escape(entry["answer"])  # Moodle's short answers have no text format
            weight = gift_weight(gift_percent(credit) if credit != 1 else "", text, "%100%")
            lines.append(f"\t={weight}{text}{gift_feedback(own, spec, path)}")
        if wrong and not any(accepted_answers(spec)[i][0].strip() == "*" for i in range(len(accepted))):
            lines.append(f"\t=%0%*{gift_feedback(wrong, spec, 'feedback_incorrect')}")
        return lines

    def review(self, spec: Spec, response: Any) -> dict[str, Any]:
        best = [t for t, c in accepted_answers(spec) if c == 1.0]
        return {"your_answer": response or "", "correct_answer": " / ".join(best)}

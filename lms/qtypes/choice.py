"""Choice question types: single choice, multiple response, true/false."""

from __future__ import annotations

from itertools import combinations
from typing import Any, ClassVar

from lms.qtypes.base import (
    Grade,
    QuestionType,
    Spec,
    gift_feedback,
    gift_percent,
    gift_text,
    gift_weight,
    letter_range,
    letters,
    shuffled,
    token,
    untoken,
)


def _option_problems(spec: Spec) -> list[str]:
    options = spec.get("options")
    if not isinstance(options, list) or len(options) < 2:
        return ['"options" must list at least 2 options']
    problems = []
    for i, opt in enumerate(options):
        label = f"option {letters(len(options))[i]}"
        if not isinstance(opt, dict):
            problems.append(f"{label}: must be a table with text and feedback")
            continue
        if not isinstance(opt.get("text"), str) or not opt["text"].strip():
            problems.append(f'{label}: "text" is missing or empty')
        if "feedback" in opt and not isinstance(opt["feedback"], str):
            problems.append(f'{label}: "feedback" must be text')
        credit = opt.get("credit", 0)
        if isinstance(credit, bool) or not isinstance(credit, (int, float)) or not -1 <= credit <= 1:
            problems.append(f'{label}: "credit" must be a fraction from -1 to 1')
        extra = sorted(set(opt) - {"text", "feedback", "credit"})
        if extra:
            problems.append(f'{label}: unknown field "{extra[0]}"')
    if len(options) > 26:
        problems.append('"options" may hold at most 26 options')
    return problems


def _check_letter(value: Any, count: int, field: str) -> str | None:
    valid = letters(count)
    if not isinstance(value, str) or value.strip().upper() not in valid:
        return f'{field} "{value}" is not one of the options {letter_range(count)}'
    return None


class _ChoiceBase(QuestionType):
    """Options reach the page as opaque per-attempt tokens: neither the key nor the authored order shows."""

    def learner_view(self, spec: Spec, seed: int, shuffle: bool = True) -> dict[str, Any]:
        qid = spec.get("id", "")
        keyed = [
            {"value": token(seed, qid, "opt", i), "text": opt["text"]}
            for i, opt in enumerate(spec["options"])
        ]
        return {"options": shuffled(keyed, seed, qid) if shuffle else keyed}

    def _letter(self, spec: Spec, seed: int, value: str | None) -> str | None:
        count = len(spec["options"])
        index = untoken(seed, spec.get("id", ""), "opt", count, value)
        return letters(count)[index] if index is not None else None

    def _token(self, spec: Spec, seed: int, letter: Any) -> str:
        count = len(spec["options"])
        if isinstance(letter, str) and letter in letters(count):
            return token(seed, spec.get("id", ""), "opt", letters(count).index(letter))
        return ""

    def _option_rows(self, spec: Spec, chosen: set[str], correct: set[str]) -> list[dict[str, Any]]:
        return [
            {
                "key": key,
                "text": opt["text"],
                "chosen": key in chosen,
                "correct": key in correct,
                "feedback": opt.get("feedback", ""),
            }
            for key, opt in zip(letters(len(spec["options"])), spec["options"], strict=True)
        ]


def option_credits(spec: Spec) -> dict[str, float]:
    """Each option's ``credit`` (a fraction; default 0) by letter."""
    return {
        k: float(o.get("credit", 0))
        for k, o in zip(letters(len(spec["options"])), spec["options"], strict=True)
    }


#: the grades Moodle's question editor offers (question_bank::fraction_options_full), as fractions
MOODLE_FRACTIONS = (1.0, 0.9, 0.8333333, 0.8, 0.75, 0.7, 0.6666667, 0.6, 0.5, 0.4, 0.3333333, 0.3, 0.25, 0.2)
MOODLE_FRACTIONS += (0.1666667, 0.1428571, 0.125, 0.1111111, 0.1, 0.05)


def moodle_fraction(share: float) -> float | None:
    """Moodle's menu value for ``share`` (e.g. 0.3333333 for 1/3), or None when the menu has none."""
    for value in MOODLE_FRACTIONS:
        if abs(value - share) < 5e-8:
            return value
    return None


class SingleChoice(_ChoiceBase):
    """One option is chosen. The keyed ``answer`` scores 1; any option may carry a ``credit`` (a fraction
    from -1 to 1, default 0) for partial credit, as Moodle's weighted single-answer questions do. A question's
    score is never below 0 (Moodle would let a negative credit take marks away: a documented deviation)."""

    name: ClassVar[str] = "single_choice"
    label: ClassVar[str] = "Single choice"
    fields = frozenset({"options", "answer"})

    def validate(self, spec: Spec) -> list[str]:
        problems = self.unknown_fields(spec) + _option_problems(spec)
        if problems:
            return problems
        if "answer" not in spec:
            return ['"answer" is missing (the letter of the correct option)']
        problem = _check_letter(spec["answer"], len(spec["options"]), "answer")
        if problem:
            return [problem]
        keyed = spec["options"][letters(len(spec["options"])).index(spec["answer"].strip().upper())]
        if keyed.get("credit", 1) != 1:
            return [
                f'option {spec["answer"].strip().upper()} is the answer: its "credit" must be 1 or left out'
            ]
        return []

    def parse_response(self, form: Any, name: str, spec: Spec | None = None, seed: int = 0) -> Any:
        assert spec is not None
        return self._letter(spec, seed, (form.get(name) or "").strip())

    def shown_response(self, spec: Spec, seed: int, response: Any) -> Any:
        return self._token(spec, seed, response)

    def grade(self, spec: Spec, response: Any) -> Grade:
        options = dict(zip(letters(len(spec["options"])), spec["options"], strict=True))
        if not isinstance(response, str) or response not in options:
            return Grade(0.0, False, ("No answer was given.",) if not response else ())
        score = self.credit(spec, response)
        ok = score == 1.0
        feedback = options[response].get("feedback", "")
        return Grade(max(0.0, score), ok, (feedback,) if feedback else (), {response: ok})

    @staticmethod
    def credit(spec: Spec, letter: str) -> float:
        """The chosen option's fraction before the floor at 0: 1 for the key, else its ``credit``."""
        if letter == spec["answer"].strip().upper():
            return 1.0
        return option_credits(spec).get(letter, 0.0)

    def to_gift(self, spec: Spec) -> list[str]:
        lines = []
        for i, (letter, opt) in enumerate(zip(letters(len(spec["options"])), spec["options"], strict=True)):
            credit = self.credit(spec, letter)
            text = gift_text(spec, f"options.{i}.text", opt["text"])
            mark = (
                "=" if credit == 1 else "~" + gift_weight(gift_percent(credit) if credit else "", text, "%0%")
            )
            lines.append(f"\t{mark}{text}{gift_feedback(opt.get('feedback'), spec, f'options.{i}.feedback')}")
        return lines

    def gift_differences(self, spec: Spec) -> list[str]:
        """How Moodle would grade the export differently (negative credits take marks away in Moodle)."""
        out = []
        for letter in letters(len(spec["options"])):
            credit = self.credit(spec, letter)
            if credit < 0:
                out.append(f"choosing {letter} scores {credit:g} in Moodle, 0 in Helix")
                break
        return out

    def review(self, spec: Spec, response: Any) -> dict[str, Any]:
        keyed = {k for k in letters(len(spec["options"])) if self.credit(spec, k) == 1}
        chosen = {response} if isinstance(response, str) else set()
        return {"options": self._option_rows(spec, chosen, keyed)}


class MultipleResponse(_ChoiceBase):
    """Several correct options; partial credit, optional negative marking, never below zero.

    Three scoring rules, by the spec's fields:

    - default: correct choices ÷ max(correct options, choices made);
    - ``negative_marking``: (correct − wrong choices) ÷ correct options, clamped to [0, 1];
    - option ``credit`` weights (Moodle's): the sum of the chosen options' credits, clamped to [0, 1]
      (exactly Moodle's rule for its multiple-answer questions); ``answers`` then lists the options with a
      positive credit.
    """

    name: ClassVar[str] = "multiple_response"
    label: ClassVar[str] = "Multiple response"
    fields = frozenset({"options", "answers", "negative_marking"})

    def validate(self, spec: Spec) -> list[str]:
        problems = self.unknown_fields(spec) + _option_problems(spec)
        if problems:
            return problems
        answers = spec.get("answers")
        if not isinstance(answers, list) or not answers:
            return ['"answers" must list the letters of the correct options']
        for value in answers:
            problem = _check_letter(value, len(spec["options"]), "answer")
            if problem:
                problems.append(problem)
        if len({str(a).upper() for a in answers}) != len(answers):
            problems.append('"answers" lists the same option twice')
        if "negative_marking" in spec and not isinstance(spec["negative_marking"], bool):
            problems.append('"negative_marking" must be true or false')
        if self.weighted(spec) and not problems:
            positive = sorted(k for k, c in option_credits(spec).items() if c > 0)
            if spec.get("negative_marking"):
                problems.append('give either option "credit" weights or "negative_marking", not both')
            elif positive != sorted(str(a).upper() for a in answers):
                problems.append('"answers" must list exactly the options with a positive "credit"')
        return problems

    @staticmethod
    def weighted(spec: Spec) -> bool:
        return any("credit" in opt for opt in spec.get("options", []) if isinstance(opt, dict))

    def parse_response(self, form: Any, name: str, spec: Spec | None = None, seed: int = 0) -> Any:
        assert spec is not None
        chosen = {self._letter(spec, seed, v.strip()) for v in form.getlist(name)[: len(spec["options"]) * 2]}
        return sorted(c for c in chosen if c) or None

    def shown_response(self, spec: Spec, seed: int, response: Any) -> Any:
        return [self._token(spec, seed, letter) for letter in response or []]

    def grade(self, spec: Spec, response: Any) -> Grade:
        options = dict(zip(letters(len(spec["options"])), spec["options"], strict=True))
        correct = {a.strip().upper() for a in spec["answers"]}
        chosen = {r for r in (response or []) if r in options}
        if not chosen:
            return Grade(0.0, False, ("No option was chosen.",))
        right = len(chosen & correct)
        wrong = len(chosen - correct)
        if self.weighted(spec):
            credits = option_credits(spec)
            score = sum(credits[k] for k in chosen)
            score = 1.0 if abs(score - 1) < 1e-6 else score  # 3 × 0.3333333 is full marks, as in Moodle
        elif spec.get("negative_marking"):
            score = (right - wrong) / len(correct)
        else:
            score = right / max(len(correct), len(chosen))
        score = min(1.0, max(0.0, score))
        feedback = tuple(options[k].get("feedback", "") for k in sorted(chosen) if options[k].get("feedback"))
        ok = score == 1.0 if self.weighted(spec) else chosen == correct
        return Grade(score, ok, feedback, {k: k in correct for k in sorted(chosen)})

    def gift_credits(self, spec: Spec) -> dict[str, float]:
        """The Moodle weight each option is exported with: its own ``credit``, else +1/k for each of the k
        correct options and -1/k for each wrong one (Moodle's menu value where it has one, e.g. 0.3333333)."""
        if self.weighted(spec):
            return option_credits(spec)
        right = {a.strip().upper() for a in spec["answers"]}
        share = moodle_fraction(1 / len(right)) or round(1 / len(right), 7)
        return {k: share if k in right else -share for k in letters(len(spec["options"]))}

    def to_gift(self, spec: Spec) -> list[str]:
        credits = self.gift_credits(spec)
        lines = []
        for i, (letter, opt) in enumerate(zip(letters(len(spec["options"])), spec["options"], strict=True)):
            text = gift_text(spec, f"options.{i}.text", opt["text"])
            weight = gift_weight(gift_percent(credits[letter]) if credits[letter] else "", text, "%0%")
            lines.append(
                f"\t~{weight}{text}{gift_feedback(opt.get('feedback'), spec, f'options.{i}.feedback')}"
            )
        return lines

    def gift_differences(self, spec: Spec) -> list[str]:
        """Responses Moodle would score differently from Helix once it reads the export (one example).

        Weighted and negative-marking questions export exactly; the default rule is not a sum of weights, so a
        question with a wrong option differs (e.g. one right and one wrong choice: Moodle 0, Helix 1/2)."""
        credits = self.gift_credits(spec)
        keys = letters(len(spec["options"]))
        limit = len(keys) if len(keys) <= 10 else 3
        for size in range(1, limit + 1):
            for chosen in combinations(keys, size):
                moodle = min(1.0, max(0.0, sum(credits[k] for k in chosen)))
                helix = self.grade(spec, list(chosen)).score
                if abs(moodle - helix) > 1e-6:
                    return [
                        f"choosing {', '.join(chosen)} scores {moodle:.4g} in Moodle, {helix:.4g} in Helix"
                    ]
        if any(c and moodle_fraction(abs(c)) is None for c in credits.values()):
            return ["its weights are not on Moodle's grade menu (Moodle grades them as written until edited)"]
        return []

    def review(self, spec: Spec, response: Any) -> dict[str, Any]:
        correct = {a.strip().upper() for a in spec["answers"]}
        return {"options": self._option_rows(spec, set(response or []), correct)}


class TrueFalse(QuestionType):
    name: ClassVar[str] = "true_false"
    label: ClassVar[str] = "True / false"
    fields = frozenset({"answer", "feedback_true", "feedback_false"})

    def validate(self, spec: Spec) -> list[str]:
        problems = self.unknown_fields(spec)
        if not isinstance(spec.get("answer"), bool):
            problems.append('"answer" must be true or false')
        for key in ("feedback_true", "feedback_false"):
            if key in spec and not isinstance(spec[key], str):
                problems.append(f'"{key}" must be text')
        return problems

    def learner_view(self, spec: Spec, seed: int, shuffle: bool = True) -> dict[str, Any]:
        return {"options": [{"value": "true", "text": "True"}, {"value": "false", "text": "False"}]}

    def parse_response(self, form: Any, name: str, spec: Spec | None = None, seed: int = 0) -> Any:
        value = (form.get(name) or "").strip().lower()
        return {"true": True, "false": False}.get(value)

    def grade(self, spec: Spec, response: Any) -> Grade:
        if not isinstance(response, bool):
            return Grade(0.0, False, ("No answer was given.",))
        ok = response == spec["answer"]
        feedback = spec.get("feedback_true" if response else "feedback_false", "")
        return Grade(1.0 if ok else 0.0, ok, (feedback,) if feedback else ())

    def to_gift(self, spec: Spec) -> list[str]:
        answer = spec["answer"]
        wrong = spec.get("feedback_false" if answer else "feedback_true", "")
        right = spec.get("feedback_true" if answer else "feedback_false", "")
        wrong_path = "feedback_false" if answer else "feedback_true"
        right_path = "feedback_true" if answer else "feedback_false"
        tail = (
            f"#{gift_text(spec, wrong_path, wrong)}#{gift_text(spec, right_path, right)}"
            if (wrong or right)
            else ""
        )
        return [f"{'TRUE' if answer else 'FALSE'}{tail}"]

    def review(self, spec: Spec, response: Any) -> dict[str, Any]:
        return {
            "options": [
                {
                    "key": str(value).lower(),
                    "text": str(value),
                    "chosen": response is value,
                    "correct": spec["answer"] is value,
                    "feedback": spec.get("feedback_true" if value else "feedback_false", ""),
                }
                for value in (True, False)
            ]
        }

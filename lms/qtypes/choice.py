"""Choice question types: single choice, multiple response, true/false."""

from __future__ import annotations

from typing import Any, ClassVar

from lms.qtypes.base import (
    Grade,
    QuestionType,
    Spec,
    gift_escape,
    gift_feedback,
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
        extra = sorted(set(opt) - {"text", "feedback"})
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


class SingleChoice(_ChoiceBase):
    """One correct option among several."""

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
        return [problem] if problem else []

    def parse_response(self, form: Any, name: str, spec: Spec | None = None, seed: int = 0) -> Any:
        assert spec is not None
        return self._letter(spec, seed, (form.get(name) or "").strip())

    def shown_response(self, spec: Spec, seed: int, response: Any) -> Any:
        return self._token(spec, seed, response)

    def grade(self, spec: Spec, response: Any) -> Grade:
        key = spec["answer"].strip().upper()
        options = dict(zip(letters(len(spec["options"])), spec["options"], strict=True))
        if not isinstance(response, str) or response not in options:
            return Grade(0.0, False, ("No answer was given.",) if not response else ())
        ok = response == key
        feedback = options[response].get("feedback", "")
        return Grade(1.0 if ok else 0.0, ok, (feedback,) if feedback else (), {response: ok})

    def to_gift(self, spec: Spec) -> list[str]:
        lines = []
        for letter, opt in zip(letters(len(spec["options"])), spec["options"], strict=True):
            mark = "=" if letter == spec["answer"] else "~"
            lines.append(f"\t{mark}{gift_escape(opt['text'])}{gift_feedback(opt.get('feedback'))}")
        return lines

    def review(self, spec: Spec, response: Any) -> dict[str, Any]:
        key = spec["answer"].strip().upper()
        chosen = {response} if isinstance(response, str) else set()
        return {"options": self._option_rows(spec, chosen, {key})}


class MultipleResponse(_ChoiceBase):
    """Several correct options; partial credit, optional negative marking, never below zero."""

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
        return problems

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
        if spec.get("negative_marking"):
            score = (right - wrong) / len(correct)
        else:
            score = right / max(len(correct), len(chosen))
        score = min(1.0, max(0.0, score))
        feedback = tuple(options[k].get("feedback", "") for k in sorted(chosen) if options[k].get("feedback"))
        return Grade(score, chosen == correct, feedback, {k: k in correct for k in sorted(chosen)})

    def to_gift(self, spec: Spec) -> list[str]:
        keys = letters(len(spec["options"]))
        right = set(spec["answers"])
        wrong_count = len(keys) - len(right)
        lines = []
        for letter, opt in zip(keys, spec["options"], strict=True):
            if letter in right:
                weight = f"%{100 / len(right):g}%"
            elif spec.get("negative_marking"):
                weight = f"%{-100 / max(1, wrong_count):g}%"
            else:
                weight = "%0%"
            lines.append(f"\t~{weight}{gift_escape(opt['text'])}{gift_feedback(opt.get('feedback'))}")
        return lines

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
        tail = f"#{gift_escape(wrong)}#{gift_escape(right)}" if (wrong or right) else ""
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

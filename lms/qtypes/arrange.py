"""Arrangement question types: ordering and matching, answered with selects (no drag needed).

Items are identified in the page by opaque per-attempt tokens, so the HTML never reveals the correct order
or the correct pairs.
"""

from __future__ import annotations

from typing import Any, ClassVar

from lms.qtypes.base import Grade, QuestionType, Spec, gift_escape, gift_text, shuffled, token, untoken


def _texts_problems(values: Any, field: str, minimum: int) -> list[str]:
    if not isinstance(values, list) or len(values) < minimum:
        return [f'"{field}" must list at least {minimum} entries']
    problems = [
        f"{field} {i}: must be non-empty text"
        for i, v in enumerate(values, 1)
        if not isinstance(v, str) or not v.strip()
    ]
    if not problems and len(set(values)) != len(values):
        problems.append(f'"{field}" lists the same text twice')
    return problems


class Ordering(QuestionType):
    """Put items in order. ``items`` are written in the correct order and shown shuffled."""

    name: ClassVar[str] = "ordering"
    label: ClassVar[str] = "Ordering"
    fields = frozenset({"items", "feedback_correct", "feedback_incorrect"})

    def validate(self, spec: Spec) -> list[str]:
        return self.unknown_fields(spec) + _texts_problems(spec.get("items"), "items", 2)

    def learner_view(self, spec: Spec, seed: int, shuffle: bool = True) -> dict[str, Any]:
        qid = spec.get("id", "")
        items = [{"value": token(seed, qid, "item", i), "text": t} for i, t in enumerate(spec["items"])]
        # Always shuffled: the written order is the answer.
        return {"items": shuffled(items, seed, qid + ":order"), "positions": len(items)}

    def shown_response(self, spec: Spec, seed: int, response: Any) -> Any:
        qid = spec.get("id", "")
        if not isinstance(response, list):
            return []
        return [token(seed, qid, "item", i) if isinstance(i, int) else "" for i in response]

    def parse_response(self, form: Any, name: str, spec: Spec | None = None, seed: int = 0) -> Any:
        assert spec is not None
        count = len(spec["items"])
        out: list[int | None] = []
        for pos in range(count):
            out.append(untoken(seed, spec.get("id", ""), "item", count, form.get(f"{name}-{pos}")))
        return None if all(v is None for v in out) else out

    def grade(self, spec: Spec, response: Any) -> Grade:
        count = len(spec["items"])
        if not isinstance(response, list) or all(v is None for v in response):
            return Grade(0.0, False, ("No order was given.",))
        placed = list(response[:count]) + [None] * (count - len(response))
        parts = {str(pos + 1): placed[pos] == pos for pos in range(count)}
        score = sum(parts.values()) / count
        ok = score == 1.0
        feedback = spec.get("feedback_correct" if ok else "feedback_incorrect", "")
        return Grade(score, ok, (feedback,) if feedback else (), parts)

    def review(self, spec: Spec, response: Any) -> dict[str, Any]:
        items = spec["items"]
        given = [items[i] if isinstance(i, int) and 0 <= i < len(items) else "—" for i in (response or [])]
        return {
            "your_answer": " → ".join(given),
            "correct_answer": " → ".join(items),
        }


class Matching(QuestionType):
    """Match each prompt to one answer; ``distractors`` are extra wrong answers."""

    name: ClassVar[str] = "matching"
    label: ClassVar[str] = "Matching"
    fields = frozenset({"pairs", "distractors", "feedback_correct", "feedback_incorrect"})

    def validate(self, spec: Spec) -> list[str]:
        problems = self.unknown_fields(spec)
        pairs = spec.get("pairs")
        if not isinstance(pairs, list) or len(pairs) < 2:
            return [*problems, '"pairs" must list at least 2 prompt/match pairs']
        for i, pair in enumerate(pairs, 1):
            if not isinstance(pair, dict) or not all(
                isinstance(pair.get(k), str) and pair[k].strip() for k in ("prompt", "match")
            ):
                problems.append(f"pairs {i}: needs non-empty prompt and match")
            elif set(pair) - {"prompt", "match"}:
                problems.append(f'pairs {i}: unknown field "{sorted(set(pair) - {"prompt", "match"})[0]}"')
        if problems:
            return problems
        prompts = [p["prompt"] for p in pairs]
        if len(set(prompts)) != len(prompts):
            problems.append('"pairs" repeats a prompt')
        distractors = spec.get("distractors", [])
        if not isinstance(distractors, list) or not all(
            isinstance(d, str) and d.strip() for d in distractors
        ):
            problems.append('"distractors" must be a list of texts')
        elif set(distractors) & {p["match"] for p in pairs}:
            problems.append("a distractor is also a correct match")
        return problems

    def _choices(self, spec: Spec) -> list[str]:
        seen: list[str] = []
        for text in [p["match"] for p in spec["pairs"]] + list(spec.get("distractors", [])):
            if text not in seen:
                seen.append(text)
        return seen

    def learner_view(self, spec: Spec, seed: int, shuffle: bool = True) -> dict[str, Any]:
        qid = spec.get("id", "")
        prompts = [
            {"value": token(seed, qid, "prompt", i), "text": p["prompt"]} for i, p in enumerate(spec["pairs"])
        ]
        choices = [
            {"value": token(seed, qid, "choice", i), "text": t} for i, t in enumerate(self._choices(spec))
        ]
        return {
            "prompts": shuffled(prompts, seed, qid + ":prompts") if shuffle else prompts,
            "choices": shuffled(choices, seed, qid + ":choices"),
        }

    def shown_response(self, spec: Spec, seed: int, response: Any) -> Any:
        qid = spec.get("id", "")
        if not isinstance(response, dict):
            return {}
        return {
            token(seed, qid, "prompt", int(i)): token(seed, qid, "choice", c)
            for i, c in response.items()
            if str(i).isdigit() and isinstance(c, int)
        }

    def parse_response(self, form: Any, name: str, spec: Spec | None = None, seed: int = 0) -> Any:
        assert spec is not None
        qid = spec.get("id", "")
        choices = self._choices(spec)
        out: dict[str, int] = {}
        for i in range(len(spec["pairs"])):
            raw = form.get(f"{name}-{token(seed, qid, 'prompt', i)}")
            chosen = untoken(seed, qid, "choice", len(choices), raw)
            if chosen is not None:
                out[str(i)] = chosen
        return out or None

    def grade(self, spec: Spec, response: Any) -> Grade:
        if not isinstance(response, dict) or not response:
            return Grade(0.0, False, ("No matches were given.",))
        choices = self._choices(spec)
        parts = {}
        for i, pair in enumerate(spec["pairs"]):
            chosen = response.get(str(i))
            parts[pair["prompt"]] = (
                isinstance(chosen, int) and 0 <= chosen < len(choices) and choices[chosen] == pair["match"]
            )
        score = sum(parts.values()) / len(parts)
        ok = score == 1.0
        feedback = spec.get("feedback_correct" if ok else "feedback_incorrect", "")
        return Grade(score, ok, (feedback,) if feedback else (), parts)

    def to_gift(self, spec: Spec) -> list[str]:
        lines = [
            f"\t={gift_text(spec, f'pairs.{i}.prompt', p['prompt'])} -> {gift_escape(p['match'])}"
            for i, p in enumerate(spec["pairs"])
        ]
        return lines + [f"\t= -> {gift_escape(extra)}" for extra in spec.get("distractors", [])]

    def review(self, spec: Spec, response: Any) -> dict[str, Any]:
        choices = self._choices(spec)
        rows = []
        for i, pair in enumerate(spec["pairs"]):
            chosen = (response or {}).get(str(i))
            given = choices[chosen] if isinstance(chosen, int) and 0 <= chosen < len(choices) else "—"
            rows.append(
                {
                    "prompt": pair["prompt"],
                    "given": given,
                    "match": pair["match"],
                    "correct": given == pair["match"],
                }
            )
        return {"pairs": rows}

"""Moodle GIFT import and export.

The parser turns a GIFT file into question specs of the registered question types; every question it cannot
import is reported with its line number and the reason, never silently dropped. Export writes the same specs
back as GIFT, so export → import gives the same questions.

Supported: comments, ``$CATEGORY:``, ``::title::``, text-format prefixes, escapes, multiple choice (with
feedback), weighted multiple response, true/false with feedback, short answer (with partial credit and ``*``),
numeric (value:tolerance, ranges, several weighted answers), matching (with distractors), essay, missing word,
and general feedback (``####``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lms.plugins import QuestionTypeRegistry, UnknownQuestionType
from lms.qtypes.base import GiftUnsupported, gift_escape

ESCAPABLE = "~=#{}:"
FORMATS = ("[html]", "[plain]", "[markdown]", "[moodle]")
KEY_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$")


class GiftEncodingError(ValueError):
    """The file is not UTF-8 text."""


@dataclass(frozen=True)
class GiftQuestion:
    line: int
    key: str
    category: str
    spec: dict[str, Any]


@dataclass(frozen=True)
class GiftProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class GiftResult:
    questions: list[GiftQuestion] = field(default_factory=list)
    problems: list[GiftProblem] = field(default_factory=list)


class _Skip(Exception):
    """This block is not a question (reported with its reason)."""


def decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GiftEncodingError(
            f"The file is not UTF-8 text (invalid byte at position {exc.start}). "
            "Save it as UTF-8 and import it again; nothing was imported."
        ) from None
    return text.removeprefix("\ufeff")


def unescape(text: str) -> str:
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in ESCAPABLE or nxt == "\\":
                out.append(nxt)
                i += 2
                continue
            if nxt == "n":
                out.append("\n")
                i += 2
                continue
        out.append(ch)
        i += 1
    return "".join(out)


escape = gift_escape


def _split_unescaped(text: str, seps: str) -> list[tuple[str, str]]:
    """Split on unescaped separator characters, keeping which separator started each part."""
    parts: list[tuple[str, str]] = []
    current: list[str] = []
    lead = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch in seps:
            parts.append((lead, "".join(current)))
            current, lead = [], ch
            i += 1
            continue
        current.append(ch)
        i += 1
    parts.append((lead, "".join(current)))
    return parts


def _find_unescaped(text: str, target: str, start: int = 0) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(target, i):
            return i
        i += 1
    return -1


def _blocks(text: str) -> Iterator[tuple[int, str, str]]:
    """(first line number, category, block text) for each question block."""
    category = ""
    lines: list[str] = []
    first = 0
    depth = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if depth == 0 and stripped.startswith("//"):
            continue
        if depth == 0 and stripped.upper().startswith("$CATEGORY:"):
            if lines:
                yield first, category, "\n".join(lines)
                lines = []
            category = stripped.split(":", 1)[1].strip()
            continue
        if not stripped and depth == 0:
            if lines:
                yield first, category, "\n".join(lines)
                lines = []
            continue
        if not lines:
            first = number
        lines.append(raw)
        i = 0
        while i < len(raw):
            if raw[i] == "\\":
                i += 2
                continue
            if raw[i] == "{":
                depth += 1
            elif raw[i] == "}":
                depth = max(0, depth - 1)
            i += 1
    if lines:
        yield first, category, "\n".join(lines)


def _weight(text: str) -> tuple[float | None, str]:
    match = re.match(r"^%(-?\d+(?:\.\d+)?)%(.*)$", text, re.S)
    if match:
        return float(match.group(1)) / 100, match.group(2)
    return None, text


def _answer_and_feedback(text: str) -> tuple[str, str]:
    pos = _find_unescaped(text, "#")
    if pos < 0:
        return unescape(text.strip()), ""
    return unescape(text[:pos].strip()), unescape(text[pos + 1 :].strip())


def parse_block(block: str) -> tuple[str, dict[str, Any]]:
    """Parse one GIFT question into (type name, spec). Raises ValueError or _Skip with the reason."""
    body = " ".join(line.strip() for line in block.splitlines() if not line.strip().startswith("//"))
    title = ""
    if body.startswith("::"):
        end = _find_unescaped(body, "::", 2)
        if end < 0:
            raise ValueError('the title is not closed with "::"')
        title = unescape(body[2:end].strip())
        body = body[end + 2 :].strip()
    for fmt in FORMATS:
        if body.lower().startswith(fmt):
            body = body[len(fmt) :].strip()
            break
    open_at = _find_unescaped(body, "{")
    if open_at < 0:
        raise _Skip("no answer block in braces: a description, not a question")
    close_at = _find_unescaped(body, "}", open_at)
    if close_at < 0:
        raise ValueError('the answer block is not closed with "}"')
    before, inner, after = (
        body[:open_at].strip(),
        body[open_at + 1 : close_at].strip(),
        body[close_at + 1 :].strip(),
    )
    if _find_unescaped(after, "{") >= 0:
        raise ValueError("more than one answer block in one question is not supported")
    for fmt in FORMATS:
        if inner.lower().startswith(fmt):
            inner = inner[len(fmt) :].strip()
    prompt = unescape(before)
    if after:
        prompt = f"{prompt} _____ {unescape(after)}".strip()
    if not prompt:
        raise ValueError("the question has no text")
    general = ""
    gpos = _find_unescaped(inner, "####")
    if gpos >= 0:
        general = unescape(inner[gpos + 4 :].strip())
        inner = inner[:gpos].strip()
    spec: dict[str, Any] = {"prompt": prompt}
    if title:
        spec["title"] = title
    if general:
        spec["explanation"] = general
    qtype, fields = _answers(inner)
    spec.update(fields)
    return qtype, spec


def _answers(inner: str) -> tuple[str, dict[str, Any]]:
    if not inner:
        return "free_text", {}
    tf = re.match(r"^(T|TRUE|F|FALSE)\s*(#.*)?$", inner, re.S | re.I)
    if tf:
        answer = tf.group(1).upper().startswith("T")
        fields: dict[str, Any] = {"answer": answer}
        feedback = _split_unescaped(tf.group(2) or "", "#")[1:]
        wrong = unescape(feedback[0][1].strip()) if len(feedback) > 0 else ""
        right = unescape(feedback[1][1].strip()) if len(feedback) > 1 else ""
        if wrong:
            fields["feedback_false" if answer else "feedback_true"] = wrong
        if right:
            fields["feedback_true" if answer else "feedback_false"] = right
        return "true_false", fields
    if inner.startswith("#"):
        return "numeric", _numeric(inner[1:].strip())
    parts = [(lead, text.strip()) for lead, text in _split_unescaped(inner, "=~") if lead]
    if not parts:
        raise ValueError("the answer block has no answers (start each with = or ~)")
    if any(lead == "=" and _find_unescaped(text, "->") >= 0 for lead, text in parts):
        return "matching", _matching(parts)
    if any(lead == "~" for lead, _ in parts):
        return _choice(parts)
    return "short_answer", _short(parts)


def _numeric_entry(text: str) -> dict[str, Any]:
    value, feedback = _answer_and_feedback(text)
    try:
        if ".." in value:
            low, high = (float(v) for v in value.split("..", 1))
            entry: dict[str, Any] = {"range": [low, high]}
        elif ":" in value:
            num, tol = value.split(":", 1)
            entry = {"answer": float(num), "tolerance": float(tol)}
        else:
            entry = {"answer": float(value)}
    except ValueError:
        raise ValueError(f'"{value}" is not a number, a value:tolerance or a min..max range') from None
    if feedback:
        entry["feedback"] = feedback
    return entry


def _numeric(inner: str) -> dict[str, Any]:
    if inner.startswith("="):
        entries = []
        for lead, text in _split_unescaped(inner, "="):
            if not lead:
                continue
            weight, rest = _weight(text.strip())
            entry = _numeric_entry(rest)
            entry.pop("feedback", None)
            if weight is not None and weight != 1:
                entry["credit"] = weight
            entries.append(entry)
        return {"answers": entries}
    entry = _numeric_entry(inner)
    feedback = entry.pop("feedback", "")
    if feedback:
        entry["feedback_correct"] = feedback
    return entry


def _choice(parts: list[tuple[str, str]]) -> tuple[str, dict[str, Any]]:
    options, weights = [], []
    for lead, text in parts:
        weight, rest = _weight(text)
        answer, feedback = _answer_and_feedback(rest)
        if not answer:
            raise ValueError("an option is empty")
        option = {"text": answer}
        if feedback:
            option["feedback"] = feedback
        options.append(option)
        weights.append(weight if weight is not None else (1.0 if lead == "=" else 0.0))
    letters = [chr(ord("A") + i) for i in range(len(options))]
    positive = [letter for letter, w in zip(letters, weights, strict=True) if w > 0]
    if not positive:
        raise ValueError("no option is marked correct (= or a positive %weight%)")
    if len(positive) == 1 and weights[letters.index(positive[0])] == 1.0:
        return "single_choice", {"answer": positive[0], "options": options}
    fields: dict[str, Any] = {"answers": positive, "options": options}
    if any(w < 0 for w in weights):
        fields["negative_marking"] = True
    return "multiple_response", fields


def _short(parts: list[tuple[str, str]]) -> dict[str, Any]:
    accepted: list[Any] = []
    correct_fb = ""
    for _lead, text in parts:
        weight, rest = _weight(text)
        answer, feedback = _answer_and_feedback(rest)
        if not answer:
            raise ValueError("an accepted answer is empty")
        if weight is None or weight == 1:
            accepted.append(answer)
            correct_fb = correct_fb or feedback
        elif weight > 0:
            accepted.append({"answer": answer, "credit": weight})
    fields: dict[str, Any] = {"accepted": accepted}
    if correct_fb:
        fields["feedback_correct"] = correct_fb
    return fields


def _matching(parts: list[tuple[str, str]]) -> dict[str, Any]:
    pairs, distractors = [], []
    for lead, text in parts:
        if lead != "=":
            raise ValueError("matching answers must all start with =")
        arrow = _find_unescaped(text, "->")
        if arrow < 0:
            raise ValueError(f'matching answer "{unescape(text)}" has no "->"')
        prompt, match = unescape(text[:arrow].strip()), unescape(text[arrow + 2 :].strip())
        if not prompt:
            distractors.append(match)
        else:
            pairs.append({"prompt": prompt, "match": match})
    if len(pairs) < 3:
        raise ValueError(f"matching needs at least three pairs, this one has {len(pairs)}")
    fields: dict[str, Any] = {"pairs": pairs}
    if distractors:
        fields["distractors"] = distractors
    return fields


def parse_gift(text: str, registry: QuestionTypeRegistry) -> GiftResult:
    """Parse a whole GIFT file; each question is validated by its question type."""
    result = GiftResult()
    used: set[str] = set()
    for n, (line, category, block) in enumerate(_blocks(text), 1):
        try:
            qtype, spec = parse_block(block)
        except _Skip as skip:
            result.problems.append(GiftProblem(line, f"not imported: {skip}"))
            continue
        except ValueError as exc:
            result.problems.append(GiftProblem(line, f"not imported: {exc}"))
            continue
        title = spec.pop("title", "")
        key = title if title and KEY_OK.match(title) else f"gift-{n}"
        while key in used:
            key += "-2"
        used.add(key)
        spec = {"id": key, "type": qtype, **spec}
        if qtype not in registry:
            result.problems.append(
                GiftProblem(line, f'not imported: question type "{qtype}" is not installed')
            )
            continue
        problems = registry.get(qtype).validate(spec)
        if problems:
            result.problems.append(GiftProblem(line, "not imported: " + "; ".join(problems)))
            continue
        result.questions.append(GiftQuestion(line, key, category, spec))
    return result


# -- export -------------------------------------------------------------------------------------------


def question_to_gift(spec: dict[str, Any], registry: QuestionTypeRegistry) -> str:
    """One question spec as GIFT, through its type's ``to_gift``; ValueError when GIFT cannot express it."""
    try:
        lines = registry.get(spec["type"]).to_gift(spec)
    except (UnknownQuestionType, GiftUnsupported) as exc:
        raise ValueError(str(exc)) from None
    head = f"::{escape(spec['id'])}::[markdown]{escape(spec['prompt'])} "
    if spec.get("explanation"):
        lines = [*lines, f"\t####{escape(spec['explanation'])}"]
    if not lines:
        return head + "{}"
    if len(lines) == 1 and not lines[0].startswith("\t"):
        return head + "{" + lines[0] + "}"
    return head + "{\n" + "\n".join(lines) + "\n}"


def to_gift(
    specs: list[dict[str, Any]], registry: QuestionTypeRegistry, category: str = ""
) -> tuple[str, list[str]]:
    """A GIFT document for ``specs`` plus the ids of questions GIFT cannot express (reported, not dropped)."""
    out = (
        [f"// Exported by Helix LMS\n$CATEGORY: {category}\n"] if category else ["// Exported by Helix LMS\n"]
    )
    skipped = []
    for spec in specs:
        try:
            out.append(question_to_gift(spec, registry) + "\n")
        except ValueError:
            skipped.append(spec["id"])
    return "\n".join(out), skipped

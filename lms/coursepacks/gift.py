"""Moodle GIFT import and export, with the meaning Moodle gives it.

The reader follows Moodle 4.5's GIFT parser (``question/format/gift/format.php``) construct by construct, so a
question means in Helix what it meant in Moodle: answer weights, per-answer feedback, text formats, names, id
numbers and tags, and the order in which Moodle decides a question's type. Where Helix cannot express Moodle's
meaning it either refuses the question or imports it with a warning; both are reported with the question's
line, so no question ever disappears silently. The deliberate deviations are listed in
``docs/question-types.md``.

A file is split into questions at blank lines, as Moodle does: a malformed question (an unclosed ``{``) is
reported and the questions after it still import.

Export writes each question through its type's ``to_gift`` hook, with numbers at full precision, names,
categories, id numbers, tags and formats, and reports every question Moodle would grade differently.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import nh3

from lms.coursepacks.markdown import ATTRIBUTES, TAGS, render_markdown
from lms.plugins import QuestionTypeRegistry, UnknownQuestionType
from lms.qtypes.base import GIFT_FIELDS, TEXT_FORMATS, GiftUnsupported, gift_escape, text_format

FORMATS = tuple(f"[{name}]" for name in TEXT_FORMATS)
KEY_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$")
KEY_LENGTH = 80
TAG_LENGTH = 50
#: Moodle's answer-weight syntax: ``%50%``, ``%-33.33333%`` (at most two digits before the point)
WEIGHT = re.compile(r"^%-*([0-9]{1,2})\.?([0-9]*)%")
#: what PHP's is_numeric accepts for a GIFT number
NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")
_ID = re.compile(r"\[id:((?:\\\]|[^\]\x00-\x1f\x7f])+)\]")
_TAG = re.compile(r"\[tag:((?:\\\]|[^\]\x00-\x1f\x7f])+)\]")

# Escaped characters are replaced by private-use placeholders before parsing and restored afterwards, so the
# structure can be found with plain string searches.
_ESCAPES = {"\\": "\ue000", ":": "\ue001", "#": "\ue002", "=": "\ue003", "{": "\ue004", "}": "\ue005"}
_ESCAPES |= {"~": "\ue006", "n": "\ue007"}
_RESTORE = {v: ("\n" if k == "n" else k) for k, v in _ESCAPES.items()}
ESCAPABLE = "~=#{}:"


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
    """One line of an import or export report."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class GiftResult:
    questions: list[GiftQuestion] = field(default_factory=list)
    #: questions not imported, with the reason
    problems: list[GiftProblem] = field(default_factory=list)
    #: questions imported where Helix's meaning differs from Moodle's in a documented way
    warnings: list[GiftProblem] = field(default_factory=list)


class _Refused(ValueError):
    """This block is not imported (the message says why)."""


def decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GiftEncodingError(
            f"The file is not UTF-8 text (invalid byte at position {exc.start}). "
            "Save it as UTF-8 and import it again; nothing was imported."
        ) from None
    return text.removeprefix("\ufeff")


def _protect(text: str) -> str:
    """Replace GIFT escapes (``\\:``, ``\\#``, ``\\=``, ``\\{``, ``\\}``, ``\\~``, ``\\n``, ``\\\\``) with
    placeholders; any other backslash is literal, as in Moodle."""
    out = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPES:
            out.append(_ESCAPES[text[i + 1]])
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _restore(text: str) -> str:
    return "".join(_RESTORE.get(ch, ch) for ch in text)


def unescape(text: str) -> str:
    return _restore(_protect(text))


escape = gift_escape


def _formatted(text: str, default: str) -> tuple[str, str]:
    """(text, format) of a protected text, with a leading ``[html]``-style prefix consumed (Moodle's names
    only, lower case; anything else in brackets is text)."""
    text = text.strip()
    fmt = default
    if text.startswith("["):
        end = text.find("]")
        if end > 0 and text[1:end] in TEXT_FORMATS:
            fmt, text = text[1:end], text[end + 1 :]
    return _restore(text).strip(), fmt


def _weight(text: str) -> tuple[float | None, str]:
    """(weight, rest) for an answer starting with ``%n%``; (None, text) otherwise."""
    if not WEIGHT.match(text):
        return None, text
    end = text.index("%", 1)
    raw = text[1:end]
    try:
        value = float(Decimal(raw) / 100)  # exact: "33.33333" is 0.3333333, not 0.33333329999999994
    except InvalidOperation:
        raise _Refused(f'"%{raw}%" is not a weight') from None
    return value, text[end + 1 :]


def _split_feedback(text: str) -> tuple[str, str | None]:
    pos = text.find("#")
    return (text, None) if pos < 0 else (text[:pos], text[pos + 1 :])


def _parts(text: str, sep: str) -> list[str]:
    """Moodle's ``explode``: the part before the first separator is dropped when it is blank."""
    parts = text.split(sep)
    if not parts[0].strip():
        parts = parts[1:]
    return parts


def extract_id_and_tags(comment: str) -> tuple[str, list[str]]:
    """Moodle's ``[id:...]`` and ``[tag:...]`` tokens from a question's comment lines (``\\]`` escapes a
    bracket; a token never spans lines)."""
    found = _ID.search(comment)
    idnumber = found.group(1).replace("\\]", "]").strip() if found else ""
    tags = [t.replace("\\]", "]").strip() for t in _TAG.findall(comment)]
    return idnumber, [t for t in tags if t]


def derive_key(name: str) -> str:
    """A question key from its GIFT name: the name itself when it already is a valid key, else a slug."""
    if KEY_OK.match(name):
        return name
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[: KEY_LENGTH - 8].rstrip("-")


@dataclass
class _Block:
    line: int
    lines: list[str]
    comments: list[str]
    #: the block starts on the line right after a ``$CATEGORY:`` line (Moodle would glue them together)
    after_category: bool = False


@dataclass(frozen=True)
class _Category:
    name: str


def _blocks(text: str) -> Iterator[_Block | _Category]:
    """Category switches and question blocks, in file order; questions are separated by blank lines."""
    current = _Block(0, [], [])
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped:
            if current.lines:
                yield current
            current = _Block(0, [], [])
            continue
        if stripped.startswith("//"):
            current.comments.append(stripped)
            continue
        if not current.lines and stripped.upper().startswith("$CATEGORY:"):
            yield _Category(stripped.split(":", 1)[1].strip())
            current = _Block(0, [], [], after_category=True)
            continue
        if not current.lines:
            current.line = number
        current.lines.append(raw.rstrip())
    if current.lines:
        yield current


@dataclass
class _Parsed:
    qtype: str
    spec: dict[str, Any]
    name: str
    warnings: list[str]


class _Texts:
    """Collects each text's format: ``format`` for the prompt, ``formats`` where another text differs."""

    def __init__(self, question_format: str) -> None:
        self.default = question_format
        self.overrides: dict[str, str] = {}

    def take(self, path: str, protected: str) -> str:
        text, fmt = _formatted(protected, self.default)
        if fmt != self.default and text:
            self.overrides[path] = fmt
        return text


def parse_block(lines: list[str], comments: list[str] | None = None) -> _Parsed:
    """One GIFT question (its non-comment lines) as a Helix question type and spec. Raises ``_Refused``."""
    text = _protect("\n".join(lines).strip())
    warnings: list[str] = []
    name = ""
    if text.startswith("::"):
        end = text.find("::", 2)
        if end >= 0:
            name = " ".join(_restore(text[2:end]).split())
            text = text[end + 2 :].strip()
        else:
            text = text[2:]
    start, finish = text.find("{"), text.find("}")
    if start < 0 and finish < 0:
        raise _Refused("no answer block in braces: a description, which Helix does not import as a question")
    if start < 0:
        raise _Refused('a "}" closes an answer block that was never opened with "{"')
    if finish < 0:
        raise _Refused('the answer block is not closed with "}"')
    if finish < start:
        raise _Refused('a "}" comes before the answer block\'s "{"')
    answer = text[start + 1 : finish].strip()
    if "{" in text[finish + 1 :]:
        raise _Refused("more than one answer block in one question is not supported")
    # As Moodle: no blank when the block ends the question; "_____" where a missing word was.
    question = text[:start] + ("" if text.endswith("}") else "_____") + text[finish + 1 :]
    general = ""
    gpos = answer.rfind("####")
    if gpos >= 0:
        general, answer = answer[gpos + 4 :], answer[:gpos].strip()
    prompt, qfmt = _formatted(question, "moodle")
    if not prompt:
        raise _Refused("the question has no text")
    texts = _Texts(qfmt)
    explanation = texts.take("explanation", general)
    spec: dict[str, Any] = {"prompt": prompt}
    if not answer:
        qtype, fields = "free_text", {}
        warnings.append("an essay: imported as an ungraded free-text item (Helix has no manual grading)")
    elif answer.startswith("#"):
        qtype, fields = "numeric", _numeric(answer[1:], texts)
    elif "~" in answer:
        qtype, fields = _choice(answer, texts, warnings)
    elif "=" in answer and "->" in answer:
        qtype, fields = "matching", _matching(answer, texts)
    else:
        check = answer
        if answer.find("#") > 0:
            check = answer[: answer.find("#")].strip()
        if check in ("T", "TRUE", "F", "FALSE"):
            qtype, fields = "true_false", _true_false(answer, texts)
        else:
            if check.upper() in ("T", "TRUE", "F", "FALSE"):
                warnings.append(
                    f'"{{{check}}}" is a short answer accepting the word "{check}", as Moodle reads it: '
                    "true/false needs upper case ({TRUE} or {FALSE})"
                )
            qtype, fields = "short_answer", _short(answer, texts)
    spec.update(fields)
    if explanation:
        spec["explanation"] = explanation
    if qfmt != "markdown":
        spec["format"] = qfmt
    if texts.overrides:
        spec["formats"] = dict(sorted(texts.overrides.items()))
    idnumber, tags = extract_id_and_tags("\n".join(comments or []))
    if idnumber:
        spec["idnumber"] = idnumber
    kept = []
    for tag in tags:
        if len(tag) > TAG_LENGTH:
            warnings.append(f'tag "{tag[:20]}…" is longer than {TAG_LENGTH} characters and was not kept')
        elif tag not in kept:
            kept.append(tag)
    if kept:
        spec["tags"] = kept
    return _Parsed(qtype, spec, name, warnings)


def _number(text: str, what: str) -> float:
    if not NUMBER.match(text):
        raise _Refused(f'"{text.strip()}" is not a number ({what})')
    return float(text)


def _numeric(inner: str, texts: _Texts) -> dict[str, Any]:
    wrong_feedback = ""
    tilde = inner.find("~")
    if tilde >= 0:
        _, fb = _split_feedback(inner[tilde:])
        wrong_feedback = texts.take("feedback_incorrect", fb) if fb is not None else ""
        inner = inner[:tilde]
    parts = _parts(inner, "=")
    if not parts:
        raise _Refused("the numerical question has no answers")
    entries: list[dict[str, Any]] = []
    for i, part in enumerate(parts):
        weight, rest = _weight(part.strip())
        value, fb = _split_feedback(rest)
        value = _restore(value).strip()
        entry: dict[str, Any]
        if value.find("..") > 0:
            low, high = value.split("..", 1)
            entry = {"range": [_number(low, "range minimum"), _number(high, "range maximum")]}
        elif value.find(":") > 0:
            num, tol = value.split(":", 1)
            entry = {"answer": _number(num, "answer"), "tolerance": _number(tol, "tolerance")}
        else:
            entry = {"answer": _number(value, "answer")}
        if weight is not None and weight != 1:
            entry["credit"] = weight
        if fb is not None:
            feedback = texts.take(f"answers.{i}.feedback", fb)
            if feedback:
                entry["feedback"] = feedback
        entries.append(entry)
    fields: dict[str, Any]
    if len(entries) == 1 and "credit" not in entries[0]:
        fields = dict(entries[0])
        if "feedback" in fields:
            fields["feedback_correct"] = fields.pop("feedback")
            if "answers.0.feedback" in texts.overrides:
                texts.overrides["feedback_correct"] = texts.overrides.pop("answers.0.feedback")
    else:
        fields = {"answers": entries}
        if _order_matters([float(e.get("credit", 1.0)) for e in entries]):
            fields["first_match"] = True
    if wrong_feedback:
        fields["feedback_incorrect"] = wrong_feedback
    return fields


def _order_matters(credits: list[float]) -> bool:
    """Moodle grades by the first matching answer, Helix by the best: the same unless a later answer has more
    credit than an earlier one."""
    return any(later > earlier for i, earlier in enumerate(credits) for later in credits[i + 1 :])


def _choice(answer: str, texts: _Texts, warnings: list[str]) -> tuple[str, dict[str, Any]]:
    single = "=" in answer  # Moodle: one "=" anywhere makes it a single-answer question
    parts = [p.strip() for p in _parts(answer.replace("=", "~="), "~")]
    if len(parts) < 2:
        raise _Refused("a choice question needs at least two answers")
    options: list[dict[str, Any]] = []
    weights: list[float] = []
    for i, part in enumerate(parts):
        if part.startswith("="):
            weight, rest = 1.0, part[1:]
        else:
            found, rest = _weight(part)
            weight = found if found is not None else 0.0
        text, fb = _split_feedback(rest)
        option: dict[str, Any] = {"text": texts.take(f"options.{i}.text", text)}
        if not option["text"]:
            raise _Refused(f"option {i + 1} is empty")
        if fb is not None:
            feedback = texts.take(f"options.{i}.feedback", fb)
            if feedback:
                option["feedback"] = feedback
        options.append(option)
        weights.append(weight)
    letters = [chr(ord("A") + i) for i in range(len(options))]
    if single:
        key = letters[weights.index(1.0)]
        for letter, option, weight in zip(letters, options, weights, strict=True):
            if weight != 0 and letter != key:
                option["credit"] = weight
        if any(w < 0 for w in weights):
            warnings.append(
                "a negative weight: Moodle can give this single-answer question a negative mark; "
                "Helix never scores a question below 0"
            )
        return "single_choice", {"answer": key, "options": options}
    for option, weight in zip(options, weights, strict=True):
        if weight != 0:
            option["credit"] = weight
    positive = [letter for letter, w in zip(letters, weights, strict=True) if w > 0]
    if not positive:
        raise _Refused("no option has a positive weight (mark one with = or %n%), so it could never score")
    total = sum(w for w in weights if w > 0)
    if abs(total - 1) > 1e-6:
        warnings.append(
            f"the positive weights add up to {total * 100:g}%, not 100% (Moodle warns about this too): "
            + (
                "full marks are out of reach"
                if total < 1
                else "full marks need only some of the right options"
            )
        )
    return "multiple_response", {"answers": positive, "options": options}


def _matching(answer: str, texts: _Texts) -> dict[str, Any]:
    parts = _parts(answer, "=")
    if len(parts) < 2:
        raise _Refused("a matching question needs at least two answers")
    pairs: list[dict[str, str]] = []
    distractors: list[str] = []
    for part in parts:
        arrow = part.find("->")
        if arrow < 0:
            raise _Refused(f'matching answer "{_restore(part).strip()}" has no "->"')
        path = f"pairs.{len(pairs)}.prompt"
        prompt = texts.take(path, part[:arrow])
        match = _restore(part[arrow + 2 :]).strip()
        if prompt:
            pairs.append({"prompt": prompt, "match": match})
        else:
            texts.overrides.pop(path, None)
            distractors.append(match)
    fields: dict[str, Any] = {"pairs": pairs}
    if distractors:
        fields["distractors"] = distractors
    return fields


def _true_false(answer: str, texts: _Texts) -> dict[str, Any]:
    bits = answer.split("#", 2)
    value = _restore(bits[0]).strip() in ("T", "TRUE")
    right_path = "feedback_true" if value else "feedback_false"
    wrong_path = "feedback_false" if value else "feedback_true"
    fields: dict[str, Any] = {"answer": value}
    wrong = texts.take(wrong_path, bits[1]) if len(bits) > 1 else ""
    right = texts.take(right_path, bits[2]) if len(bits) > 2 else ""
    if wrong:
        fields[wrong_path] = wrong
    if right:
        fields[right_path] = right
    return fields


def _short(answer: str, texts: _Texts) -> dict[str, Any]:
    parts = _parts(answer, "=")
    if not parts:
        raise _Refused("the short-answer question has no answers")
    accepted: list[Any] = []
    credits = []
    for i, part in enumerate(parts):
        weight, rest = _weight(part.strip())
        credit = 1.0 if weight is None else weight
        text, fb = _split_feedback(rest)
        value, _fmt = _formatted(text, texts.default)  # Moodle keeps no format for a short answer
        if not value:
            raise _Refused(f"accepted answer {i + 1} is empty")
        feedback = texts.take(f"accepted.{i}.feedback", fb) if fb is not None else ""
        if credit == 1 and not feedback:
            accepted.append(value)
        else:
            entry: dict[str, Any] = {"answer": value}
            if credit != 1:
                entry["credit"] = credit
            if feedback:
                entry["feedback"] = feedback
            accepted.append(entry)
        credits.append(credit)
    fields: dict[str, Any] = {"accepted": accepted}
    if _order_matters(credits):
        fields["first_match"] = True
    return fields


def _common_problems(spec: dict[str, Any]) -> list[str]:
    problems = []
    if spec.get("format", "markdown") not in TEXT_FORMATS:
        problems.append(f'"format" must be one of {", ".join(TEXT_FORMATS)}')
    formats = spec.get("formats", {})
    if not isinstance(formats, dict) or not all(v in TEXT_FORMATS for v in formats.values()):
        problems.append('"formats" must map texts to one of ' + ", ".join(TEXT_FORMATS))
    return problems


def parse_gift(text: str, registry: QuestionTypeRegistry) -> GiftResult:
    """Parse a whole GIFT file; each question is validated by its question type.

    Every block of the file ends up as a question or as a line in ``problems``; questions imported with a
    documented deviation from Moodle's meaning also get a line in ``warnings``."""
    result = GiftResult()
    used: set[str] = set()
    category = ""
    n = 0
    for block in _blocks(text):
        if isinstance(block, _Category):
            category = block.name
            continue
        n += 1
        if block.after_category:
            result.warnings.append(
                GiftProblem(
                    block.line,
                    "no blank line after $CATEGORY: Helix starts the question here; Moodle would read it "
                    "as part of the category name",
                )
            )
        try:
            parsed = parse_block(block.lines, block.comments)
        except _Refused as exc:
            result.problems.append(GiftProblem(block.line, f"not imported: {exc}"))
            continue
        key = derive_key(parsed.name) if parsed.name else ""
        key = key or f"gift-{n}"
        base, suffix = key, 2
        while key in used:
            key = f"{base[: KEY_LENGTH - len(str(suffix)) - 1]}-{suffix}"
            suffix += 1
        used.add(key)
        spec = {"id": key, "type": parsed.qtype}
        if parsed.name and parsed.name != key:
            spec["title"] = parsed.name
        spec.update(parsed.spec)
        if parsed.qtype not in registry:
            result.problems.append(
                GiftProblem(block.line, f'not imported: question type "{parsed.qtype}" is not installed')
            )
            continue
        # Text formats are a bank field, checked here; the type checks everything else.
        own = {k: v for k, v in spec.items() if k not in GIFT_FIELDS}
        problems = _common_problems(spec) + registry.get(parsed.qtype).validate(own)
        if problems:
            result.problems.append(GiftProblem(block.line, "not imported: " + "; ".join(problems)))
            continue
        result.questions.append(GiftQuestion(block.line, key, category, spec))
        result.warnings.extend(GiftProblem(block.line, w) for w in parsed.warnings)
    return result


# -- rendering ----------------------------------------------------------------------------------------


def render_text(text: str, fmt: str) -> str:
    """Sanitised HTML for an imported text in its GIFT format.

    ``markdown`` is Helix's own rendering; ``html`` is sanitised like all authored HTML; ``plain`` is shown as
    typed (escaped, line breaks kept); ``moodle`` is Moodle's auto-format: no Markdown, line breaks kept, HTML
    tags allowed and sanitised."""
    if fmt == "markdown":
        return render_markdown(text, references={}).html
    if fmt == "plain":
        return html.escape(text).replace("\n", "<br>\n")
    source = text.replace("\n", "<br>\n") if fmt == "moodle" else text
    return nh3.clean(
        source,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


# -- export -------------------------------------------------------------------------------------------


@dataclass
class GiftExport:
    text: str
    #: ids of questions GIFT cannot express (reported, not dropped)
    skipped: list[str] = field(default_factory=list)
    #: "id: how Moodle grades it differently" for questions exported with a known difference
    differences: list[str] = field(default_factory=list)


def _comment(spec: dict[str, Any]) -> str:
    tokens = []
    if spec.get("idnumber"):
        tokens.append(f"[id:{spec['idnumber'].replace(']', chr(92) + ']')}]")
    tokens += [f"[tag:{t.replace(']', chr(92) + ']')}]" for t in spec.get("tags", [])]
    return f"// {' '.join(tokens)}\n" if tokens else ""


def question_to_gift(spec: dict[str, Any], registry: QuestionTypeRegistry) -> str:
    """One question spec as GIFT, through its type's ``to_gift``; ValueError when GIFT cannot express it."""
    try:
        lines = registry.get(spec["type"]).to_gift(spec)
    except (UnknownQuestionType, GiftUnsupported) as exc:
        raise ValueError(str(exc)) from None
    name = spec.get("title") or spec["id"]
    head = f"{_comment(spec)}::{escape(name)}::[{text_format(spec, 'prompt')}]{escape(spec['prompt'])} "
    if spec.get("explanation"):
        fmt = text_format(spec, "explanation")
        prefix = f"[{fmt}]" if fmt != text_format(spec, "prompt") else ""
        lines = [*lines, f"\t####{prefix}{escape(spec['explanation'])}"]
    if not lines:
        return head + "{}"
    if len(lines) == 1 and not lines[0].startswith("\t"):
        return head + "{" + lines[0] + "}"
    if lines[0] == "#":  # numeric answers, one a line
        return head + "{#\n" + "\n".join(lines[1:]) + "\n}"
    return head + "{\n" + "\n".join(lines) + "\n}"


def to_gift(
    specs: list[dict[str, Any]],
    registry: QuestionTypeRegistry,
    category: str = "",
    categories: list[str] | None = None,
) -> GiftExport:
    """A GIFT document for ``specs``, each under its category (``categories``, else ``category``)."""
    out = ["// Exported by Helix LMS\n"]
    export = GiftExport("")
    current: str | None = None
    for i, spec in enumerate(specs):
        cat = (categories[i] if categories else "") or category
        if cat and cat != current:
            out.append(f"$CATEGORY: {cat}\n")
            current = cat
        try:
            out.append(question_to_gift(spec, registry) + "\n")
        except ValueError:
            export.skipped.append(spec["id"])
            continue
        differences = getattr(registry.get(spec["type"]), "gift_differences", None)
        if differences is not None:
            export.differences += [f"{spec['id']}: {d}" for d in differences(spec)]
    export.text = "\n".join(out)
    return export

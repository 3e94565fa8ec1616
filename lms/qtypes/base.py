"""The question-type plugin interface.

A question type is a class with a unique ``name`` and a ``label``. It knows everything about one kind of
question and nothing about HTTP or the database:

- ``validate(spec)`` returns a list of problems, each naming the field (``'answer "E" is not one of the
  options A-D'``); the course-package validator prefixes them with the file and the question.
- ``learner_view(spec, seed, shuffle)`` is what a learner may see before submitting: prompt parts and options
  in the attempt's order, **never** the key, a correctness marker or feedback.
- ``render_widget(view, response, name)`` returns the HTML of the answer widget (default: the Jinja template
  ``qtypes/<name>.html``, rendered with ``view``, ``response`` and ``name``).
- ``shown_response(spec, seed, response)`` gives a saved response back to the widget.
- ``parse_response(form, name, spec, seed)`` turns submitted form values into a JSON-able response.
- ``grade(spec, response)`` is pure: it returns a ``Grade`` with a score in [0, 1] and feedback.
- ``review(spec, response)`` describes the correct answer for the review page.
- ``to_gift(spec)`` optionally gives the lines of the question's GIFT answer block (export); GIFT import maps
  GIFT's own syntax onto the built-in types (``lms.coursepacks.gift``).

``spec`` is the question's mapping as written in the quiz file (``type``, ``prompt``, ``explanation``,
``reference``, ``points`` plus the type's own fields). Specs are validated once, at import or sync, so
``grade`` may assume a valid spec.

Questions may carry ``title`` (a GIFT name), ``idnumber`` (Moodle's id number) and ``tags``. Questions
imported from GIFT into a bank also carry ``format`` (the text format of the prompt and, by default, of
every other text of the question: ``markdown``, ``html``, ``plain`` or ``moodle``; absent means Markdown)
and ``formats`` (a mapping from a text's path, e.g. ``"options.1.feedback"``, to its own format where it
differs from ``format``).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from markupsafe import Markup

Spec = Mapping[str, Any]
#: ``tags`` (short texts, e.g. ``["vignette"]``) let a quiz stratify its draw by tag.
COMMON_FIELDS = frozenset(
    {"id", "type", "prompt", "points", "explanation", "reference", "title", "tags", "idnumber"}
)
#: text formats of questions imported from GIFT (bank questions only: a course package's quiz files are
#: Markdown, and the package loader reports these fields as unknown rather than ignoring them)
GIFT_FIELDS = frozenset({"format", "formats"})
#: GIFT's text formats (Moodle's names); Helix's own authored texts are Markdown
TEXT_FORMATS = ("markdown", "html", "plain", "moodle")


@dataclass(frozen=True)
class Grade:
    """The result of grading one response. ``score`` is in [0, 1]; ``correct`` is None when ungraded."""

    score: float
    correct: bool | None
    feedback: tuple[str, ...] = ()
    #: per-part marks for the review page, e.g. {"A": True, "C": False}
    parts: Mapping[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score {self.score} is outside [0, 1]")


class GiftUnsupported(Exception):
    """This question cannot be expressed in (or read from) GIFT by this type."""


GIFT_SPECIAL = "~=#{}:"


def gift_escape(text: str) -> str:
    """Escape GIFT's special characters (and newlines) in a text."""
    text = text.replace("\\", "\\\\")
    for ch in GIFT_SPECIAL:
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", "\\n")


def text_format(spec: Spec, path: str) -> str:
    """The format of the text at ``path`` (``"prompt"``, ``"options.0.text"``…): its own, else the
    question's."""
    own = (spec.get("formats") or {}).get(path)
    return own or spec.get("format") or "markdown"


def gift_text(spec: Spec, path: str, text: str) -> str:
    """A text for a GIFT answer block: escaped, with a ``[format]`` prefix where it differs from the prompt's
    (as Moodle writes it, so Moodle reads the same format back)."""
    fmt = text_format(spec, path)
    looks_prefixed = any(text.startswith(f"[{name}]") for name in TEXT_FORMATS)
    prefix = f"[{fmt}]" if text and (fmt != text_format(spec, "prompt") or looks_prefixed) else ""
    return prefix + gift_escape(text)


def gift_weight(weight: str, text: str, default: str) -> str:
    """``weight`` for an answer, or ``default`` (``%0%``, ``%100%``) when the answer would otherwise start
    with something Moodle reads as a weight (an option text like "%50% of patients")."""
    return weight or (default if text.startswith("%") else "")


def gift_feedback(text: str | None, spec: Spec | None = None, path: str = "") -> str:
    if not text:
        return ""
    return f" #{gift_text(spec, path, text) if spec is not None else gift_escape(text)}"


def gift_number(value: float) -> str:
    """A number at full precision, without an exponent (Moodle's GIFT reader wants plain decimals)."""
    if float(value).is_integer() and abs(value) < 1e16:
        return str(int(value))
    text = format(Decimal(repr(float(value))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def gift_percent(credit: float) -> str:
    """``%50%`` for 0.5, in exact decimal arithmetic: 0.3333333 is written 33.33333 (no float noise)."""
    percent = Decimal(repr(float(credit))) * 100
    text = format(percent.normalize(), "f")
    return f"%{text}%"


def letters(count: int) -> list[str]:
    return [chr(ord("A") + i) for i in range(count)]


def letter_range(count: int) -> str:
    return "A" if count == 1 else f"A-{chr(ord('A') + count - 1)}"


def shuffled(items: Sequence[Any], seed: int, salt: str) -> list[Any]:
    """Deterministic shuffle: the same attempt seed gives the same order on every page and in review."""
    out = list(items)
    random.Random(f"{seed}:{salt}").shuffle(out)
    return out


def token(seed: int, qid: str, kind: str, index: int) -> str:
    """An opaque per-attempt identifier for an option or item: it reveals neither the key nor the authored
    order, and (with a 62-bit random seed) cannot be worked back to the seed."""
    return hashlib.sha256(f"{seed}:{qid}:{kind}:{index}".encode()).hexdigest()[:12]


def untoken(seed: int, qid: str, kind: str, count: int, value: str | None) -> int | None:
    """The index whose token is ``value`` (None for anything else, including other attempts' tokens)."""
    for i in range(count):
        if token(seed, qid, kind, i) == value:
            return i
    return None


def is_blank(response: Any) -> bool:
    if response is None:
        return True
    if isinstance(response, str):
        return not response.strip()
    if isinstance(response, (list, tuple, dict)):
        return len(response) == 0 or all(is_blank(v) for v in response)
    return False


class QuestionType:
    """Base class for question-type plugins (see the module docstring for the contract)."""

    #: unique key stored with each question, e.g. "single_choice"
    name: ClassVar[str]
    #: what authors see in the type picker
    label: ClassVar[str]
    #: False for survey items (Likert, free text): never scored, allowed only in surveys
    graded: ClassVar[bool] = True
    #: the type's own fields (besides the common ones); anything else is reported as unknown
    fields: ClassVar[frozenset[str]] = frozenset()

    def validate(self, spec: Spec) -> list[str]:
        return self.unknown_fields(spec)

    def unknown_fields(self, spec: Spec) -> list[str]:
        extra = sorted(set(spec) - COMMON_FIELDS - self.fields)
        return [f'unknown field "{name}"' for name in extra]

    def learner_view(self, spec: Spec, seed: int, shuffle: bool = True) -> dict[str, Any]:
        return {}

    def render_widget(self, view: Mapping[str, Any], response: Any, name: str) -> Markup:
        from flask import current_app

        # Rendered straight from the app's Jinja environment: a page shows many widgets, and
        # render_template would run every context processor (user, CSRF, site settings) for each one. The
        # template sees view, response, name, qtype and the Jinja globals (url_for, csrf_token). Jinja
        # autoescapes it, so its output is safe markup.
        template = current_app.jinja_env.get_template(f"qtypes/{self.name}.html")
        return Markup(template.render(view=view, response=response, name=name, qtype=self))  # noqa: S704

    def shown_response(self, spec: Spec, seed: int, response: Any) -> Any:
        """The saved response as the widget shows it again (e.g. tokens for the selects); default as is."""
        return response

    def parse_response(self, form: Any, name: str, spec: Spec | None = None, seed: int = 0) -> Any:
        """Read this question's answer from submitted form values (``form`` is a MultiDict)."""
        return (form.get(name) or "").strip()[:2000] or None

    def grade(self, spec: Spec, response: Any) -> Grade:
        raise NotImplementedError

    def review(self, spec: Spec, response: Any) -> dict[str, Any]:
        """What the review page shows as the correct answer (only when the policy allows)."""
        return {"correct_answer": ""}

    def to_gift(self, spec: Spec) -> list[str]:
        """Lines of the GIFT answer block, without braces or general feedback (optional)."""
        raise GiftUnsupported(f"{self.label} questions cannot be exported to GIFT")

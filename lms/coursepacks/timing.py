"""Honest time: how long a lesson, a quiz and a course take, computed from their content.

The rule (docs/course-format.md, "Honest time"): a lesson takes ceil(words / 200) minutes over its rendered
text, the reference list excluded; a graded quiz (pretest included) 2 minutes per question asked (the draw if
set, else all questions); a survey 1 minute per item. The course total is the sum over lessons and quizzes,
leaving out the optional pre-test. Authored values may never exceed these; hours offered never exceed the
total rounded down to a quarter hour. Pure functions, used by the loader and the catalog sync alike.
"""

from __future__ import annotations

import html as html_lib
import math
import re
from collections.abc import Iterable

#: reading speed used for lessons, in words per minute
WORDS_PER_MINUTE = 200
#: minutes per question asked in a graded quiz, and per item in a survey
QUIZ_MINUTES_PER_QUESTION = 2
SURVEY_MINUTES_PER_ITEM = 1

_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"\w+")
_HEADING = re.compile(r"<h([1-6])[^>]*>(.*?)</h\1>", re.S | re.I)
_REFERENCE_HEADINGS = {"references", "reference list", "bibliography", "sources", "further reading"}


def without_reference_list(html: str) -> str:
    """The lesson HTML without a "References" section (its heading up to the next heading of that level)."""
    for match in _HEADING.finditer(html):
        title = _TAG.sub("", match.group(2)).strip().casefold()
        if title in _REFERENCE_HEADINGS:
            level = int(match.group(1))
            rest = html[match.end() :]
            after = re.search(rf"<h[1-{level}][^>]*>", rest, re.I)
            tail = rest[after.start() :] if after else ""
            return html[: match.start()] + without_reference_list(tail)
    return html


def plain_text(html: str) -> str:
    """Visible text of rendered HTML (tags dropped, entities decoded)."""
    return html_lib.unescape(_TAG.sub(" ", html))


def word_count(html: str) -> int:
    """Words a learner reads in a rendered lesson: the reference list excluded, citation numbers included."""
    return len(_WORD.findall(plain_text(without_reference_list(html))))


def lesson_minutes(html: str) -> int:
    """ceil(words / 200), and at least 1."""
    return max(1, math.ceil(word_count(html) / WORDS_PER_MINUTE))


def quiz_minutes(kind: str, asked: int) -> int:
    """2 minutes per question asked (1 per survey item), at least 1."""
    per = SURVEY_MINUTES_PER_ITEM if kind == "survey" else QUIZ_MINUTES_PER_QUESTION
    return max(1, per * asked)


def counts_in_total(kind: str) -> bool:
    """The optional pre-test is not part of the course's time: a learner may skip it."""
    return kind != "pretest"


def course_minutes(parts: Iterable[tuple[str, int]]) -> int:
    """The course total from (kind, minutes) of every lesson and quiz; the pre-test left out."""
    return sum(minutes for kind, minutes in parts if counts_in_total(kind))


def max_hours(total_minutes: int) -> float:
    """The most hours a course of ``total_minutes`` may offer: the total rounded down to 0.25 h."""
    return math.floor(total_minutes / 15) / 4

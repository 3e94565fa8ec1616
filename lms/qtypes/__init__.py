"""Built-in question types. Third-party types register through the ``lms.question_types`` entry points."""

from __future__ import annotations

from lms.qtypes.arrange import Matching, Ordering
from lms.qtypes.base import Grade, QuestionType
from lms.qtypes.choice import MultipleResponse, SingleChoice, TrueFalse
from lms.qtypes.survey import FreeText, Likert
from lms.qtypes.text import Numeric, ShortAnswer

BUILTIN_TYPES: tuple[type[QuestionType], ...] = (
    SingleChoice,
    MultipleResponse,
    TrueFalse,
    Numeric,
    ShortAnswer,
    Ordering,
    Matching,
    Likert,
    FreeText,
)

__all__ = ["BUILTIN_TYPES", "Grade", "QuestionType"]

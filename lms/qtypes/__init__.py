"""Built-in question types. Third-party types register through the ``lms.question_types`` entry points."""

from __future__ import annotations

BUILTIN_TYPES: tuple[type, ...] = ()

"""When a quiz may be taken: its ``opens_at`` / ``closes_at`` window, as pure functions of ``now``.

The package stores the two moments as ISO text (``lms.coursepacks.loader.quiz_settings``): with an offset
they are that instant; without one they are a wall-clock time in the site's time zone (``LMS_TIMEZONE``),
which the caller passes in, so a course written as "opens 1 December at 09:00" opens at 09:00 where the
site is. Everything here works on naive UTC datetimes, like the database columns.

Closing caps an attempt's deadline (``capped_deadline``): the existing time-limit path then refuses late
autosaves and submits the attempt with what was saved, so closing needs no second expiry mechanism.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any


@dataclass(frozen=True)
class Window:
    """The quiz's opening and closing moments in naive UTC (None: no bound)."""

    opens: datetime | None = None
    closes: datetime | None = None

    @property
    def bounded(self) -> bool:
        return self.opens is not None or self.closes is not None


def moment(text: str, zone: tzinfo) -> datetime | None:
    """An ISO date-time as naive UTC; one without an offset is read in ``zone``. "" (unset) gives None."""
    if not text:
        return None
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC).replace(tzinfo=None)


def quiz_window(settings: Mapping[str, Any], zone: tzinfo) -> Window:
    """The window of a quiz from its stored settings (quizzes synced before the feature have none)."""
    return Window(moment(settings.get("opens_at") or "", zone), moment(settings.get("closes_at") or "", zone))


def in_words(value: datetime, zone: tzinfo) -> str:
    """A naive UTC time in the site's zone as people read it: "Tuesday 1 December 2026 at 09:00 CET"."""
    local = value.replace(tzinfo=UTC).astimezone(zone)
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M} {local.tzname() or 'UTC'}"


def closed_reason(window: Window, now: datetime, zone: tzinfo) -> str | None:
    """Why no attempt may start at ``now`` (not open yet, or closed), or None inside the window."""
    if window.opens is not None and now < window.opens:
        return f"This quiz opens on {in_words(window.opens, zone)}. You can start it from then."
    if window.closes is not None and now >= window.closes:
        return f"This quiz closed on {in_words(window.closes, zone)}. No new attempt can be started."
    return None


def capped_deadline(deadline: datetime | None, window: Window) -> datetime | None:
    """An attempt's deadline: its time limit's, but never after the quiz closes."""
    if window.closes is None:
        return deadline
    return window.closes if deadline is None else min(deadline, window.closes)


def closed_by_window(deadline: datetime | None, window: Window) -> bool:
    """Whether this deadline is the quiz's closing time (not the learner's own time limit)."""
    return deadline is not None and deadline == window.closes

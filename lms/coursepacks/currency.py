"""Dated currency: a course's facts were checked on its ``last_review`` date and go stale after 12 months.

Pure functions of the dates, with ``today`` always passed in, so tests never depend on the calendar.
"""

from __future__ import annotations

import calendar
from datetime import date

#: how long a review keeps a published course current
REVIEW_MONTHS = 12


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (the month's last day when it is shorter, e.g. 29 Feb → 28 Feb)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def review_overdue(last_review: date, today: date, *, status: str = "published") -> bool:
    """A published course whose last review is more than 12 months before ``today`` is "review overdue"."""
    return status == "published" and last_review < months_before(today, REVIEW_MONTHS)

"""Certificate rules as pure functions over plain data (no database, no request): completion, time spent,
claim eligibility, hours, states and reminders. Services gather the data and call these."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise

#: a gap between two recorded actions counts at most this long (a learner who walked away)
GAP_CAP = timedelta(minutes=30)
#: the dashboard warns this many days before a certificate expires; reminders go out at these thresholds
EXPIRY_WARNING_DAYS = 60
REMINDER_DAYS = (60, 14)
HOURS_STEP = 0.25


def time_spent_minutes(timestamps: Iterable[datetime], cap: timedelta = GAP_CAP) -> int:
    """The sum of the gaps between consecutive recorded actions, each gap capped, in whole minutes.

    Only timestamps the server already writes are used (enrolment, progress, attempt start, autosave,
    submission), so nothing is written per page view.
    """
    ordered = sorted(timestamps)
    total = sum((min(b - a, cap) for a, b in pairwise(ordered)), timedelta())
    return int(total.total_seconds() // 60)


@dataclass(frozen=True)
class CompletionFacts:
    """What decides whether a learner has completed an edition (see learning.progress for ``done``)."""

    required: Sequence[str]
    done: Iterable[str]
    titles: dict[str, str]


def missing_items(facts: CompletionFacts) -> list[str]:
    """Titles of the required items not yet done on this edition, in syllabus order."""
    done = set(facts.done)
    return [facts.titles.get(key, key) for key in facts.required if key not in done]


def is_complete(facts: CompletionFacts) -> bool:
    return bool(facts.required) and not missing_items(facts)


@dataclass(frozen=True)
class ClaimFacts:
    complete: bool
    missing: Sequence[str]
    email_confirmed: bool
    release: date
    termination: date
    completed_on: date | None
    today: date
    min_minutes: int
    minutes_spent: int
    open_claim: bool  # a pending claim or a certificate already exists for this completion


def claim_blockers(facts: ClaimFacts) -> list[str]:
    """Why the learner cannot claim now, in words (empty: the claim form is shown)."""
    if facts.today < facts.release:
        return [f"This activity opens for credit on {facts.release:%d %b %Y}."]
    if not facts.complete:
        return [f"Still to do: {title}." for title in facts.missing] or ["Complete the course first."]
    reasons = []
    completed_on = facts.completed_on or facts.today
    if facts.today > facts.termination and completed_on > facts.termination:
        reasons.append(f"This activity closed for credit on {facts.termination:%d %b %Y}.")
    if facts.open_claim:
        reasons.append("You have already claimed this edition.")
    if facts.min_minutes and facts.minutes_spent < facts.min_minutes:
        reasons.append(
            f"Credit opens after {facts.min_minutes} minutes of recorded activity "
            f"({facts.minutes_spent} so far)."
        )
    if not facts.email_confirmed:
        reasons.append("Confirm your email address first: we sent you a link.")
    return reasons


def closed_for_credit(release: date, termination: date, today: date) -> bool:
    return not release <= today <= termination


def hours_problem(hours: float, max_hours: float) -> str | None:
    """Hours are claimed in steps of 0.25, more than 0, up to the course maximum."""
    if hours <= 0:
        return "Claim more than 0 hours."
    if hours > max_hours + 1e-9:
        return f"This course offers at most {max_hours:g} hours."
    if abs(hours / HOURS_STEP - round(hours / HOURS_STEP)) > 1e-9:
        return "Claim hours in steps of a quarter hour (0.25)."
    return None


def over_recorded_time(hours: float, minutes_spent: int) -> bool:
    """Flag (never refuse) a claim for more time than the platform recorded."""
    return hours * 60 > minutes_spent


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the last day of the month when it does not exist)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover


def expiry_date(completed_on: date, validity_months: int) -> date | None:
    return add_months(completed_on, validity_months) if validity_months > 0 else None


def certificate_state(revoked: bool, superseded: bool, expires_on: date | None, today: date) -> str:
    """valid, expiring soon, expired, superseded or revoked (the last two win over dates)."""
    if revoked:
        return "revoked"
    if superseded:
        return "superseded"
    if expires_on is not None:
        if today >= expires_on:
            return "expired"
        if today >= expires_on - timedelta(days=EXPIRY_WARNING_DAYS):
            return "expiring soon"
    return "valid"


def reminders_due(expires_on: date | None, today: date, sent: Iterable[int]) -> list[int]:
    """Thresholds (days before expiry) reached and not yet mailed; only for certificates not yet expired."""
    if expires_on is None or today >= expires_on:
        return []
    left = (expires_on - today).days
    done = set(sent)
    return [days for days in REMINDER_DAYS if left <= days and days not in done]

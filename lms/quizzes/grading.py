"""Quiz rules as pure functions: drawing questions, attempt limits, scoring, grading methods, review.

Nothing here touches the database or the request; services pass plain data in.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lms.qtypes.base import Grade


def stratified_counts(pool: int, tagged: int, draw: int) -> int:
    """How many of ``draw`` questions come from the ``tagged`` ones in a pool of ``pool``.

    At least half of the draw (rounded up) when the pool holds that many tagged questions, more when the
    pool's share is larger (proportional); when it holds fewer, the pool's proportion (rounded), so a thin
    pool does not show the same few vignettes every time. Never more than are tagged or than are drawn.
    """
    if draw <= 0 or pool <= 0 or tagged <= 0:
        return 0
    half = -(-draw // 2)
    share = round(draw * tagged / pool)
    wanted = max(half, share) if tagged >= half else share
    # the untagged rest cannot fill the draw: take more tagged ones
    wanted = max(wanted, draw - (pool - tagged))
    return max(0, min(wanted, tagged, draw))


def draw_questions(
    keys: Sequence[str],
    seed: int,
    *,
    draw: int = 0,
    shuffle: bool = False,
    tagged: Collection[str] = (),
) -> list[str]:
    """The questions of one attempt, in order: a pool of ``draw`` of them if set, shuffled if asked.

    When ``tagged`` (the pool's vignette keys) is given, the draw is stratified: see ``stratified_counts``.
    Deterministic in ``seed``, so the same attempt always shows (and reviews) the same order.
    """
    rng = random.Random(seed)
    chosen = list(keys)
    if 0 < draw < len(chosen):
        marked = [k for k in chosen if k in tagged]
        if marked:
            others = [k for k in chosen if k not in tagged]
            n_marked = stratified_counts(len(chosen), len(marked), draw)
            picked = set(rng.sample(marked, n_marked)) | set(rng.sample(others, draw - n_marked))
        else:
            picked = set(rng.sample(chosen, draw))
        chosen = [k for k in chosen if k in picked]
    if shuffle:
        rng.shuffle(chosen)
    return chosen


@dataclass(frozen=True)
class StartCheck:
    allowed: bool
    reason: str = ""
    wait_until: datetime | None = None
    attempts_left: int | None = None  # None = unlimited


def when_in_words(moment: datetime) -> str:
    """A UTC time as people read it: "Wednesday 2 December 2026 at 14:05 UTC"."""
    return f"{moment:%A} {moment.day} {moment:%B %Y} at {moment:%H:%M} UTC"


def can_start(
    settings: Mapping[str, Any],
    submitted_times: Sequence[datetime],
    now: datetime,
    *,
    passed: bool = False,
    grants: Sequence[datetime] = (),
) -> StartCheck:
    """May the learner start another attempt? ``submitted_times`` are their submitted attempts' times
    (on this edition), ``grants`` the times an admin granted them an extra attempt.

    With ``attempts_per_set`` (e.g. 3) attempts come in sets: once a set is used up, the next set opens
    ``lockout_hours`` after the last submission. A grant gives one attempt at once, lock or not, and is used
    by the next submission after it. ``max_attempts`` still caps the total (0: no cap).
    """
    max_attempts = int(settings.get("max_attempts", 0) or 0)
    unused_grants = _unused_grants(submitted_times, grants)
    # granted attempts come on top of the cap: the submissions that used a grant do not count against it
    used = len(submitted_times) - (len(grants) - unused_grants)
    left = None if max_attempts == 0 else max(0, max_attempts - used) + unused_grants
    if left == 0:
        return StartCheck(False, f"You have used all {max_attempts} attempts for this quiz.", None, 0)
    per_set = int(settings.get("attempts_per_set", 0) or 0)
    if per_set:
        set_left, locked_until = _set_state(
            per_set, int(settings.get("lockout_hours", 0) or 0), submitted_times, grants, now
        )
        if locked_until is not None and not unused_grants and not passed:
            return StartCheck(
                False,
                f"You have used the {per_set} attempts of this set. A new set of {per_set} opens on "
                f"{when_in_words(locked_until)}.",
                locked_until,
                0,
            )
        in_set = set_left + unused_grants
        left = in_set if left is None else min(left, in_set)
    cooldown = int(settings.get("cooldown_minutes", 0) or 0)
    if cooldown and submitted_times and not unused_grants:
        ready = max(submitted_times) + timedelta(minutes=cooldown)
        if now < ready:
            return StartCheck(
                False,
                f"Please wait before your next attempt: you can start again on {when_in_words(ready)}.",
                ready,
                left,
            )
    return StartCheck(True, "", None, left)


def _unused_grants(submitted_times: Sequence[datetime], grants: Sequence[datetime]) -> int:
    """Grants not yet used: each grant is used by the first submission after it."""
    unused = 0
    events = sorted([(t, 0) for t in grants] + [(t, 1) for t in submitted_times])
    for _, is_submission in events:
        if not is_submission:
            unused += 1
        elif unused:
            unused -= 1
    return unused


def _set_state(
    per_set: int,
    lockout_hours: int,
    submitted_times: Sequence[datetime],
    grants: Sequence[datetime],
    now: datetime,
) -> tuple[int, datetime | None]:
    """(attempts left in the current set, when the lock ends or None), replaying submissions and grants."""
    left, locked_until, extra = per_set, None, 0
    lockout = timedelta(hours=lockout_hours)
    for moment, is_submission in sorted([(t, 0) for t in grants] + [(t, 1) for t in submitted_times]):
        if not is_submission:
            extra += 1
            continue
        if locked_until is not None and moment >= locked_until:
            left, locked_until = per_set, None
        if extra:
            extra -= 1  # the granted attempt: outside the set; a lock runs from this last submission
            if locked_until is not None:
                locked_until = moment + lockout
            continue
        left = max(0, left - 1)
        if left == 0:
            locked_until = moment + lockout
    if locked_until is not None and now >= locked_until:
        return per_set, None
    return left, locked_until


@dataclass(frozen=True)
class ScoredAnswer:
    grade: Grade
    points: float
    earned: float


@dataclass(frozen=True)
class AttemptResult:
    answers: tuple[ScoredAnswer, ...]
    points: float
    max_points: float

    @property
    def score(self) -> float:
        return self.points / self.max_points if self.max_points else 0.0


def score_attempt(graded: Sequence[tuple[Grade, float]]) -> AttemptResult:
    """Weighted total of per-question grades (each a score in [0, 1] times the question's points)."""
    answers = tuple(ScoredAnswer(g, pts, g.score * pts) for g, pts in graded)
    return AttemptResult(answers, sum(a.earned for a in answers), sum(a.points for a in answers))


def passes(score: float, pass_mark_percent: float) -> bool:
    """Pass when the score reaches the pass mark (compared in percent, tolerant of float noise)."""
    return round(score * 100, 6) >= pass_mark_percent


def final_score(method: str, scores_in_order: Sequence[float]) -> float | None:
    """The quiz grade from all submitted attempts' scores, oldest first."""
    if not scores_in_order:
        return None
    if method == "highest":
        return max(scores_in_order)
    if method == "latest":
        return scores_in_order[-1]
    if method == "first":
        return scores_in_order[0]
    if method == "average":
        return sum(scores_in_order) / len(scores_in_order)
    raise ValueError(f"unknown grading method {method!r}")


#: What a review page may show, from least to most.
REVIEW_LEVELS = ("score", "correctness", "answers")


def review_level(policy: str, *, passed_quiz: bool) -> str:
    """How much of a submitted attempt the learner may see under the quiz's review policy."""
    if policy == "after_pass":
        return "answers" if passed_quiz else "score"
    if policy == "never":
        return "score"
    return policy if policy in REVIEW_LEVELS else "score"


def is_late(deadline: datetime | None, now: datetime, grace_seconds: int = 0) -> bool:
    return deadline is not None and now > deadline + timedelta(seconds=grace_seconds)


@dataclass(frozen=True)
class PriorScores:
    """What ``final_score`` needs from the earlier submitted attempts, as SQL aggregates give it."""

    count: int = 0
    total: float = 0.0
    highest: float | None = None
    first: float | None = None


def final_score_after(method: str, prior: PriorScores, score: float) -> float:
    """``final_score`` over the earlier attempts and one more (the newest) scoring ``score``.

    Lets submission grade from four aggregates instead of reading every earlier attempt.
    """
    if method == "highest":
        return max(score, prior.highest) if prior.count and prior.highest is not None else score
    if method == "latest":
        return score
    if method == "first":
        return prior.first if prior.count and prior.first is not None else score
    if method == "average":
        return (prior.total + score) / (prior.count + 1)
    raise ValueError(f"unknown grading method {method!r}")

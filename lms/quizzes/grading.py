"""Quiz rules as pure functions: drawing questions, attempt limits, scoring, grading methods, review.

Nothing here touches the database or the request; services pass plain data in.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lms.qtypes.base import Grade


def draw_questions(keys: Sequence[str], seed: int, *, draw: int = 0, shuffle: bool = False) -> list[str]:
    """The questions of one attempt, in order: a pool of ``draw`` of them if set, shuffled if asked.

    Deterministic in ``seed``, so the same attempt always shows (and reviews) the same order.
    """
    rng = random.Random(seed)
    chosen = list(keys)
    if 0 < draw < len(chosen):
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


def can_start(
    settings: Mapping[str, Any], submitted_times: Sequence[datetime], now: datetime, *, passed: bool = False
) -> StartCheck:
    """May the learner start another attempt? ``submitted_times`` are their submitted attempts' times."""
    max_attempts = int(settings.get("max_attempts", 0) or 0)
    used = len(submitted_times)
    left = None if max_attempts == 0 else max(0, max_attempts - used)
    if left == 0:
        return StartCheck(False, f"You have used all {max_attempts} attempts for this quiz.", None, 0)
    cooldown = int(settings.get("cooldown_minutes", 0) or 0)
    if cooldown and submitted_times:
        ready = max(submitted_times) + timedelta(minutes=cooldown)
        if now < ready:
            return StartCheck(False, "Please wait before your next attempt.", ready, left)
    return StartCheck(True, "", None, left)


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

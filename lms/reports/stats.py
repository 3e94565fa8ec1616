"""Item analysis and reliability as pure functions over sufficient statistics (counts and sums).

The database adds up, per question, over each learner's first submitted attempt that drew it:

- ``n``: responses; ``x``: the item's score in [0, 1] (partial credit included);
- ``r``: the "rest" score, the attempt's points minus this item's points (so the item is not correlated with
  itself, which would flatter short quizzes);
- Σx, Σx², Σr, Σr², Σxr.

From these alone come the classical test theory figures educators see: **difficulty** (the mean item score,
higher is easier), **discrimination** (the corrected point-biserial correlation between the item and the
rest of the attempt), and the quiz's **reliability** (KR-20 for right/wrong items of equal weight, Cronbach's
α otherwise) with its standard error of measurement. Nothing here touches the database, so every formula is
tested against numbers worked out by hand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: Below this many responses a flag says more about chance than about the question.
MIN_RESPONSES_FOR_FLAGS = 20
TOO_EASY = 0.9
TOO_HARD = 0.3
POOR_DISCRIMINATION = 0.2
#: sums of squares this close to zero mean "everyone scored the same"
_EPSILON = 1e-9

FLAG_LABELS = {
    "too_easy": "Too easy",
    "too_hard": "Too hard",
    "poor": "Poor discrimination",
    "negative": "Negative discrimination",
}


@dataclass(frozen=True)
class ItemSums:
    """Sufficient statistics for one item (see the module docstring)."""

    n: int
    sum_x: float
    sum_x2: float
    sum_r: float
    sum_r2: float
    sum_xr: float

    @classmethod
    def of(cls, pairs: Sequence[tuple[float, float]]) -> ItemSums:
        """From (item score, rest score) pairs: what the database's GROUP BY returns, for tests and tools."""
        return cls(
            len(pairs),
            sum(x for x, _ in pairs),
            sum(x * x for x, _ in pairs),
            sum(r for _, r in pairs),
            sum(r * r for _, r in pairs),
            sum(x * r for x, r in pairs),
        )

    @property
    def dichotomous(self) -> bool:
        """Every response scored 0 or 1 (for x in [0, 1], x² = x exactly when x is 0 or 1)."""
        return abs(self.sum_x2 - self.sum_x) < _EPSILON

    @property
    def sxx(self) -> float:
        return self.sum_x2 - self.sum_x * self.sum_x / self.n if self.n else 0.0


@dataclass(frozen=True)
class ItemAnalysis:
    n: int
    #: mean item score in [0, 1]; None without responses
    difficulty: float | None
    #: corrected point-biserial in [-1, 1]; None when it cannot be computed (fewer than 2 responses, or
    #: everyone scored the same on the item or on the rest of the quiz)
    discrimination: float | None
    flags: tuple[str, ...]


def difficulty(s: ItemSums) -> float | None:
    """The mean item score: 0.8 means learners earned 80 % of this question's credit on average."""
    return s.sum_x / s.n if s.n else None


def point_biserial(s: ItemSums) -> float | None:
    """Pearson's r between the item score and the rest score, from the sums.

    r = Sxr / √(Sxx · Srr), with Sxx = Σx² − (Σx)²/n, Srr = Σr² − (Σr)²/n, Sxr = Σxr − Σx·Σr/n.
    """
    if s.n < 2:
        return None
    sxx = s.sum_x2 - s.sum_x * s.sum_x / s.n
    srr = s.sum_r2 - s.sum_r * s.sum_r / s.n
    sxr = s.sum_xr - s.sum_x * s.sum_r / s.n
    if sxx <= _EPSILON or srr <= _EPSILON:
        return None
    return max(-1.0, min(1.0, sxr / math.sqrt(sxx * srr)))


def flags(n: int, p: float | None, r: float | None) -> tuple[str, ...]:
    """Review prompts for an item, only with at least ``MIN_RESPONSES_FOR_FLAGS`` responses."""
    if n < MIN_RESPONSES_FOR_FLAGS:
        return ()
    out = []
    if p is not None and p > TOO_EASY:
        out.append("too_easy")
    if p is not None and p < TOO_HARD:
        out.append("too_hard")
    if r is not None and r < 0:
        out.append("negative")
    elif r is not None and r < POOR_DISCRIMINATION:
        out.append("poor")
    return tuple(out)


def analyse_item(s: ItemSums) -> ItemAnalysis:
    p = difficulty(s)
    r = point_biserial(s)
    return ItemAnalysis(s.n, p, r, flags(s.n, p, r))


@dataclass(frozen=True)
class Reliability:
    #: "KR-20" (right/wrong items of equal weight) or "Cronbach's α"
    method: str
    n: int
    k: int
    mean: float | None
    sd: float | None
    coefficient: float | None
    #: standard error of measurement, in points: SD · √(1 − reliability)
    sem: float | None
    #: why the coefficient is missing, for the page
    reason: str = ""


def reliability(
    items: Sequence[tuple[ItemSums, float]], n: int, sum_total: float, sum_total_sq: float
) -> Reliability:
    """KR-20 / Cronbach's α and the SEM for a quiz every attempt of which drew every item.

    ``items`` pairs each item's sums with its points; the totals are the attempts' points (n, Σt, Σt²).
    α = k/(k−1) · (1 − Σ var(points·x) / var(t)), with sample variances throughout (the n−1 cancels in
    the ratio, so for right/wrong items this equals KR-20 with Σpq).
    """
    k = len(items)
    dichotomous = all(s.dichotomous for s, _ in items) and len({pts for _, pts in items}) <= 1
    method = "KR-20" if dichotomous else "Cronbach's α"
    mean = sum_total / n if n else None
    var_t = (sum_total_sq - sum_total * sum_total / n) / (n - 1) if n >= 2 else None
    sd = math.sqrt(max(var_t, 0.0)) if var_t is not None else None

    def missing(reason: str) -> Reliability:
        return Reliability(method, n, k, mean, sd, None, None, reason)

    if k < 2:
        return missing("Reliability needs at least 2 graded questions.")
    if n < 2:
        return missing("Reliability needs at least 2 attempts.")
    if any(s.n != n for s, _ in items):
        return missing("Attempts drew different questions from a pool, so the questions cannot be compared.")
    assert var_t is not None and sd is not None
    if var_t <= _EPSILON:
        return missing("Every attempt scored the same, so reliability cannot be estimated.")
    item_var = sum(pts * pts * s.sxx / (n - 1) for s, pts in items)
    alpha = k / (k - 1) * (1 - item_var / var_t)
    sem = sd * math.sqrt(1 - alpha) if alpha >= 0 else None
    return Reliability(method, n, k, mean, sd, alpha, sem)


#: score bins of the histogram: [0, 10 %), [10, 20 %) … [90, 100 %]
BINS = 10


def score_bin(score: float) -> int:
    """The histogram bin of a score in [0, 1] (a full score falls in the last bin)."""
    return min(BINS - 1, max(0, math.floor(score * BINS + _EPSILON)))
